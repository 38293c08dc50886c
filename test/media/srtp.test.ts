import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { HmacSha1 } from '../../src/media/rtp/hmac-sha1.js';
import { PortPool } from '../../src/media/rtp/port-pool.js';
import { RtpSession } from '../../src/media/rtp/rtp-session.js';
import { SrtpContext, SrtpRejection, estimateIndex } from '../../src/media/rtp/srtp-context.js';
import { decodeMasterKey, deriveSessionKey, deriveSessionKeys, generateMasterKey, KeyLabel } from '../../src/media/rtp/srtp-keys.js';
import { until } from '../helpers/until.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
/** RFC 3711 B.3 master key and salt; libsrtp's srtp_driver validates its reference packets with them too. */
const master = hex('E1F97A0D3E018BE0D64FA32C06DE4139 0EC675AD498AFEEBB6960B3AABE6');

/** A packet buffer with room for the SRTP trailer. */
function packet(content: Buffer): Buffer {
  const buf = Buffer.alloc(content.length + 14);
  content.copy(buf);
  return buf;
}

function rtp(seq: number, ssrc = 0x11223344, payload = Buffer.alloc(160, 0x55)): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h.writeUInt16BE(seq, 2);
  h.writeUInt32BE(seq * 160, 4);
  h.writeUInt32BE(ssrc, 8);
  return packet(Buffer.concat([h, payload]));
}

describe('SRTP key derivation (RFC 3711 B.3)', () => {
  it('derives the cipher key, salt and authentication key of the appendix', () => {
    const keys = deriveSessionKeys(master);
    expect(keys.rtp.encryption.toString('hex')).toBe('c61e7a93744f39ee10734afe3ff7a087');
    expect(keys.rtp.salt.toString('hex')).toBe('30cbbc08863d8c85d49db34a9ae1');
    expect(keys.rtp.authentication.toString('hex')).toBe('cebe321f6ff7716b6fd4ab49af256a156d38baa4');
  });

  it('derives SRTCP keys with their own labels', () => {
    const keys = deriveSessionKeys(master);
    expect(keys.rtcp.encryption.equals(deriveSessionKey(master.subarray(0, 16), master.subarray(16), KeyLabel.RtcpEncryption, 16))).toBe(true);
    expect(keys.rtcp.encryption.equals(keys.rtp.encryption)).toBe(false);
  });
});

describe('AES-CM keystream (RFC 3711 B.2)', () => {
  it('generates the appendix keystream through the derivation PRF', () => {
    // B.2: session key 2B7E…, salt F0F1…FD, SSRC 0, index 0; the PRF is AES-CM with IV = salt·2^16, label 0 leaves it as is.
    const key = hex('2B7E151628AED2A6ABF7158809CF4F3C');
    const salt = hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD');
    const stream = deriveSessionKey(key, salt, KeyLabel.RtpEncryption, 48);
    expect(stream.toString('hex').toUpperCase()).toBe('E03EAD0935C95E80E166B16DD92B4EB4D23513162B02D0F72A43A2FE4A5F97AB41E95B3BB0A2E8DD477901E4FCA894C0');
    // Blocks 0xFEFF–0xFF01 of the same stream.
    const ctr = createCipheriv('aes-128-ctr', key, Buffer.concat([salt, Buffer.from([0xfe, 0xff])]));
    expect(ctr.update(Buffer.alloc(48)).toString('hex').toUpperCase()).toBe('EC8CDF7398607CB0F2D21675EA9EA1E4362B7C3C6773516318A077D7FC5073AE6A2CC3787889374FBEB4C81B17BA6C44');
  });
});

