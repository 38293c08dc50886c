import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { PCMU } from '../../src/media/codecs/codec.js';
import { decodePcmu } from '../../src/media/codecs/g711.js';
import { InboundFramer } from '../../src/media/rtp/inbound-framer.js';
import { JitterBuffer } from '../../src/media/rtp/jitter-buffer.js';
import { PortPool, type PortLease } from '../../src/media/rtp/port-pool.js';
import { parseReport, writeReport } from '../../src/media/rtp/rtcp.js';
import { createRtpHeader, parseRtp, seqDiff, writeRtpHeader } from '../../src/media/rtp/rtp-packet.js';
import { RtpSession } from '../../src/media/rtp/rtp-session.js';
import { MediaClock } from '../../src/media/media-clock.js';
import { until } from '../helpers/until.js';
import { delay } from './helpers.js';

/** Waits (polling every 10 ms) for a condition on a session. */
const when = (check: () => boolean): Promise<true> => until(async () => check(), 5000, 10);

function packet(seq: number, ts: number, ssrc: number, payload: number[], pt = 0): Buffer {
  const buf = Buffer.alloc(12 + payload.length);
  writeRtpHeader(buf, pt, false, seq, ts, ssrc);
  buf.set(payload, 12);
  return buf;
}

describe('rtpPacket', () => {
  it('writes and parses the fixed header', () => {
    const buf = packet(65535, 0xdeadbeef, 0x12345678, [1, 2, 3]);
    const h = createRtpHeader();
    expect(parseRtp(buf, buf.length, h)).toBe(true);
    expect(h).toMatchObject({ payloadType: 0, sequence: 65535, timestamp: 0xdeadbeef, ssrc: 0x12345678, payloadOffset: 12, payloadLength: 3 });
  });

  it('skips CSRCs and header extensions and removes padding', () => {
    const buf = Buffer.alloc(12 + 4 + 8 + 4);
    writeRtpHeader(buf, 8, true, 1, 2, 3);
    buf[0] = 0x80 | 0x20 | 0x10 | 1; // padding, extension, one CSRC
    buf.writeUInt16BE(1, 16 + 2); // extension of one word
    buf[buf.length - 1] = 2; // two bytes of padding
    const h = createRtpHeader();
    expect(parseRtp(buf, buf.length, h)).toBe(true);
    expect(h.marker).toBe(true);
    expect(h.payloadOffset).toBe(24);
    expect(h.payloadLength).toBe(2);
  });

  it('rejects non-RTP data', () => {
    const h = createRtpHeader();
    expect(parseRtp(Buffer.from('hello world!'), 12, h)).toBe(false);
    expect(parseRtp(Buffer.alloc(4), 4, h)).toBe(false);
  });

  it('compares sequence numbers across the wrap', () => {
    expect(seqDiff(0, 65535)).toBe(1);
    expect(seqDiff(65535, 0)).toBe(-1);
    expect(seqDiff(100, 90)).toBe(10);
  });
});

