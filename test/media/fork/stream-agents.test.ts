/**
 * SPEC §19 (streams for voice agents) against two real servers on
 * loopback: a raw `ws` server (test/media/fork/stream-server.ts) and the
 * `@jambonz/sdk` audio endpoint from npm, its client code unchanged (only
 * the port it listens on is ours to pick). Assertions are on order and
 * content; latency lives in bench/stream-latency.bench.ts.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEndpoint, type AudioStream } from '@jambonz/sdk/websocket';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaEngine } from '../../../src/media/engine.js';
import type { MediaEndpoint } from '../../../src/media/endpoint.js';
import { AudioStreamSession, type AudioStreamOptions } from '../../../src/media/fork/audio-stream.js';
import { ToneSource } from '../../../src/media/sources/tones.js';
import { until } from '../../helpers/until.js';
import { captureInbound, connect, delay, sine, toneAmplitude, waitFor } from '../helpers.js';
import { bytesOf, fromOnset, samplesOf, startStreamServer, type StreamConnection, type StreamServer } from './stream-server.js';

let engine: MediaEngine;
let server: StreamServer;

beforeAll(async () => {
  engine = new MediaEngine({ portMin: 45500, portMax: 45999, bindAddress: '127.0.0.1', rtpTimeoutMs: 0 });
  server = await startStreamServer();
});

afterAll(async () => {
  await server.close();
  await engine.close();
  expect(engine.ports.inUse).toBe(0);
});

const CALL = { callId: 'call-19', from: '+254711000001', to: '+254712345678', direction: 'inbound' as const, accountId: 'ws_1' };

async function leg(): Promise<{ leg: MediaEndpoint; phone: MediaEndpoint; close: () => Promise<void> }> {
  const a = await engine.createEndpoint({ id: 'leg' });
  const phone = await engine.createEndpoint({ id: 'phone' });
  connect(a, phone);
  return { leg: a, phone, close: async () => void (await Promise.all([a.close(), phone.close()])) };
}

function session(ep: MediaEndpoint, options: Partial<AudioStreamOptions> = {}, url = server.url): AudioStreamSession {
  return new AudioStreamSession(ep, { url, policy: { allowedCallbackHosts: [], allowPrivateCallbacks: true }, call: CALL, name: 'agent', ...options });
}

const b64 = (pcm: Int16Array): string => bytesOf(pcm).toString('base64');
const send = (conn: StreamConnection, message: object): void => conn.ws.send(JSON.stringify(message));
const playDones = (conn: StreamConnection): unknown[] => conn.texts.filter((m) => m.type === 'playDone').map((m) => m.data.id);

/** Frames of `freq` that went out to the caller, counted on the leg (this tap runs before the stream's). */
function countTone(ep: MediaEndpoint, freq: number): { count: () => number; stop: () => void } {
  let n = 0;
  const stop = ep.fork('outbound', (frame) => {
    if (toneAmplitude(frame, freq) > 4000) n++;
  });
  return { count: () => n, stop };
}

describe('raw ws server: playAudio, marks, queuePlay', () => {
  it('answers playDone with the clip\'s id once the whole clip has gone to the caller', async () => {
    const { leg: ep, close } = await leg();
    const tone = countTone(ep, 650);
    const s = session(ep, { outputSamplingRate: 16000 });
    const done = s.start();
    const conn = await server.next();
    send(conn, { type: 'playAudio', data: { audioContent: b64(sine(650, 300, 8000, 16000)), audioContentType: 'raw', sampleRate: 16000, id: 'greeting' } });
    expect(await conn.text((m) => m.type === 'playDone')).toEqual({ type: 'playDone', data: { id: 'greeting' } });
    expect(tone.count()).toBe(15); // all 300 ms had been played when playDone came
    tone.stop();
    conn.ws.close();
    await done;
    await close();
  });

  it('clearMarks answers every pending mark cleared, in order, and the audio plays on', async () => {
    const { leg: ep, phone, close } = await leg();
    const s = session(ep);
    const done = s.start();
    const conn = await server.next();
    conn.ws.send(bytesOf(sine(900, 1500, 8000)));
    send(conn, { type: 'mark', data: { name: 'a' } });
    send(conn, { type: 'mark', data: { name: 'b' } });
    send(conn, { type: 'clearMarks' });
    await conn.text((m) => m.type === 'mark' && m.data.name === 'b');
    expect(conn.texts.filter((m) => m.type === 'mark')).toEqual([
      { type: 'mark', data: { name: 'a', event: 'cleared' } },
      { type: 'mark', data: { name: 'b', event: 'cleared' } },
    ]);
    // The audio was not dropped: the caller hears it, and a new mark waits for it.
    expect(toneAmplitude(await captureInbound(phone, 300), 900)).toBeGreaterThan(6000);
    send(conn, { type: 'mark', data: { name: 'c' } });
    expect(await conn.text((m) => m.type === 'mark' && m.data.name === 'c')).toEqual({ type: 'mark', data: { name: 'c', event: 'playout' } });
    conn.ws.close();
    await done;
    await close();
  });

  it('queuePlay true plays clips one after the other; false (the default) interrupts what is queued', async () => {
    const { leg: ep, close } = await leg();
    const first = countTone(ep, 450);
    const second = countTone(ep, 1100);
    const s = session(ep);
    const done = s.start();
    const conn = await server.next();
    send(conn, { type: 'playAudio', data: { audioContent: b64(sine(450, 200)), id: 'one' } });
    send(conn, { type: 'playAudio', data: { audioContent: b64(sine(1100, 200)), id: 'two', queuePlay: true } });
    await conn.text((m) => m.type === 'playDone' && m.data.id === 'two');
    expect(playDones(conn)).toEqual(['one', 'two']);
    expect([first.count(), second.count()]).toEqual([10, 10]);

    // A long clip and a mark behind it, then an interrupting clip: the mark is cleared, the long clip's playDone never comes.
    const interrupted = countTone(ep, 700);
    const barge = countTone(ep, 300);
    send(conn, { type: 'playAudio', data: { audioContent: b64(sine(700, 5000)), id: 'long' } });
    send(conn, { type: 'mark', data: { name: 'after-long' } });
    await until(async () => interrupted.count() >= 2);
    send(conn, { type: 'playAudio', data: { audioContent: b64(sine(300, 200)), id: 'barge' } });
    await conn.text((m) => m.type === 'playDone' && m.data.id === 'barge');
    expect(await conn.text((m) => m.type === 'mark')).toEqual({ type: 'mark', data: { name: 'after-long', event: 'cleared' } });
    expect(playDones(conn)).toEqual(['one', 'two', 'barge']);
    expect(barge.count()).toBe(10);
    expect(interrupted.count()).toBeLessThan(250); // far from all 5 s of it
    for (const t of [first, second, interrupted, barge]) t.stop();
    conn.ws.close();
    await done;
    await close();
  });
});

