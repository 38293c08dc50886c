import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallLeg, SrtpRefusedError } from '../../src/legs/call-leg.js';
import { MediaEngine } from '../../src/media/engine.js';
import { SrtpContext } from '../../src/media/rtp/srtp-context.js';
import { decodeMasterKey, generateMasterKey } from '../../src/media/rtp/srtp-keys.js';
import { silentLogger } from '../../src/shared/log.js';
import { parseSdp } from '../../src/sip/index.js';
import { SipUserAgent } from '../../src/sip/ua/sip-user-agent.js';
import { until } from '../helpers/until.js';

const suite = 'AES_CM_128_HMAC_SHA1_80';

describe('callLeg.dial() with SRTP', () => {
  let ua: SipUserAgent;
  let media: MediaEngine;
  beforeAll(async () => {
    ua = new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], publicHost: '127.0.0.1' });
    await ua.start();
    media = new MediaEngine({ portMin: 31950, portMax: 31959, bindAddress: '127.0.0.1', rtpTimeoutMs: 0 });
  });
  afterAll(async () => {
    await ua.close();
    await media.close();
  });

  it('refuses a mandatory-SRTP target reached over UDP before it allocates anything: the keys would travel in clear', async () => {
    await expect(CallLeg.dial(ua, media, { uri: 'sip:+254712000001@127.0.0.1:9', from: 'sip:+254700000001@127.0.0.1', srtp: 'mandatory', label: 'carrier' }, silentLogger))
      .rejects.toBeInstanceOf(SrtpRefusedError);
    expect(ua.keysMayTravelTo('sip:a@127.0.0.1:9')).toBe(false);
    expect(ua.keysMayTravelTo('sip:a@127.0.0.1:9;transport=tls')).toBe(true);
    expect(ua.keysMayTravelTo('sips:a@127.0.0.1')).toBe(true);
    expect(ua.keysMayTravelTo('sip:a@127.0.0.1', 'sip:proxy.example.com;transport=tls')).toBe(true);
  });

  /**
   * Issue 17: baresip starts its SRTP as it sends its 200 OK, which reaches us (over TLS) a moment later. The leg
   * must not latch to those packets and answer them with plain RTP: before the answer it has no key to check
   * them with nor one the peer could read ours with. The peer here is a raw socket that sends SRTP for 200 ms
   * before it answers and keeps every packet that reaches it.
   */
  it('sends nothing to an RTP/SAVP peer whose SRTP beats its answer, and only SRTP the peer can read after it', async () => {
    const dialler = new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], publicHost: '127.0.0.1', sdesOverInsecureTransport: true });
    const callee = new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], publicHost: '127.0.0.1' });
    await dialler.start();
    await callee.start();
    const phone = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => phone.bind(0, '127.0.0.1', resolve));
    const received: Array<{ packet: Buffer; afterAnswer: boolean }> = [];
    let answered = false;
    phone.on('message', (packet) => received.push({ packet, afterAnswer: answered }));
    const phoneKey = generateMasterKey();
    const phoneTx = new SrtpContext(decodeMasterKey(phoneKey)!);
    let sender: NodeJS.Timeout | undefined;
    let sequence = 1;
    let offered = '';
    callee.on('invite', (call) => {
      offered = call.sdp!;
      const offer = parseSdp(call.sdp!).media[0]!;
      const send = (): void => {
        const packet = Buffer.alloc(12 + 160 + 10, 0xff);
        packet[0] = 0x80;
        packet[1] = 0; // PCMU
        packet.writeUInt16BE(sequence, 2);
        packet.writeUInt32BE(sequence * 160, 4);
        packet.writeUInt32BE(0x5eed, 8);
        sequence++;
        phone.send(packet.subarray(0, phoneTx.protectRtp(packet, 172)), offer.port, '127.0.0.1');
      };
      sender = setInterval(send, 20);
      void until(async () => sequence > 10, 5000).then(() => {
        answered = true;
        call.answer(['v=0', 'o=phone 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${phone.address().port} RTP/SAVP 0`,
          'a=rtpmap:0 PCMU/8000', `a=crypto:${offer.crypto?.[0]?.id ?? 1} ${suite} inline:${phoneKey}`, ''].join('\r\n'));
      });
    });
    try {
      const leg = await CallLeg.dial(dialler, media, {
        uri: `sip:+254712000002@127.0.0.1:${callee.transports[0]!.local.port}`, from: 'sip:+254700000001@127.0.0.1', srtp: 'mandatory', label: 'phone',
      }, silentLogger);
      await until(async () => offered !== '', 5000);
      const offer = parseSdp(offered).media[0]!;
      expect(offer.protocol).toBe('RTP/SAVP');
      const legRx = new SrtpContext(decodeMasterKey(offer.crypto![0]!.config.replace(/^inline:/, ''))!);
      await until(async () => received.filter((r) => r.afterAnswer).length >= 10, 10_000);
      await leg.hangup();
      expect(received.filter((r) => !r.afterAnswer).map((r) => r.packet.length), 'the leg sent before it had the answer').toEqual([]);
      // Every packet authenticates with the key the leg offered: none is plain RTP (172 bytes of PCMU) or under another key.
      const unreadable = received.filter(({ packet }) => legRx.unprotectRtp(Buffer.concat([packet, Buffer.alloc(16)]), packet.length) < 0);
      expect(unreadable.map((r) => r.packet.length)).toEqual([]);
    } finally {
      clearInterval(sender);
      phone.close();
      await callee.close();
      await dialler.close();
    }
  });
});