describe('jitterBuffer', () => {
  const pop = (jb: JitterBuffer): string => {
    const r = jb.pop();
    return r === 'frame' ? String(jb.payload[0]) : r;
  };

  it('reorders packets and plays them in sequence order after the prefetch', () => {
    const jb = new JitterBuffer({ prefetch: 3 });
    for (const seq of [11, 10, 13, 12]) jb.push(seq, Uint8Array.of(seq), 0, 1);
    expect([pop(jb), pop(jb), pop(jb), pop(jb), pop(jb)]).toEqual(['10', '11', '12', '13', 'empty']);
  });

  it('drains delay left by a burst back to the prefetch depth, one packet per window', () => {
    const jb = new JitterBuffer({ prefetch: 3, shrinkWindow: 10 });
    let seq = 100;
    const send = () => jb.push(seq, Uint8Array.of(seq++ & 0xff), 0, 1);
    // Steady 20 ms flow: one packet in, one out, depth stays at the prefetch.
    for (let i = 0; i < 3; i++) send();
    for (let i = 0; i < 30; i++) { send(); jb.pop(); }
    expect(jb.size).toBe(3);
    // A 100 ms stall then the burst: the buffer underruns, refills, and holds 5 extra packets.
    for (let i = 0; i < 3; i++) jb.pop();
    jb.pop();
    for (let i = 0; i < 8; i++) send();
    for (let i = 0; i < 5; i++) { send(); jb.pop(); }
    const afterBurst = jb.size;
    expect(afterBurst).toBeGreaterThan(4);
    // Steady flow again: the excess drains away, 20 ms per window, and stops at the prefetch.
    for (let i = 0; i < 120; i++) { send(); jb.pop(); }
    expect(jb.size).toBeLessThanOrEqual(4);
    expect(jb.stats.shrunk).toBe(afterBurst - jb.size);
    expect(jb.stats.lost).toBe(0);
  });

  it('waits for the prefetch before starting', () => {
    const jb = new JitterBuffer({ prefetch: 2 });
    jb.push(1, Uint8Array.of(1), 0, 1);
    expect(jb.pop()).toBe('empty');
    jb.push(2, Uint8Array.of(2), 0, 1);
    expect(pop(jb)).toBe('1');
  });

  it('reports a gap as lost and drops the late packet that fills it afterwards', () => {
    const jb = new JitterBuffer({ prefetch: 2 });
    for (const seq of [1, 3, 4]) jb.push(seq, Uint8Array.of(seq), 0, 1);
    expect([pop(jb), pop(jb), pop(jb)]).toEqual(['1', 'lost', '3']);
    jb.push(2, Uint8Array.of(2), 0, 1);
    expect(jb.stats.late).toBe(1);
    expect(pop(jb)).toBe('4');
  });

  it('ignores duplicates and handles the 16-bit wrap', () => {
    const jb = new JitterBuffer({ prefetch: 2 });
    for (const seq of [65534, 65535, 65535, 0, 1]) jb.push(seq, Uint8Array.of(seq & 0xff), 0, 1);
    expect(jb.stats.duplicate).toBe(1);
    expect([pop(jb), pop(jb), pop(jb), pop(jb)]).toEqual(['254', '255', '0', '1']);
  });

  it('discards the oldest packet when more than maxDepth are held, bounding latency', () => {
    const jb = new JitterBuffer({ prefetch: 2, maxDepth: 4 });
    for (let seq = 1; seq <= 7; seq++) jb.push(seq, Uint8Array.of(seq), 0, 1);
    // 7 held > 4: one packet is skipped per pop (1, then 3) until the depth is back to 4.
    expect([pop(jb), pop(jb), pop(jb), pop(jb), pop(jb), pop(jb)]).toEqual(['2', '4', '5', '6', '7', 'empty']);
    expect(jb.stats.discarded).toBe(2);
  });

  it('restarts when the stream jumps far ahead', () => {
    const jb = new JitterBuffer({ prefetch: 1 });
    jb.push(1, Uint8Array.of(1), 0, 1);
    expect(pop(jb)).toBe('1');
    jb.push(5000, Uint8Array.of(9), 0, 1);
    expect(pop(jb)).toBe('9');
  });

  it('drains delay with a quiet packet when it can, and with a loud one once it has waited too long', () => {
    const build = (maxShrinkWait: number): { jb: JitterBuffer; send: (quiet: boolean) => void } => {
      const jb = new JitterBuffer({ prefetch: 3, shrinkWindow: 10, maxShrinkWait });
      jb.quietPayload = (payload) => payload[0] === 0;
      let seq = 100;
      return { jb, send: (quiet) => jb.push(seq++, Uint8Array.of(quiet ? 0 : 9), 0, 1) };
    };
    // Six packets held: two more than needed. Loud audio flows, the drain falls due and waits.
    const { jb, send } = build(20);
    for (let i = 0; i < 6; i++) send(false);
    for (let i = 0; i < 15; i++) { send(false); jb.pop(); }
    expect(jb.stats.shrunk).toBe(0);
    // A quiet packet reaches the playout point: that is the one dropped, never played.
    const played: number[] = [];
    for (let i = 0; i < 12; i++) {
      send(i === 0);
      if (jb.pop() === 'frame') played.push(jb.payload[0] ?? -1);
    }
    expect(jb.stats.shrunk).toBe(1);
    expect(played).not.toContain(0);
    // With no quiet packet at all, a loud one goes after maxShrinkWait pops.
    const loud = build(20);
    for (let i = 0; i < 6; i++) loud.send(false);
    for (let i = 0; i < 10 + 21; i++) { loud.send(false); loud.jb.pop(); }
    expect(loud.jb.stats.shrunk).toBe(1);
  });

  it('holds a 20 ms G.711 stream in small slots and grows them once for longer packets, keeping what is queued', () => {
    const jb = new JitterBuffer({ prefetch: 2 });
    expect(jb.allocatedBytes).toBe(32 * 320);
    const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);
    jb.push(1, bytes(160, 1), 0, 160);
    jb.push(2, bytes(480, 2), 0, 480); // a 60 ms packet arrives while packet 1 is queued
    expect(jb.allocatedBytes).toBe(32 * 480);
    expect(jb.pop()).toBe('frame');
    expect([jb.payloadLength, jb.payload[0], jb.payload[159]]).toEqual([160, 1, 1]);
    expect(jb.pop()).toBe('frame');
    expect([jb.payloadLength, jb.payload[0], jb.payload[479]]).toEqual([480, 2, 2]);
    // Never beyond maxPayload: longer packets are cut there, as before.
    const capped = new JitterBuffer({ prefetch: 1, maxPayload: 400 });
    capped.push(1, bytes(1000, 3), 0, 1000);
    expect(capped.allocatedBytes).toBe(32 * 400);
    expect(capped.pop()).toBe('frame');
    expect(capped.payloadLength).toBe(400);
  });
});