describe('raw ws server: what goes to the socket', () => {
  it('mixType mixed: both tracks summed into one channel', async () => {
    const { leg: ep, phone, close } = await leg();
    const s = session(ep, { track: 'both_tracks', mixed: true, outputSamplingRate: 16000 });
    const done = s.start();
    const conn = await server.next();
    expect(await conn.text(() => true)).toMatchObject({ mixType: 'mixed', channels: 1, track: 'both_tracks', sampleRate: 16000 });
    void phone.play(new ToneSource([{ freqs: [600], ms: 3000 }], { amplitude: 6000 }));
    void ep.play(new ToneSource([{ freqs: [1400], ms: 3000 }], { amplitude: 6000 }));
    const frames = await conn.frames(50);
    expect(frames[0]!.length).toBe(640); // 20 ms of 16 kHz mono
    const mixed = fromOnset(samplesOf(frames).subarray(16000 * 0.4), 16000 * 0.2, 1000);
    expect(toneAmplitude(mixed, 600, 16000)).toBeGreaterThan(4500);
    expect(toneAmplitude(mixed, 1400, 16000)).toBeGreaterThan(4500);
    conn.ws.close();
    await done;
    await close();
  });

  it('passDtmf false: the caller\'s keys are not sent', async () => {
    const { leg: ep, phone, close } = await leg();
    const s = session(ep, { passDtmf: false });
    const done = s.start();
    const conn = await server.next();
    await conn.text(() => true);
    const pressed = waitFor(ep, 'dtmf');
    await phone.sendDtmf('7');
    await pressed; // the leg heard it...
    send(conn, { type: 'mark', data: { name: 'sync' } });
    await conn.text((m) => m.type === 'mark'); // ...and anything sent after it has arrived
    expect(conn.texts.filter((m) => m.event === 'dtmf')).toEqual([]);
    conn.ws.close();
    await done;
    await close();
  });

  it('wsAuth: HTTP Basic on the upgrade request', async () => {
    const { leg: ep, close } = await leg();
    const s = session(ep, { wsAuth: { username: 'agent', password: 'pa:ss wörd' } });
    const done = s.start();
    const conn = await server.next();
    expect(conn.headers.authorization).toBe(`Basic ${Buffer.from('agent:pa:ss wörd').toString('base64')}`);
    conn.ws.close();
    await done;
    await close();
  });
});

