import { once } from 'node:events';
import { createServer } from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaClock } from '../../../src/media/media-clock.js';
import { MediaEngine } from '../../../src/media/engine.js';
import type { MediaEndpoint } from '../../../src/media/endpoint.js';
import { AudioStreamSession, type AudioStreamOptions, type AudioStreamResult } from '../../../src/media/fork/audio-stream.js';
import { ToneSource } from '../../../src/media/sources/tones.js';
import { encodeWav } from '../../../src/media/sources/wav.js';
import { captureInbound, connect, delay, rms, sine, toneAmplitude } from '../helpers.js';
import { bytesOf, channel, fromOnset, samplesOf, startStreamServer, type StreamServer } from './stream-server.js';

let engine: MediaEngine;
let server: StreamServer;

beforeAll(async () => {
  engine = new MediaEngine({ portMin: 45000, portMax: 45499, bindAddress: '127.0.0.1', rtpTimeoutMs: 0 });
  server = await startStreamServer();
});

afterAll(async () => {
  await server.close();
  await engine.close();
  expect(engine.ports.inUse).toBe(0);
});

const CALL = { callId: 'call-1', from: '+254711000001', to: '+254712345678', direction: 'outbound' as const, accountId: 'ws_1' };

/** A leg (the platform side) wired over loopback RTP to a "phone". */
async function leg(): Promise<{ leg: MediaEndpoint; phone: MediaEndpoint; close: () => Promise<void> }> {
  const a = await engine.createEndpoint({ id: 'leg' });
  const phone = await engine.createEndpoint({ id: 'phone' });
  connect(a, phone);
  return { leg: a, phone, close: async () => void (await Promise.all([a.close(), phone.close()])) };
}

function session(ep: MediaEndpoint, options: Partial<AudioStreamOptions> = {}, srv: { url: string } = server): AudioStreamSession {
  // The test's WebSocket servers are on loopback, which a workspace allows with `allow_private_callbacks`.
  return new AudioStreamSession(ep, { url: srv.url, policy: { allowedCallbackHosts: [], allowPrivateCallbacks: true }, call: CALL, name: 'lead-qualifier', ...options });
}

describe('audioStreamSession: connecting', () => {
  it('offers audio.drachtio.org first and sends the metadata frame', async () => {
    const { leg: ep, close } = await leg();
    const s = session(ep, { track: 'both_tracks', outputSamplingRate: 16000, metadata: { campaign: 'q4', callId: 'spoofed' } });
    const started = new Promise((resolve) => s.once('started', resolve));
    const done = s.start();
    const conn = await server.next();
    expect(await started).toEqual({ protocol: 'audio.drachtio.org' });
    expect(conn.protocol).toBe('audio.drachtio.org');
    expect(s.state).toBe('streaming');
    const meta = await conn.text(() => true);
    expect(meta).toEqual({
      campaign: 'q4',
      callId: 'call-1',
      callSid: 'call-1',
      streamName: 'lead-qualifier',
      from: '+254711000001',
      to: '+254712345678',
      direction: 'outbound',
      sampleRate: 16000,
      mixType: 'stereo',
      channels: 2,
      track: 'both_tracks',
      accountId: 'ws_1',
    });
    await conn.frames(1);
    expect(conn.binary[0]!.length).toBe(1280);
    conn.ws.close(1000);
    const result = await done;
    expect(result).toMatchObject({ started: true, protocol: 'audio.drachtio.org', closedBy: 'server', error: undefined });
    await close();
  });

  it('accepts a server that only speaks audio.jambonz.org', async () => {
    const jambonz = await startStreamServer((offered) => (offered.has('audio.jambonz.org') ? 'audio.jambonz.org' : false));
    const { leg: ep, close } = await leg();
    const s = session(ep, {}, jambonz);
    const done = s.start();
    const conn = await jambonz.next();
    expect(conn.protocol).toBe('audio.jambonz.org');
    const meta = await conn.text(() => true);
    expect(meta).toMatchObject({ sampleRate: 8000, mixType: 'mono', channels: 1, track: 'inbound_track', streamName: 'lead-qualifier' });
    conn.ws.close();
    expect((await done).protocol).toBe('audio.jambonz.org');
    await jambonz.close();
    await close();
  });

  it('reports stream-error when the server accepts neither subprotocol', async () => {
    const other = await startStreamServer(() => false);
    const { leg: ep, close } = await leg();
    const s = session(ep, {}, other);
    const errors: string[] = [];
    let stopped = 0;
    s.on('error', (e) => errors.push(e.reason));
    s.on('stopped', () => stopped++);
    const result = await s.start();
    expect(result).toMatchObject({ started: false, closedBy: 'error', framesSent: 0 });
    expect(errors).toEqual(['server accepted neither audio.drachtio.org nor audio.jambonz.org']);
    expect(stopped).toBe(0);
    expect(s.state).toBe('closed');
    await other.close();
    await close();
  });

  it('reports an unreachable server, a refused upgrade, a silent server (connect timeout) and a non-ws URL', async () => {
    const { leg: ep, close } = await leg();
    const probe = net.createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const freePort = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const refused = await session(ep, {}, { url: `ws://127.0.0.1:${freePort}/` }).start();
    expect(refused).toMatchObject({ started: false, closedBy: 'error', error: 'cannot connect: ECONNREFUSED' });

    // Accepts TCP, never answers the upgrade.
    const silent = net.createServer(() => undefined);
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const port = (silent.address() as net.AddressInfo).port;
    const timedOut = await session(ep, { connectTimeoutMs: 300 }, { url: `ws://127.0.0.1:${port}/` }).start();
    expect(timedOut.closedBy).toBe('error');
    expect(timedOut.error).toMatch(/no connection within/);
    silent.close();

    // Answers the upgrade with a plain 404.
    const web = createServer((_req, res) => res.writeHead(404).end());
    web.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'));
    web.listen(0, '127.0.0.1');
    await once(web, 'listening');
    const notFound = await session(ep, {}, { url: `ws://127.0.0.1:${(web.address() as net.AddressInfo).port}/nope` }).start();
    expect(notFound).toMatchObject({ started: false, closedBy: 'error', error: 'server refused the WebSocket upgrade (HTTP 404)' });
    web.close();

    const http = await session(ep, {}, { url: 'https://example.com/audio' }).start();
    expect(http).toMatchObject({ started: false, closedBy: 'error', error: 'the stream url must be a ws: or wss: URL' });
    await close();
  });
});