describe('inboundFramer', () => {
  it('cuts 60 ms packets into 20 ms frames, growing its buffers for them', () => {
    const jb = new JitterBuffer({ prefetch: 1 });
    const framer = new InboundFramer();
    const payload = new Uint8Array(480).map((_, i) => 0x80 + (i % 64));
    jb.push(7, payload, 0, payload.length);
    const expected = new Int16Array(480);
    decodePcmu(payload, expected);
    const out = new Int16Array(160);
    for (let f = 0; f < 3; f++) {
      expect(framer.next(jb, PCMU, out)).toBe(true);
      expect(Array.from(out)).toEqual(Array.from(expected.subarray(f * 160, (f + 1) * 160)));
    }
    // Then a loss: the last 60 ms packet is repeated at half level.
    jb.push(9, payload, 0, payload.length);
    expect(framer.next(jb, PCMU, out)).toBe(true);
    expect(out[0]).toBe(Math.trunc((expected[0] ?? 0) / 2));
  });
});

describe('rtcp', () => {
  it('writes an SR with a report block that parses back', () => {
    const buf = new Uint8Array(256);
    const len = writeReport(buf, 42, { unixMs: Date.now(), rtpTimestamp: 1000, packets: 10, octets: 1600 }, {
      remoteSsrc: 7, fractionLost: 25, cumulativeLost: 3, extendedHighestSeq: 500, jitter: 12, lastSr: 0, delaySinceLastSr: 0,
    });
    expect(len).toBe(52);
    const r = parseReport(buf, len);
    expect(r).toMatchObject({ kind: 'SR', ssrc: 42, packetCount: 10, octetCount: 1600, fractionLost: 25, cumulativeLost: 3, jitter: 12 });
  });

  it('writes an RR when nothing was sent', () => {
    const buf = new Uint8Array(256);
    const len = writeReport(buf, 42, undefined, undefined);
    expect(parseReport(buf, len)).toEqual({ kind: 'RR', ssrc: 42 });
  });
});