describe('SrtpContext', () => {
  it('protects libsrtp\'s reference RTP packet byte for byte, and unprotects it', () => {
    const plain = hex('800f1234decafbadcafebabe abababababababababababababababab');
    const expected = '800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb';
    const buf = packet(plain);
    const length = new SrtpContext(master).protectRtp(buf, plain.length);
    expect(buf.subarray(0, length).toString('hex')).toBe(expected);
    const rx = packet(hex(expected));
    const back = new SrtpContext(master).unprotectRtp(rx, expected.length / 2);
    expect(rx.subarray(0, back).equals(plain)).toBe(true);
  });

  it('unprotects libsrtp\'s reference SRTCP packet (E set, index 1)', () => {
    const srtcp = hex('81c8000bcafebabe7128035be487b9bdbef89041f977a5a880000001993e08cd54d6c1230798');
    const length = new SrtpContext(master).unprotectRtcp(srtcp, srtcp.length);
    expect(srtcp.subarray(0, length).toString('hex')).toBe('81c8000bcafebabe' + 'ab'.repeat(16));
  });

  it('round-trips RTP and RTCP and refuses tampered, replayed and foreign-key packets', () => {
    const tx = new SrtpContext(master);
    const rx = new SrtpContext(master);
    const original = rtp(7);
    const sent = Buffer.from(original);
    const length = tx.protectRtp(sent, 172);
    expect(length).toBe(182);
    expect(sent.subarray(12, 172).equals(original.subarray(12, 172))).toBe(false);
    const copy = Buffer.from(sent);
    expect(rx.unprotectRtp(sent, length)).toBe(172);
    expect(sent.subarray(0, 172).equals(original.subarray(0, 172))).toBe(true);
    expect(rx.unprotectRtp(copy, length)).toBe(SrtpRejection.Replay);

    const tampered = rtp(8);
    const n = tx.protectRtp(tampered, 172);
    tampered[40]! ^= 1;
    expect(rx.unprotectRtp(tampered, n)).toBe(SrtpRejection.Authentication);

    const other = new SrtpContext(Buffer.alloc(30, 7));
    const wrong = rtp(9);
    expect(rx.unprotectRtp(wrong, other.protectRtp(wrong, 172))).toBe(SrtpRejection.Authentication);

    const report = packet(hex('80c90001' + '11223344'));
    const sr = tx.protectRtcp(report, 8);
    expect(sr).toBe(22);
    const again = Buffer.from(report);
    expect(rx.unprotectRtcp(report, sr)).toBe(8);
    expect(report.subarray(0, 8).toString('hex')).toBe('80c9000111223344');
    expect(rx.unprotectRtcp(again, sr)).toBe(SrtpRejection.Replay);
  });

  it('carries the rollover counter across a sequence wrap and accepts late packets from before it', () => {
    const tx = new SrtpContext(master);
    const rx = new SrtpContext(master);
    const send = (seq: number): [Buffer, number] => {
      const b = rtp(seq);
      return [b, tx.protectRtp(b, 172)];
    };
    for (const seq of [65533, 65534]) expect(rx.unprotectRtp(...send(seq))).toBe(172);
    const late = send(65535);
    for (const seq of [0, 1, 2]) expect(rx.unprotectRtp(...send(seq))).toBe(172);
    // Index 65535 (ROC 0) arrives after 65538 (ROC 1): still authentic, still new.
    expect(rx.unprotectRtp(...late)).toBe(172);
    const [b, n] = send(3);
    expect(rx.unprotectRtp(b, n)).toBe(172);
    expect(b.readUInt16BE(2)).toBe(3);
  });

  it('estimates the index around the rollover (RFC 3711 Appendix A)', () => {
    expect(estimateIndex(-1, 5)).toBe(5);
    expect(estimateIndex(65535, 0)).toBe(65536);
    expect(estimateIndex(65536 + 2, 65535)).toBe(65535);
    expect(estimateIndex(1, 65535)).toBe(-1);
    expect(estimateIndex(3 * 65536 + 100, 99)).toBe(3 * 65536 + 99);
  });

  it('starts a new stream only for a new SSRC that authenticates', () => {
    const rx = new SrtpContext(master);
    const a = new SrtpContext(master);
    const first = rtp(1000, 1);
    expect(rx.unprotectRtp(first, a.protectRtp(first, 172))).toBe(172);
    const b = new SrtpContext(master);
    const second = rtp(5, 2);
    expect(rx.unprotectRtp(second, b.protectRtp(second, 172))).toBe(172);
  });
});

