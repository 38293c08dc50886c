import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePcmu } from '../../src/media/codecs/g711.js';
import { MediaEngine } from '../../src/media/engine.js';
import { writeRtpHeader } from '../../src/media/rtp/rtp-packet.js';
import type { MediaEndpoint } from '../../src/media/endpoint.js';
import type { DtmfEvent } from '../../src/media/dtmf/digits.js';
import { PcmSource } from '../../src/media/sources/audio-source.js';
import { dtmfTones, tone, ToneSource } from '../../src/media/sources/tones.js';
import { decodeWav } from '../../src/media/sources/wav.js';
import { captureInbound, connect, delay, rms, sine, toneAmplitude, waitFor } from './helpers.js';

let engine: MediaEngine;
let dir: string;

beforeAll(async () => {
  engine = new MediaEngine({ portMin: 31100, portMax: 31199, bindAddress: '127.0.0.1', rtpTimeoutMs: 400 });
  dir = await mkdtemp(path.join(tmpdir(), 'sautikit-media-'));
});

afterAll(async () => {
  await engine.close();
  expect(engine.ports.inUse).toBe(0);
  await rm(dir, { recursive: true, force: true });
});

async function pair(codecA: 'PCMU' | 'PCMA' = 'PCMU', codecB = codecA, te: number | null = 101): Promise<[MediaEndpoint, MediaEndpoint]> {
  const a = await engine.createEndpoint({ id: 'a' });
  const b = await engine.createEndpoint({ id: 'b' });
  connect(a, b, codecA, codecB, te);
  return [a, b];
}

async function closeAll(...eps: MediaEndpoint[]): Promise<void> {
  await Promise.all(eps.map((e) => e.close()));
}

/** Resolves once `check()` holds; rejects after `ms`. */
async function until(check: () => boolean, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await delay(10);
  }
}