describe('portPool', () => {
  const pool = new PortPool({ min: 31000, max: 31009, bindAddress: '127.0.0.1' });
  const leases: PortLease[] = [];
  afterEach(() => {
    for (const l of leases.splice(0)) pool.release(l);
  });

  it('hands out even ports with RTCP on port+1 and takes them back', async () => {
    const a = await pool.allocate();
    leases.push(a);
    expect(a.port % 2).toBe(0);
    expect(a.rtcp.address().port).toBe(a.port + 1);
    expect(pool.inUse).toBe(1);
    pool.release(a);
    pool.release(a);
    expect(pool.inUse).toBe(0);
  });

  it('skips ports held by another process and fails when the range is exhausted', async () => {
    const squatter = dgram.createSocket('udp4');
    await new Promise<void>((r) => squatter.bind(31002, '127.0.0.1', r));
    try {
      const got: number[] = [];
      for (let i = 0; i < 4; i++) {
        const l = await pool.allocate();
        leases.push(l);
        got.push(l.port);
      }
      expect(got).not.toContain(31002);
      await expect(pool.allocate()).rejects.toThrow(/no free RTP port/);
    } finally {
      squatter.close();
    }
  });
});

describe('rtpSession', () => {
  const pool = new PortPool({ min: 31020, max: 31039, bindAddress: '127.0.0.1' });

  async function socket(): Promise<dgram.Socket> {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    return s;
  }

  it('latches to the first source and drops packets of another stream from others', async () => {
    const lease = await pool.allocate();
    const session = new RtpSession(lease, { jitter: { prefetch: 1 } });
    const first = await socket();
    const other = await socket();
    try {
      session.setRemote({ address: '127.0.0.1', port: 9 }); // SDP says port 9; NAT means packets come from elsewhere
      first.send(packet(1, 160, 1, [0xff]), lease.port, '127.0.0.1');
      await delay(30);
      other.send(packet(2, 320, 2, [0xff]), lease.port, '127.0.0.1');
      await delay(30);
      expect(session.latched).toBe(true);
      expect(session.remote).toEqual({ address: '127.0.0.1', port: first.address().port });
      expect(session.stats.packetsReceived).toBe(1);
      expect(session.stats.droppedForeign).toBe(1);

      // Media now goes to the latched source, not to the SDP address.
      const received = new Promise<Buffer>((r) => first.once('message', r));
      const buf = session.nextBuffer();
      buf[12] = 0x55;
      session.send(buf, 1, 0, true, 1234);
      const msg = await received;
      const h = createRtpHeader();
      expect(parseRtp(msg, msg.length, h)).toBe(true);
      expect(h).toMatchObject({ timestamp: 1234, ssrc: session.ssrc, marker: true, payloadLength: 1 });
    } finally {
      session.close();
      pool.release(lease);
      first.close();
      other.close();
    }
  });

  it('moves the latch to the address from SDP when the real far end shows up after a stray packet', async () => {
    const lease = await pool.allocate();
    const session = new RtpSession(lease);
    const stray = await socket();
    const real = await socket();
    try {
      session.setRemote({ address: '127.0.0.1', port: real.address().port });
      stray.send(packet(1, 160, 9, [0xff]), lease.port, '127.0.0.1');
      await delay(30);
      expect(session.remote?.port).toBe(stray.address().port);
      real.send(packet(1, 160, 1, [0xff]), lease.port, '127.0.0.1');
      await delay(30);
      expect(session.remote?.port).toBe(real.address().port);
      stray.send(packet(2, 320, 9, [0xff]), lease.port, '127.0.0.1');
      await delay(30);
      expect(session.stats.droppedForeign).toBe(1);
    } finally {
      session.close();
      pool.release(lease);
      stray.close();
      real.close();
    }
  });

  it('follows its stream (same SSRC) to a new source at once: a NAT that rebinds the port mid-call', async () => {
    const lease = await pool.allocate();
    const session = new RtpSession(lease);
    const before = await socket();
    const after = await socket();
    const stranger = await socket();
    try {
      session.setRemote({ address: '192.0.2.50', port: 40000 }); // the private address the phone put in its SDP
      before.send(packet(1, 160, 0x1234, [0xff]), lease.port, '127.0.0.1');
      await when(() => session.stats.packetsReceived === 1);
      after.send(packet(2, 320, 0x1234, [0xff]), lease.port, '127.0.0.1');
      await when(() => session.remote?.port === after.address().port);
      // The old mapping is gone: its packets, and another stream's, are foreign now.
      before.send(packet(3, 480, 0x9999, [0xff]), lease.port, '127.0.0.1');
      stranger.send(packet(1, 160, 0x7777, [0xff]), lease.port, '127.0.0.1');
      await when(() => session.stats.droppedForeign === 2);
      expect(session.remote?.port).toBe(after.address().port);
      const received = new Promise<dgram.RemoteInfo>((r) => after.once('message', (_m, rinfo) => r(rinfo)));
      session.send(session.nextBuffer(), 1, 0, false, 1);
      expect((await received).port).toBe(lease.port);
    } finally {
      session.close();
      pool.release(lease);
      before.close();
      after.close();
      stranger.close();
    }
  });

  it('lets another source take over only once the latched one has been silent for 1 s', async () => {
    const lease = await pool.allocate();
    const session = new RtpSession(lease);
    const phone = await socket();
    const moved = await socket();
    try {
      session.setRemote({ address: '192.0.2.50', port: 40000 });
      phone.send(packet(1, 160, 1, [0xff]), lease.port, '127.0.0.1');
      await when(() => session.latched);
      // The phone keeps talking; a new source with a new SSRC is refused.
      const talking = setInterval(() => phone.send(packet(2, 320, 1, [0xff]), lease.port, '127.0.0.1'), 20);
      await delay(300);
      moved.send(packet(1, 160, 2, [0xff]), lease.port, '127.0.0.1');
      await when(() => session.stats.droppedForeign === 1);
      clearInterval(talking);
      expect(session.remote?.port).toBe(phone.address().port);
      // Silent for under a second: still refused.
      await delay(500);
      moved.send(packet(2, 320, 2, [0xff]), lease.port, '127.0.0.1');
      await when(() => session.stats.droppedForeign === 2);
      expect(session.remote?.port).toBe(phone.address().port);
      // Silent for a second: the new source is the peer now (it moved, or re-INVITEd without telling us).
      await delay(700);
      moved.send(packet(3, 480, 2, [0xff]), lease.port, '127.0.0.1');
      await when(() => session.remote?.port === moved.address().port);
      expect(session.stats.droppedForeign).toBe(2);
    } finally {
      session.close();
      pool.release(lease);
      phone.close();
      moved.close();
    }
  });

  it('ignores packets with an unexpected payload type', async () => {
    const lease = await pool.allocate();
    const session = new RtpSession(lease);
    const s = await socket();
    try {
      session.setRemote({ address: '127.0.0.1', port: s.address().port });
      s.send(packet(1, 160, 1, [1], 18), lease.port, '127.0.0.1');
      await delay(30);
      expect(session.latched).toBe(false);
      expect(session.stats.droppedInvalid).toBe(1);
    } finally {
      session.close();
      pool.release(lease);
      s.close();
    }
  });

  it('takes, latches and sends nothing before the SDP names the far end (an offer waiting for its answer)', async () => {
    const lease = await pool.allocate();
    const session = new RtpSession(lease, { jitter: { prefetch: 1 } });
    const early = await socket();
    const heard: Buffer[] = [];
    early.on('message', (msg: Buffer) => heard.push(msg));
    try {
      // The answerer's media beats its answer (it starts as it sends the 200 OK): not latched, not answered.
      early.send(packet(1, 160, 7, [0xff]), lease.port, '127.0.0.1');
      early.send(Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 7]), lease.port + 1, '127.0.0.1');
      await until(async () => session.stats.droppedBeforeRemote === 2, 5000);
      expect(session.latched).toBe(false);
      expect(session.stats.packetsReceived).toBe(0);
      session.send(session.nextBuffer(), 160, 0, true, 160);
      session.sendRtcp();
      // The answer names the far end: its next packet latches and is answered.
      session.setRemote({ address: '127.0.0.1', port: early.address().port });
      early.send(packet(2, 320, 7, [0xff]), lease.port, '127.0.0.1');
      await until(async () => session.latched, 5000);
      session.send(session.nextBuffer(), 160, 0, true, 320);
      await until(async () => heard.length === 1, 5000);
      const h = createRtpHeader();
      expect(parseRtp(heard[0]!, heard[0]!.length, h)).toBe(true);
      expect(h.timestamp).toBe(320);
      expect(session.stats).toMatchObject({ packetsSent: 1, packetsReceived: 1, droppedBeforeRemote: 2 });
    } finally {
      session.close();
      pool.release(lease);
      early.close();
    }
  });

  it('sends RTCP sender reports to port+1', async () => {
    const lease = await pool.allocate();
    const session = new RtpSession(lease);
    const rtcp = dgram.createSocket('udp4');
    await new Promise<void>((r) => rtcp.bind(31051, '127.0.0.1', r));
    try {
      session.setRemote({ address: '127.0.0.1', port: 31050 });
      const buf = session.nextBuffer();
      session.send(buf, 160, 0, false, 160);
      const got = new Promise<Buffer>((r) => rtcp.once('message', r));
      session.sendRtcp();
      const msg = await got;
      expect(parseReport(msg, msg.length)).toMatchObject({ kind: 'SR', ssrc: session.ssrc, packetCount: 1, octetCount: 160 });
    } finally {
      session.close();
      pool.release(lease);
      rtcp.close();
    }
  });
});