describe('audioStreamSession: caller -> socket', () => {
  for (const rate of [8000, 16000, 24000] as const) {
    it(`sends 20 ms frames of the caller at ${rate} Hz with the tone at the right frequency`, async () => {
      const { leg: ep, phone, close } = await leg();
      const s = session(ep, { outputSamplingRate: rate });
      const done = s.start();
      const conn = await server.next();
      void phone.play(new ToneSource([{ freqs: [1000], ms: 3000 }], { amplitude: 8000 }));
      const frames = await conn.frames(30);
      for (const f of frames) expect(f.length).toBe((rate / 8000) * 320);
      // Wait for the tone to have travelled (RTP + jitter buffer), then analyse 200 ms of it.
      const all = await conn.frames(40);
      const tone = fromOnset(samplesOf(all), (rate / 1000) * 200);
      expect(tone.length).toBe((rate / 1000) * 200);
      expect(toneAmplitude(tone, 1000, rate)).toBeGreaterThan(6000);
      expect(toneAmplitude(tone, 1500, rate)).toBeLessThan(400);
      if (rate > 8000) expect(toneAmplitude(tone, 7000, rate)).toBeLessThan(400); // the image of 1 kHz, filtered out
      conn.ws.close();
      await done;
      await close();
    });
  }

  it('sends interleaved stereo for both_tracks (left: caller, right: what the caller hears) and mono outbound_track', async () => {
    const { leg: ep, phone, close } = await leg();
    const both = session(ep, { track: 'both_tracks', outputSamplingRate: 24000 });
    const out = session(ep, { track: 'outbound_track', outputSamplingRate: 8000 });
    const doneBoth = both.start();
    const connBoth = await server.next();
    const doneOut = out.start();
    const connOut = await server.next();
    void phone.play(new ToneSource([{ freqs: [600], ms: 3000 }], { amplitude: 8000 }));
    void ep.play(new ToneSource([{ freqs: [1400], ms: 3000 }], { amplitude: 8000 }));
    const stereo = samplesOf(await connBoth.frames(40));
    expect(connBoth.binary[0]!.length).toBe(1920);
    const left = fromOnset(channel(stereo, 0), 4800);
    const right = fromOnset(channel(stereo, 1), 4800);
    expect(toneAmplitude(left, 600, 24000)).toBeGreaterThan(6000);
    expect(toneAmplitude(left, 1400, 24000)).toBeLessThan(400);
    expect(toneAmplitude(right, 1400, 24000)).toBeGreaterThan(6000);
    expect(toneAmplitude(right, 600, 24000)).toBeLessThan(400);
    const mono = fromOnset(samplesOf(await connOut.frames(30)), 1600);
    expect(connOut.binary[0]!.length).toBe(320);
    expect(toneAmplitude(mono, 1400)).toBeGreaterThan(6000);
    connBoth.ws.close();
    connOut.ws.close();
    await Promise.all([doneBoth, doneOut]);
    await close();
  });

  it('forwards the caller\'s DTMF as text', async () => {
    const { leg: ep, phone, close } = await leg();
    const s = session(ep);
    const done = s.start();
    const conn = await server.next();
    await new Promise((resolve) => s.once('started', resolve));
    await phone.sendDtmf('5');
    const msg = await conn.text((m) => m.event === 'dtmf');
    expect(msg).toEqual({ event: 'dtmf', dtmf: '5', duration: expect.any(Number) });
    expect(msg.duration).toBeGreaterThan(0);
    conn.ws.close();
    await done;
    await close();
  });
});