describe('rtpSession with SRTP', () => {
  const pool = new PortPool({ min: 31060, max: 31069, bindAddress: '127.0.0.1' });
  const ours = generateMasterKey();
  const theirs = generateMasterKey();

  async function socket(): Promise<dgram.Socket> {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    return s;
  }

  it('latches only to authenticated packets, and sends SRTP and SRTCP the peer can read', async () => {
    const lease = await pool.allocate();
    const session = new RtpSession(lease, { jitter: { prefetch: 1 } });
    const peer = await socket();
    const attacker = await socket();
    const peerTx = new SrtpContext(decodeMasterKey(theirs)!);
    const peerRx = new SrtpContext(decodeMasterKey(ours)!);
    try {
      session.setRemote({ address: '127.0.0.1', port: 9 });
      session.setSrtp({ suite: 'AES_CM_128_HMAC_SHA1_80', local: ours, remote: theirs });
      expect(session.encrypted).toBe(true);
      // A plain RTP packet, and one protected with another key, arrive first: neither may take the latch.
      const plain = rtp(1);
      attacker.send(plain.subarray(0, 172), lease.port, '127.0.0.1');
      const forged = rtp(2);
      attacker.send(forged.subarray(0, new SrtpContext(Buffer.alloc(30, 9)).protectRtp(forged, 172)), lease.port, '127.0.0.1');
      await until(async () => session.stats.droppedUnauthenticated === 2, 5000);
      expect(session.latched).toBe(false);
      const real = rtp(3);
      peer.send(real.subarray(0, peerTx.protectRtp(real, 172)), lease.port, '127.0.0.1');
      await until(async () => session.latched, 5000);
      expect(session.remote).toEqual({ address: '127.0.0.1', port: peer.address().port });
      expect(session.stats.packetsReceived).toBe(1);

      const received = new Promise<Buffer>((r) => peer.once('message', r));
      const buf = session.nextBuffer();
      buf.fill(0x42, 12, 172);
      session.send(buf, 160, 0, true, 1234);
      const msg = Buffer.concat([await received, Buffer.alloc(16)]);
      expect(msg.subarray(12, 172).every((b) => b === 0x42)).toBe(false);
      expect(peerRx.unprotectRtp(msg, msg.length - 16)).toBe(172);
      expect(msg.subarray(12, 172).every((b) => b === 0x42)).toBe(true);
    } finally {
      session.close();
      pool.release(lease);
      peer.close();
      attacker.close();
    }
  });
});

describe('HmacSha1', () => {
  it('matches RFC 2202 test case 2 and node:crypto for every length around the block edges, with and without a ROC', () => {
    const jefe = new HmacSha1(Buffer.from('Jefe'));
    expect(Buffer.from(jefe.mac(Buffer.from('what do ya want for nothing?'), 28)).toString('hex')).toBe('effcdf6ae5eb2fa2d27416d5f184df9c259a7c79');
    const key = randomBytes(20);
    const ours = new HmacSha1(key);
    const data = randomBytes(400);
    for (let length = 0; length <= 400; length++) {
      const roc = length * 7919;
      const expected = createHmac('sha1', key).update(data.subarray(0, length)).update(Buffer.from([roc >>> 24, (roc >>> 16) & 0xff, (roc >>> 8) & 0xff, roc & 0xff])).digest('hex');
      expect(Buffer.from(ours.mac(data, length, roc)).toString('hex')).toBe(expected);
      expect(Buffer.from(ours.mac(data, length)).toString('hex')).toBe(createHmac('sha1', key).update(data.subarray(0, length)).digest('hex'));
    }
    const long = new HmacSha1(Buffer.alloc(80, 0xaa));
    expect(Buffer.from(long.mac(data, 50)).toString('hex')).toBe(createHmac('sha1', Buffer.alloc(80, 0xaa)).update(data.subarray(0, 50)).digest('hex'));
  });
});