describe('mediaClock', () => {
  it('runs the phases of a tick in order: receive, mix, send', () => {
    const clock = new MediaClock({ autoStart: false });
    const order: string[] = [];
    clock.add('send', () => order.push('send'));
    clock.add('receive', () => order.push('receive'));
    const off = clock.add('mix', () => order.push('mix'));
    clock.runTick();
    off();
    clock.runTick();
    expect(order).toEqual(['receive', 'mix', 'send', 'receive', 'send']);
  });

  it('ticks on its own while something is subscribed and stops after the last unsubscribes', async () => {
    const clock = new MediaClock();
    let ticks = 0;
    const off = clock.add('receive', () => ticks++);
    expect(clock.running).toBe(true);
    await delay(150);
    off();
    expect(clock.running).toBe(false);
    expect(ticks).toBeGreaterThan(2);
  });

  it('keeps ticking when a handler throws', () => {
    const clock = new MediaClock({ autoStart: false });
    let ran = false;
    clock.add('receive', () => {
      throw new Error('boom');
    });
    clock.add('send', () => (ran = true));
    clock.runTick();
    expect(ran).toBe(true);
  });

  it('counts late ticks, catch-up ticks, re-bases and the longest tick, so starvation shows before callers hear it', async () => {
    const clock = new MediaClock({ intervalMs: 20, maxCatchUp: 5 });
    const busy = (ms: number): void => {
      const until = performance.now() + ms;
      while (performance.now() < until) {
        // A blocked event loop, as under CPU starvation.
      }
    };
    let n = 0;
    const unsubscribe = clock.add('receive', () => {
      n++;
      if (n === 3) busy(70); // the next ticks run late and back to back
      if (n === 12) busy(200); // more than maxCatchUp ticks behind: re-base
    });
    await delay(600);
    unsubscribe();
    expect(clock.stats.ticks).toBe(n);
    expect(clock.stats.maxTickMs).toBeGreaterThanOrEqual(195);
    expect(clock.stats.catchUp).toBeGreaterThanOrEqual(2);
    expect(clock.stats.late).toBeGreaterThanOrEqual(2);
    expect(clock.stats.rebases).toBe(1);
    expect(clock.skipped).toBeGreaterThanOrEqual(5);
  });
});