describe('mediaEndpoint', () => {
  it('plays a tone that the other end hears at the right frequency', async () => {
    const [a, b] = await pair();
    const heard = captureInbound(b, 400);
    const played = a.play(new ToneSource([{ freqs: [1000], ms: 1000 }], { amplitude: 8000 }));
    const pcm = await heard;
    expect(toneAmplitude(pcm, 1000)).toBeGreaterThan(6000);
    expect(toneAmplitude(pcm, 1500)).toBeLessThan(500);
    await expect(played).resolves.toBe('done');
    const stats = await b.stats();
    expect(stats).toMatchObject({ codec: 'PCMU', packetsForeign: 0 });
    expect(stats.packetsReceived).toBeGreaterThan(20);
    expect((await a.stats()).packetsSent).toBeGreaterThan(20);
    await closeAll(a, b);
  });

  it('sends and decodes PCMA when PCMA is negotiated', async () => {
    const [a, b] = await pair('PCMA');
    const heard = captureInbound(a, 300);
    void b.play(new ToneSource([{ freqs: [700], ms: 1000 }]));
    expect(toneAmplitude(await heard, 700)).toBeGreaterThan(4000);
    expect(a.codec.name).toBe('PCMA');
    expect(b.session.stats.packetsSent).toBeGreaterThan(10);
    await closeAll(a, b);
  });

  it('carries L16 on a dynamic payload type', async () => {
    const a = await engine.createEndpoint();
    const b = await engine.createEndpoint();
    a.setRemote({ address: '127.0.0.1', port: b.session.port, payloadType: 97, codec: 'L16' });
    b.setRemote({ address: '127.0.0.1', port: a.session.port, payloadType: 97, codec: 'L16' });
    const heard = captureInbound(b, 300);
    void a.play(new ToneSource([{ freqs: [1000], ms: 1000 }], { amplitude: 8000 }));
    expect(toneAmplitude(await heard, 1000)).toBeGreaterThan(7500);
    expect(b.codec.name).toBe('L16');
    expect(() => a.setRemote({ address: '127.0.0.1', port: 1, payloadType: 97 })).toThrow(/unknown codec/);
    await closeAll(a, b);
  });

  it('plays out a reordered burst in sequence order and conceals a lost packet', async () => {
    const ep = await engine.createEndpoint();
    const far = dgram.createSocket('udp4');
    await new Promise<void>((r) => far.bind(0, '127.0.0.1', r));
    ep.setRemote({ address: '127.0.0.1', port: far.address().port, payloadType: 0 });
    // Packet n carries a constant level of n * 1000 (so order is visible); packet 6 is lost.
    const levels: number[] = [];
    const got = new Promise<void>((resolve) => {
      const stop = ep.fork('inbound', (frame) => {
        if (!ep.inboundActive) return;
        levels.push(frame[0]!);
        if (levels.length === 8) {
          stop();
          resolve();
        }
      });
    });
    const payload = new Uint8Array(160);
    for (const seq of [2, 1, 3, 5, 4, 8, 7]) {
      const pkt = Buffer.alloc(172);
      writeRtpHeader(pkt, 0, false, seq, seq * 160, 0x1234);
      encodePcmu(new Int16Array(160).fill(seq * 1000), payload);
      pkt.set(payload, 12);
      far.send(pkt, ep.session.port, '127.0.0.1');
    }
    await got;
    const approx = levels.map((l) => Math.round(l / 1000));
    expect(approx.slice(0, 5)).toEqual([1, 2, 3, 4, 5]);
    // Packet 5 repeated at half level in place of the lost packet 6.
    expect(levels[5]).toBeGreaterThan(2300);
    expect(levels[5]).toBeLessThan(2800);
    expect(approx.slice(6, 8)).toEqual([7, 8]);
    far.close();
    await ep.close();
  });

  for (const ptime of [10, 30, 40]) {
    it(`plays a far end that packetizes at ${ptime} ms without changing pitch`, async () => {
      const ep = await engine.createEndpoint();
      const far = dgram.createSocket('udp4');
      await new Promise<void>((r) => far.bind(0, '127.0.0.1', r));
      ep.setRemote({ address: '127.0.0.1', port: far.address().port, payloadType: 0 });
      const samples = ptime * 8;
      const tone = sine(440, 2000, 8000);
      let seq = 0;
      const start = performance.now();
      // Send on a real-time schedule (timers drift; catch up rather than fall behind).
      const timer = setInterval(() => {
        while (seq * ptime <= performance.now() - start) {
          const pkt = Buffer.alloc(12 + samples);
          writeRtpHeader(pkt, 0, false, seq, seq * samples, 0x4321);
          encodePcmu(tone.subarray(seq * samples, (seq + 1) * samples), pkt, 12);
          far.send(pkt, ep.session.port, '127.0.0.1');
          seq++;
        }
      }, 2);
      try {
        await delay(150);
        const heard = await captureInbound(ep, 400);
        expect(toneAmplitude(heard, 440)).toBeGreaterThan(6500);
        expect(toneAmplitude(heard, 660)).toBeLessThan(800);
      } finally {
        clearInterval(timer);
        far.close();
        await ep.close();
      }
    });
  }

  it('resolves play as aborted when its signal aborts', async () => {
    const [a, b] = await pair();
    const ac = new AbortController();
    const p = a.play(tone('ringback'), { signal: ac.signal });
    await delay(60);
    ac.abort();
    await expect(p).resolves.toBe('aborted');
    await expect(a.play(tone('beep'), { signal: ac.signal })).resolves.toBe('aborted');
    await closeAll(a, b);
  });

  it('replaces the current playback when play is called again', async () => {
    const [a, b] = await pair();
    const first = a.play(tone('ringback'));
    const second = a.play(tone('beep'));
    await expect(first).resolves.toBe('replaced');
    await expect(second).resolves.toBe('done');
    await closeAll(a, b);
  });

  it('sends in-band tones when telephone-event is not negotiated, and the far end detects them', async () => {
    const [a, b] = await pair('PCMU', 'PCMU', null);
    const events: DtmfEvent[] = [];
    b.on('dtmf', (e) => events.push(e));
    await a.sendDtmf('408');
    await delay(150);
    expect(events.map((e) => `${e.digit}/${e.source}`)).toEqual(['4/inband', '0/inband', '8/inband']);
    await closeAll(a, b);
  });

  it('collects digits until numDigits, finishOnKey or timeout', async () => {
    const [a, b] = await pair();
    const byCount = b.collectDigits({ numDigits: 2, timeoutMs: 3000 });
    await a.sendDtmf('123');
    await expect(byCount).resolves.toEqual({ digits: '12', reason: 'numDigits' });

    const byKey = b.collectDigits({ timeoutMs: 3000 });
    await a.sendDtmf('9#');
    await expect(byKey).resolves.toEqual({ digits: '9', reason: 'finishOnKey' });

    await expect(b.collectDigits({ timeoutMs: 50 })).resolves.toEqual({ digits: '', reason: 'timeout' });
    const ac = new AbortController();
    const aborted = b.collectDigits({ signal: ac.signal });
    ac.abort();
    await expect(aborted).resolves.toEqual({ digits: '', reason: 'aborted' });
    await closeAll(a, b);
  });

  it('stops sending when its direction is recvonly and ignores silence while the far end holds', async () => {
    const [a, b] = await pair();
    await delay(100);
    a.setDirection('recvonly');
    const before = b.session.stats.packetsReceived;
    await delay(100);
    const during = b.session.stats.packetsReceived;
    await delay(200);
    expect(b.session.stats.packetsReceived - during).toBeLessThanOrEqual(1);
    expect(during).toBeGreaterThanOrEqual(before);
    // b is held by a (a sends nothing): b must not report an RTP timeout while 'sendonly'.
    b.setDirection('sendonly');
    let timedOut = false;
    b.on('rtpTimeout', () => (timedOut = true));
    await delay(600);
    expect(timedOut).toBe(false);
    b.setDirection('sendrecv');
    await waitFor(b, 'rtpTimeout');
    a.setDirection('sendrecv');
    await closeAll(a, b);
  });

  it('bridges two legs so each hears the other, across PCMU and PCMA', async () => {
    // caller (PCMU) <-> legA ==bridge== legB <-> callee (PCMA)
    const caller = await engine.createEndpoint({ id: 'caller' });
    const legA = await engine.createEndpoint({ id: 'legA' });
    const legB = await engine.createEndpoint({ id: 'legB' });
    const callee = await engine.createEndpoint({ id: 'callee' });
    connect(caller, legA, 'PCMU');
    connect(legB, callee, 'PCMA');
    const bridge = legA.bridge(legB);
    const calleeHears = captureInbound(callee, 300);
    const callerHears = captureInbound(caller, 300);
    void caller.play(new ToneSource([{ freqs: [600], ms: 2000 }]));
    void callee.play(new ToneSource([{ freqs: [1400], ms: 2000 }]));
    const [atCallee, atCaller] = await Promise.all([calleeHears, callerHears]);
    expect(toneAmplitude(atCallee, 600)).toBeGreaterThan(4000);
    expect(toneAmplitude(atCallee, 1400)).toBeLessThan(500);
    expect(toneAmplitude(atCaller, 1400)).toBeGreaterThan(4000);
    expect(toneAmplitude(atCaller, 600)).toBeLessThan(500);
    // Closing one leg ends the bridge.
    await legB.close();
    expect(bridge.closed).toBe(true);
    await closeAll(caller, legA, callee);
  });

  it('forwards packets between same-codec bridged legs as they came, still hands taps the PCM, and lets a play take over', async () => {
    // phoneA -> legA ==bridge== legB -> phoneB, all PCMU; raw sockets, so the bytes are visible.
    const [legA, legB] = await Promise.all([engine.createEndpoint(), engine.createEndpoint()]);
    const phoneA = dgram.createSocket('udp4');
    const phoneB = dgram.createSocket('udp4');
    await Promise.all([phoneA, phoneB].map((s) => new Promise<void>((r) => s.bind(0, '127.0.0.1', r))));
    legA.setRemote({ address: '127.0.0.1', port: phoneA.address().port, payloadType: 0 });
    legB.setRemote({ address: '127.0.0.1', port: phoneB.address().port, payloadType: 0 });
    legA.bridge(legB);
    // Every byte value, 0x7f (mu-law's negative zero) included: decoding and encoding again would send 0xff for it.
    const payload = Uint8Array.from({ length: 160 }, (_, i) => (i * 37 + 0x7f) & 0xff);
    const received: Buffer[] = [];
    phoneB.on('message', (msg: Buffer) => received.push(msg));
    let tapped = 0;
    const stopTap = legB.fork('outbound', (frame) => {
      if (frame.some((v) => v !== 0)) tapped++;
    });
    const start = performance.now();
    let seq = 0;
    const sender = setInterval(() => {
      while (seq * 20 <= performance.now() - start) {
        const pkt = Buffer.alloc(172);
        writeRtpHeader(pkt, 0, seq === 0, seq, seq * 160, 0x4321);
        pkt.set(payload, 12);
        phoneA.send(pkt, legA.session.port, '127.0.0.1');
        seq++;
      }
    }, 5);
    try {
      await until(() => received.filter((m) => m.length === 172 && m.subarray(12).equals(payload)).length >= 10, 3000);
      expect(tapped).toBeGreaterThan(5);
      // A play on the bridged leg is what its phone hears instead (encoded, not the forwarded bytes).
      const played = legB.play(new ToneSource([{ freqs: [1000], ms: 200 }], { amplitude: 8000 }));
      const from = received.length;
      await until(() => received.length >= from + 5, 2000);
      await expect(played).resolves.toBe('done');
      const during = received.slice(from + 1, from + 5);
      expect(during.every((m) => !m.subarray(12).equals(payload))).toBe(true);
      // And the forwarded packets come back once it ends.
      const after = received.length;
      await until(() => received.slice(after).filter((m) => m.subarray(12).equals(payload)).length >= 3, 2000);
    } finally {
      clearInterval(sender);
      stopTap();
      phoneA.close();
      phoneB.close();
      await closeAll(legA, legB);
    }
  });

  it('moving a leg into a new bridge closes its old bridge', async () => {
    const [a, b, c] = await Promise.all([engine.createEndpoint(), engine.createEndpoint(), engine.createEndpoint()]);
    const first = a.bridge(c);
    const second = a.bridge(b);
    expect(first.closed).toBe(true);
    expect(second.closed).toBe(false);
    second.close();
    await closeAll(a, b, c);
  });

  it('survives a source and a tap that throw: the playback fails, the tap is removed, audio goes on', async () => {
    const [a, b] = await pair();
    let calls = 0;
    a.fork('both', () => {
      calls++;
      throw new Error('consumer bug');
    });
    const broken = { read: (): boolean => { throw new Error('decoder bug'); } };
    await expect(a.play(broken)).resolves.toBe('failed');
    const heard = captureInbound(b, 200);
    void a.play(new ToneSource([{ freqs: [800], ms: 1000 }]));
    expect(toneAmplitude(await heard, 800)).toBeGreaterThan(4000);
    expect(calls).toBe(1);
    await closeAll(a, b);
  });

  it('forks the caller track and injects PCM that the caller hears', async () => {
    const [phone, leg] = await pair();
    const forked: Int16Array[] = [];
    const stopFork = leg.fork('inbound', (frame) => {
      if (leg.inboundActive) forked.push(frame.slice());
    });
    void phone.play(new ToneSource([{ freqs: [500], ms: 1000 }]));
    await delay(300);
    stopFork();
    expect(forked.length).toBeGreaterThan(5);
    const joined = new Int16Array(forked.length * 160);
    forked.forEach((f, i) => joined.set(f, i * 160));
    expect(toneAmplitude(joined.subarray(joined.length - 800), 500)).toBeGreaterThan(4000);

    const heard = captureInbound(phone, 200);
    leg.inject(sine(900, 400, 8000));
    expect(toneAmplitude(await heard, 900)).toBeGreaterThan(5000);
    await closeAll(phone, leg);
  });

  it('records both sides to a stereo WAV and mono mixes, ending with the leg', async () => {
    const [phone, leg] = await pair();
    void phone.play(new ToneSource([{ freqs: [500], ms: 5000 }]));
    void leg.play(new ToneSource([{ freqs: [1200], ms: 5000 }]));
    await delay(100);
    const stereoPath = path.join(dir, 'stereo.wav');
    const monoPath = path.join(dir, 'mono.wav');
    const ac = new AbortController();
    const stereo = leg.record({ path: stereoPath, channels: 2, signal: ac.signal });
    const mono = leg.record({ path: monoPath, track: 'inbound' });
    await delay(500);
    ac.abort();
    const info = await stereo;
    expect(info.reason).toBe('stopped');
    expect(info.durationMs).toBeGreaterThan(300);
    const bytes = await readFile(stereoPath);
    expect(bytes.readUInt16LE(22)).toBe(2);
    expect(bytes.readUInt32LE(40)).toBe(bytes.length - 44);
    // Left = caller (500 Hz), right = what we played (1200 Hz).
    const left = new Int16Array((bytes.length - 44) / 4);
    const right = new Int16Array(left.length);
    for (let i = 0; i < left.length; i++) {
      left[i] = bytes.readInt16LE(44 + i * 4);
      right[i] = bytes.readInt16LE(46 + i * 4);
    }
    const tail = (x: Int16Array): Int16Array => x.subarray(x.length - 1600);
    expect(toneAmplitude(tail(left), 500)).toBeGreaterThan(3000);
    expect(toneAmplitude(tail(left), 1200)).toBeLessThan(300);
    expect(toneAmplitude(tail(right), 1200)).toBeGreaterThan(3000);

    await leg.close();
    const monoInfo = await mono;
    expect(monoInfo.reason).toBe('closed');
    const wav = decodeWav(await readFile(monoPath));
    expect(wav.sampleRate).toBe(8000);
    expect(rms(wav.pcm.subarray(wav.pcm.length - 1600))).toBeGreaterThan(2000);
    await phone.close();
  });

  it('stops a recording after caller silence', async () => {
    const [phone, leg] = await pair();
    const info = await leg.record({ path: path.join(dir, 'silence.wav'), silenceTimeoutMs: 200, maxDurationMs: 5000 });
    expect(info.reason).toBe('silence');
    await closeAll(phone, leg);
  });

  it('close is idempotent, ends everything in flight and returns the ports', async () => {
    const before = engine.ports.inUse;
    const [a, b] = await pair();
    expect(engine.ports.inUse).toBe(before + 2);
    const playing = a.play(tone('ringback'));
    const digits = a.collectDigits({ timeoutMs: 10_000 });
    const dtmf = a.sendDtmf('123456789');
    const closed = waitFor(a, 'closed');
    await Promise.all([a.close(), a.close()]);
    await closed;
    await expect(playing).resolves.toBe('closed');
    await expect(digits).resolves.toEqual({ digits: '', reason: 'closed' });
    await expect(dtmf).resolves.toBeUndefined();
    await expect(a.play(new PcmSource(new Int16Array(160)))).resolves.toBe('closed');
    expect(() => a.setRemote({ address: '127.0.0.1', port: 1, payloadType: 0 })).toThrow(/closed/);
    await b.close();
    expect(engine.ports.inUse).toBe(before);
  });

  it('plays in-band DTMF tones with both frequencies', async () => {
    const [a, b] = await pair();
    const heard = captureInbound(b, 300);
    void a.play(dtmfTones('1', { toneMs: 1000 }));
    const pcm = await heard;
    expect(toneAmplitude(pcm, 697)).toBeGreaterThan(3000);
    expect(toneAmplitude(pcm, 1209)).toBeGreaterThan(3000);
    await closeAll(a, b);
  });
});