describe('audioStreamSession: socket -> caller', () => {
  it('plays the server\'s PCM to the caller in order', async () => {
    const { leg: ep, phone, close } = await leg();
    const s = session(ep, { outputSamplingRate: 16000 });
    const done = s.start();
    const conn = await server.next();
    const heard = captureInbound(phone, 1000);
    // 500 ms of 500 Hz then 500 ms of 1200 Hz, in odd-sized chunks (a sample split across two messages).
    const pcm = bytesOf(new Int16Array([...sine(500, 500, 8000, 16000), ...sine(1200, 500, 8000, 16000)]));
    for (let off = 0; off < pcm.length; off += 1001) conn.ws.send(pcm.subarray(off, off + 1001));
    const audio = await heard;
    const first = audio.subarray(400, 3600);
    const second = audio.subarray(4400, 7600);
    expect(toneAmplitude(first, 500)).toBeGreaterThan(6000);
    expect(toneAmplitude(first, 1200)).toBeLessThan(500);
    expect(toneAmplitude(second, 1200)).toBeGreaterThan(6000);
    expect(toneAmplitude(second, 500)).toBeLessThan(500);
    conn.ws.close();
    const result = await done;
    expect(result.framesReceived).toBe(Math.ceil(pcm.length / 1001));
    await close();
  });

  it('answers a mark with playout once the audio before it was played, and at once with nothing queued', async () => {
    const { leg: ep, close } = await leg();
    // Count frames of the tone actually sent to the caller (this tap runs before the stream's own).
    let toneFrames = 0;
    const stop = ep.fork('outbound', (frame) => {
      if (rms(frame) > 1000) toneFrames++;
    });
    const s = session(ep);
    const done = s.start();
    const conn = await server.next();
    conn.ws.send(JSON.stringify({ type: 'mark', data: { name: 'empty' } }));
    expect(await conn.text((m) => m.type === 'mark')).toEqual({ type: 'mark', data: { name: 'empty', event: 'playout' } });
    conn.ws.send(bytesOf(sine(800, 300, 8000)));
    conn.ws.send(JSON.stringify({ type: 'mark', data: { name: 'm1' } }));
    const mark = await conn.text((m) => m.type === 'mark' && m.data.name === 'm1');
    expect(mark).toEqual({ type: 'mark', data: { name: 'm1', event: 'playout' } });
    expect(toneFrames).toBe(15); // all 300 ms had gone to the caller when the mark came back
    stop();
    conn.ws.close();
    await done;
    await close();
  });

  it('resumes the server audio after a prompt that had priority, without losing or repeating any', async () => {
    const { leg: ep, close } = await leg();
    let served = 0;
    let prompt = 0;
    const stop = ep.fork('outbound', (frame) => {
      if (toneAmplitude(frame, 800) > 4000) served++;
      if (toneAmplitude(frame, 1400) > 4000) prompt++;
    });
    const s = session(ep);
    const done = s.start();
    const conn = await server.next();
    conn.ws.send(bytesOf(sine(800, 400, 8000)));
    conn.ws.send(JSON.stringify({ type: 'mark', data: { name: 'm' } }));
    await delay(100);
    await ep.play(new ToneSource([{ freqs: [1400], ms: 200 }], { amplitude: 8000 }));
    await conn.text((m) => m.type === 'mark');
    expect(prompt).toBe(10);
    expect(served).toBe(20);
    stop();
    conn.ws.close();
    await done;
    await close();
  });

  it('killAudio stops playback and pending marks come back cleared', async () => {
    const { leg: ep, phone, close } = await leg();
    const s = session(ep, { outputSamplingRate: 16000 });
    const done = s.start();
    const conn = await server.next();
    const heard = captureInbound(phone, 200);
    conn.ws.send(bytesOf(sine(700, 5000, 8000, 16000)));
    conn.ws.send(JSON.stringify({ type: 'mark', data: { name: 'after-speech' } }));
    expect(toneAmplitude(await heard, 700)).toBeGreaterThan(6000);
    conn.ws.send(JSON.stringify({ type: 'killAudio' }));
    expect(await conn.text((m) => m.type === 'mark')).toEqual({ type: 'mark', data: { name: 'after-speech', event: 'cleared' } });
    await delay(200); // let what was already in flight (RTP, jitter buffer) drain
    let loud = 0;
    const stop = phone.fork('inbound', (frame) => {
      if (rms(frame) > 500) loud++;
    });
    await delay(300);
    stop();
    expect(loud).toBe(0);
    conn.ws.close();
    await done;
    await close();
  });

  it('plays playAudio clips, raw and wav, one after the other with queuePlay', async () => {
    const { leg: ep, phone, close } = await leg();
    const s = session(ep, { outputSamplingRate: 16000 });
    const done = s.start();
    const conn = await server.next();
    const heard = captureInbound(phone, 1000);
    const raw = bytesOf(sine(450, 500, 8000, 16000)).toString('base64');
    const wav = encodeWav(sine(1100, 500, 8000, 22050), 22050).toString('base64');
    conn.ws.send(JSON.stringify({ type: 'playAudio', data: { audioContent: raw, audioContentType: 'raw', sampleRate: 16000 } }));
    conn.ws.send(JSON.stringify({ type: 'playAudio', data: { audioContent: wav, audioContentType: 'wav', queuePlay: true } }));
    conn.ws.send(JSON.stringify({ type: 'mark', data: { name: 'clips' } }));
    const audio = await heard;
    expect(toneAmplitude(audio.subarray(400, 3600), 450)).toBeGreaterThan(6000);
    expect(toneAmplitude(audio.subarray(4400, 7600), 1100)).toBeGreaterThan(6000);
    expect(await conn.text((m) => m.type === 'mark')).toEqual({ type: 'mark', data: { name: 'clips', event: 'playout' } });
    conn.ws.close();
    await done;
    await close();
  });

  it('ignores malformed text messages and keeps streaming', async () => {
    const { leg: ep, close } = await leg();
    const s = session(ep);
    const done = s.start();
    const conn = await server.next();
    for (const bad of ['not json', '42', '{"type":"mark"}', '{"type":"playAudio","data":{"audioContent":"AAAA","audioContentType":"mp3"}}', '{"type":"dance"}']) {
      conn.ws.send(bad);
    }
    conn.ws.send(JSON.stringify({ type: 'playAudio', data: { audioContent: Buffer.from('not a wav file').toString('base64'), audioContentType: 'wav' } }));
    conn.ws.send(JSON.stringify({ type: 'mark', data: { name: 'still-here' } }));
    expect(await conn.text((m) => m.type === 'mark')).toEqual({ type: 'mark', data: { name: 'still-here', event: 'playout' } });
    expect(s.state).toBe('streaming');
    conn.ws.close();
    await done;
    await close();
  });
});