describe('raw ws server: return audio (bidirectionalAudio)', () => {
  for (const rate of [24000, 48000] as const) {
    it(`plays binary audio sent at its own rate (${rate} Hz, stream at 8 kHz) at the right pitch`, async () => {
      const { leg: ep, phone, close } = await leg();
      const s = session(ep, { outputSamplingRate: 8000, returnAudio: { enabled: true, streaming: true, sampleRate: rate } });
      const done = s.start();
      const conn = await server.next();
      const heard = captureInbound(phone, 400);
      conn.ws.send(bytesOf(sine(1000, 600, 8000, rate)));
      const audio = (await heard).subarray(400, 2800);
      expect(toneAmplitude(audio, 1000)).toBeGreaterThan(6000);
      expect(toneAmplitude(audio, 1000 * (8000 / rate))).toBeLessThan(500);
      conn.ws.close();
      await done;
      await close();
    });
  }

  it('streaming false ignores binary audio but plays clips; enabled false ignores both', async () => {
    const { leg: ep, close } = await leg();
    const binary = countTone(ep, 500);
    const clip = countTone(ep, 850);
    const s = session(ep, { returnAudio: { enabled: true, streaming: false, sampleRate: 8000 } });
    const done = s.start();
    const conn = await server.next();
    conn.ws.send(bytesOf(sine(500, 200)));
    send(conn, { type: 'playAudio', data: { audioContent: b64(sine(850, 200)), id: 'clip', queuePlay: true } });
    await conn.text((m) => m.type === 'playDone');
    expect([binary.count(), clip.count()]).toEqual([0, 10]);
    conn.ws.close();
    await done;

    const off = session(ep, { returnAudio: { enabled: false, streaming: true, sampleRate: 8000 } });
    const offDone = off.start();
    const offConn = await server.next();
    offConn.ws.send(bytesOf(sine(500, 200)));
    send(offConn, { type: 'playAudio', data: { audioContent: b64(sine(850, 200)), id: 'ignored' } });
    send(offConn, { type: 'mark', data: { name: 'nothing-queued' } });
    expect(await offConn.text((m) => m.type === 'mark')).toEqual({ type: 'mark', data: { name: 'nothing-queued', event: 'playout' } });
    await delay(100);
    expect(playDones(offConn)).toEqual([]);
    expect([binary.count(), clip.count()]).toEqual([0, 10]);
    offConn.ws.close();
    await offDone;
    binary.stop();
    clip.stop();
    await close();
  });
});

describe('@jambonz/sdk audio endpoint, client code unchanged', () => {
  let http: Server;
  let url: string;
  const connections: Array<{ stream: AudioStream; req: IncomingMessage }> = [];
  const waiting: Array<() => void> = [];

  beforeAll(async () => {
    http = createServer();
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    const makeService = createEndpoint({ server: http, logger: { info: () => {}, error: () => {}, debug: () => {} } });
    makeService.audio({ path: '/agent' }).on('connection', (stream, req) => {
      connections.push({ stream, req });
      waiting.shift()?.();
    });
    url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/agent`;
  });

  afterAll(async () => {
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  });

  async function nextStream(): Promise<{ stream: AudioStream; req: IncomingMessage }> {
    while (connections.length === 0) await new Promise<void>((resolve) => waiting.push(resolve));
    return connections.shift()!;
  }

  it('metadata, audio both ways, playDone, marks and clearMarks, DTMF, wsAuth, disconnect', async () => {
    const { leg: ep, phone, close } = await leg();
    const s = session(ep, { outputSamplingRate: 16000, wsAuth: { username: 'u', password: 'p' }, metadata: { campaign: 'q4' } }, url);
    const done = s.start();
    const { stream, req } = await nextStream();
    expect(req.headers.authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    expect(stream.callSid).toBe('call-19');
    expect(stream.sampleRate).toBe(16000);
    expect(stream.metadata).toMatchObject({ mixType: 'mono', campaign: 'q4', from: '+254711000001' });

    const audio: Buffer[] = [];
    const marks: Array<{ name: string; event: string }> = [];
    const playDone: unknown[] = [];
    const dtmf: Array<{ digit: string; duration?: number }> = [];
    stream.on('audio', (b) => audio.push(b));
    stream.on('mark', (m) => marks.push(m));
    stream.on('playDone', (e) => playDone.push(e));
    stream.on('dtmf', (d) => dtmf.push(d));

    await until(async () => audio.length >= 5);
    expect(audio[0]!.length).toBe(640);

    stream.playAudio(b64(sine(700, 200, 8000, 16000)), { id: 'hello' });
    await until(async () => playDone.length === 1);
    expect(playDone).toEqual([{ id: 'hello' }]);

    const heard = captureInbound(phone, 300);
    stream.sendAudio(bytesOf(sine(1200, 1000, 8000, 16000)));
    stream.sendMark('one');
    stream.sendMark('two');
    stream.clearMarks();
    await until(async () => marks.length === 2);
    expect(marks).toEqual([{ name: 'one', event: 'cleared' }, { name: 'two', event: 'cleared' }]);
    expect(toneAmplitude(await heard, 1200)).toBeGreaterThan(6000);
    stream.sendMark('three');
    await until(async () => marks.length === 3);
    expect(marks[2]).toEqual({ name: 'three', event: 'playout' });

    stream.sendAudio(bytesOf(sine(1200, 3000, 8000, 16000)));
    stream.sendMark('speech');
    stream.killAudio();
    await until(async () => marks.length === 4);
    expect(marks[3]).toEqual({ name: 'speech', event: 'cleared' });

    await phone.sendDtmf('9');
    await until(async () => dtmf.length === 1);
    expect(dtmf[0]!.digit).toBe('9');
    expect(dtmf[0]!.duration).toBeGreaterThan(0);

    stream.disconnect();
    const result = await done;
    expect(result).toMatchObject({ started: true, closedBy: 'server', reason: 'disconnect' });
    await close();
  });
});