describe('audioStreamSession: ending', () => {
  async function streaming(options: Partial<AudioStreamOptions> = {}) {
    const legs = await leg();
    const s = session(legs.leg, options);
    const events: string[] = [];
    s.on('started', () => events.push('started'));
    s.on('stopped', (e) => events.push(`stopped:${e.closedBy}`));
    s.on('error', () => events.push('error'));
    const done = s.start();
    const conn = await server.next();
    await conn.frames(5);
    return { ...legs, s, done, conn, events };
  }

  function expectCounters(result: AudioStreamResult): void {
    expect(result.started).toBe(true);
    expect(result.framesSent).toBeGreaterThanOrEqual(5);
    expect(result.framesDropped).toBe(0);
  }

  it('ends when the server closes the socket', async () => {
    const { leg: ep, s, done, conn, events, close } = await streaming();
    const dtmfListeners = ep.listenerCount('dtmf');
    conn.ws.close(1000, 'bye');
    const result = await done;
    expectCounters(result);
    expect(result).toMatchObject({ closedBy: 'server', reason: 'server closed the socket (1000: bye)' });
    expect(events).toEqual(['started', 'stopped:server']);
    expect(ep.listenerCount('dtmf')).toBe(dtmfListeners - 1);
    expect(ep.listenerCount('closed')).toBe(0);
    expect(await s.close()).toBe(result);
    await close();
  });

  it('ends on a disconnect message, closing with 1000', async () => {
    const { done, conn, close } = await streaming();
    conn.ws.send(JSON.stringify({ type: 'disconnect' }));
    const [result, closed] = await Promise.all([done, conn.closed]);
    expect(result).toMatchObject({ closedBy: 'server', reason: 'disconnect' });
    expect(closed.code).toBe(1000);
    await close();
  });

  it('ends when the signal aborts, closing with 1000 (closedBy platform); queued audio is not played on', async () => {
    const ac = new AbortController();
    const { done, conn, events, close, phone } = await streaming({ signal: ac.signal });
    const heard = captureInbound(phone, 100);
    conn.ws.send(bytesOf(sine(700, 5000, 8000)));
    await heard;
    ac.abort();
    const [result, closed] = await Promise.all([done, conn.closed]);
    expectCounters(result);
    expect(result).toMatchObject({ closedBy: 'platform', reason: 'aborted' });
    expect(closed.code).toBe(1000);
    expect(events).toEqual(['started', 'stopped:platform']);
    await delay(200); // what was already on the wire drains
    let loud = 0;
    const stop = phone.fork('inbound', (frame) => {
      if (rms(frame) > 500) loud++;
    });
    await delay(200);
    stop();
    expect(loud).toBe(0);
    await close();
  });

  it('ends when the leg closes, and close() is idempotent', async () => {
    const { leg: ep, s, done, conn, close } = await streaming();
    await ep.close();
    const result = await done;
    expect(result).toMatchObject({ closedBy: 'platform', reason: 'endpoint closed' });
    expect((await conn.closed).code).toBe(1000);
    expect(await s.close()).toBe(result);
    expect(s.state).toBe('closed');
    await close();
  });

  it('reports a connection lost without a close frame as an error', async () => {
    const { done, conn, events, close } = await streaming();
    conn.ws.terminate();
    const result = await done;
    expect(result).toMatchObject({ closedBy: 'error', error: 'connection lost (closed without a close frame)' });
    expect(events).toEqual(['started', 'error', 'stopped:error']);
    await close();
  });

  it('close() before start() resolves without connecting; abort while connecting ends quietly', async () => {
    const { leg: ep, close } = await leg();
    const idle = session(ep);
    expect(await idle.close()).toMatchObject({ started: false, closedBy: 'platform' });
    const silent = net.createServer(() => undefined);
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const ac = new AbortController();
    const s = session(ep, { signal: ac.signal }, { url: `ws://127.0.0.1:${(silent.address() as net.AddressInfo).port}/` });
    const errors: unknown[] = [];
    s.on('error', (e) => errors.push(e));
    const done = s.start();
    await delay(50);
    ac.abort();
    expect(await done).toMatchObject({ started: false, closedBy: 'platform', reason: 'aborted', error: undefined });
    expect(errors).toEqual([]);
    silent.close();
    await close();
  });
});

describe('audioStreamSession: a slow consumer', () => {
  it('drops and counts frames while the server is not reading; the send buffer stays bounded', async () => {
    // A hand-driven clock: thousands of ticks in well under a second fill the socket buffers deterministically.
    const clock = new MediaClock({ autoStart: false });
    const slowEngine = new MediaEngine({ clock, portMin: 45500, portMax: 45599, bindAddress: '127.0.0.1' });
    const ep = await slowEngine.createEndpoint();
    const s = session(ep, { track: 'both_tracks', outputSamplingRate: 24000, maxBufferedMs: 200 });
    const done = s.start();
    const conn = await server.next();
    await new Promise((resolve) => s.once('started', resolve));
    const limit = 10 * 1920; // 200 ms of 24 kHz stereo
    const socket = (conn.ws as any)._socket as net.Socket;
    socket.pause();
    let ticks = 0;
    let maxBuffered = 0;
    const run = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        clock.runTick();
        ticks++;
        maxBuffered = Math.max(maxBuffered, s.bufferedAmount);
        if (i % 20 === 19) await new Promise((r) => setImmediate(r)); // let the socket write
      }
    };
    while (s.counters().framesDropped < 100 && ticks < 30_000) await run(500);
    const stalled = s.counters();
    expect(stalled.framesDropped).toBeGreaterThanOrEqual(100);
    expect(stalled.framesSent + stalled.framesDropped).toBe(ticks);
    expect(maxBuffered).toBeLessThanOrEqual(limit);
    // The server reads again: frames flow again, nothing was queued without bound.
    socket.resume();
    await conn.frames(stalled.framesSent);
    await run(50);
    expect(s.counters().framesSent).toBeGreaterThan(stalled.framesSent);
    conn.ws.close();
    const result = await done;
    expect(result.framesDropped).toBeGreaterThanOrEqual(stalled.framesDropped);
    expect(result.framesSent + result.framesDropped).toBe(ticks);
    await slowEngine.close();
  });
});
