/**
 * What participants of a conference room hear, over real RTP on 127.0.0.1:
 * each caller is a phone endpoint speaking a steady tone to its call leg,
 * and the assertions measure tone energy in what the phones receive.
 */
import { getEventListeners } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConferenceManager, type LeaveReason } from '../../src/conference/index.js';
import { MediaEngine } from '../../src/media/engine.js';
import { ToneSource } from '../../src/media/sources/tones.js';
import { decodeWav, encodeWav } from '../../src/media/sources/wav.js';
import { captureInbound, delay, dialIn, EventLog, listen, peakToneAmplitude, rms, toneAmplitude, type Caller } from './helpers.js';
import { sine } from '../media/helpers.js';

const WS = 'ws_audio';
let engine: MediaEngine;
let dir: string;
let server: Server;
let httpBase: string;
const callers: Caller[] = [];

beforeAll(async () => {
  engine = new MediaEngine({ portMin: 43000, portMax: 43999, bindAddress: '127.0.0.1' });
  dir = await mkdtemp(path.join(tmpdir(), 'sautikit-conference-'));
  const wait600 = encodeWav(sine(600, 1000, 6000), 8000);
  server = createServer((req, res) => {
    if (req.url === '/wait.wav') res.writeHead(200, { 'content-type': 'audio/wav' }).end(wait600);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  httpBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await Promise.all(callers.map((c) => c.hangup()));
  // No mixer, endpoint or room is left on the media clock.
  expect(engine.endpointCount).toBe(0);
  expect(engine.clock.running).toBe(false);
  await engine.close();
  expect(engine.ports.inUse).toBe(0);
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

async function caller(id: string, freq: number): Promise<Caller> {
  const c = await dialIn(engine, id, freq);
  callers.push(c);
  return c;
}

function manager(log: EventLog): ConferenceManager {
  return new ConferenceManager({ media: engine, onEvent: log.onEvent, recordingDir: dir });
}

/** A looping 400 Hz tone as the engine would supply through `waitSource`. */
const waitTone = (): ToneSource => new ToneSource([{ freqs: [400], ms: 1000 }], { loop: true, amplitude: 6000 });

describe('conference room audio', () => {
  it('participants hear the wait audio until a startOnEnter participant joins, then each other but not themselves', async () => {
    const log = new EventLog();
    const rooms = manager(log);
    const [a, b, c] = await Promise.all([caller('a1', 1300), caller('b1', 1700), caller('c1', 2100)]);
    const base = { workspaceId: WS, name: 'room-wait', beep: false, waitSource: waitTone };
    const left: Promise<LeaveReason>[] = [
      rooms.join({ ...base, callId: 'a1', caller: '+254700000001', endpoint: a.leg, startOnEnter: false }),
      rooms.join({ ...base, callId: 'b1', caller: '+254700000002', endpoint: b.leg, startOnEnter: false }),
    ];
    await delay(200);
    const heard = await captureInbound(a.phone, 300);
    expect(toneAmplitude(heard, 400), 'wait audio before the start').toBeGreaterThan(4000);
    expect(toneAmplitude(heard, 1700), 'B is not heard before the start').toBeLessThan(300);
    expect(rooms.get(WS, 'room-wait')?.state).toBe('waiting');

    left.push(rooms.join({ ...base, callId: 'c1', caller: '+254700000003', endpoint: c.leg }));
    expect(rooms.get(WS, 'room-wait')?.state).toBe('started');
    await delay(200);
    const all = await Promise.all([a, b, c].map((x) => captureInbound(x.phone, 400)));
    all.forEach((pcm, i) => {
      expect(toneAmplitude(pcm, 400), `participant ${i} still hears wait audio`).toBeLessThan(300);
      [a, b, c].forEach((other, j) => {
        if (i === j) expect(toneAmplitude(pcm, other.freq), `participant ${i} hears itself`).toBeLessThan(300);
        else expect(toneAmplitude(pcm, other.freq), `participant ${i} hears ${j}`).toBeGreaterThan(3000);
      });
    });
    expect(log.summary('room-wait')).toEqual(['join:a1:1', 'join:b1:2', 'join:c1:3', 'start::3']);

    await rooms.end(WS, 'room-wait');
    expect(await Promise.all(left)).toEqual(['room-ended', 'room-ended', 'room-ended']);
    expect(rooms.roomCount).toBe(0);
  });

  it('plays the built-in hold music without a waitUrl, and a WAV waitUrl looped through the media URL loader', async () => {
    const log = new EventLog();
    const rooms = manager(log);
    const [a, b] = await Promise.all([caller('a2', 1300), caller('b2', 1700)]);
    const stopA = new AbortController();
    const stopB = new AbortController();
    const joinedA = rooms.join({ workspaceId: WS, name: 'hold-builtin', callId: 'a2', caller: '+254700000004', endpoint: a.leg, startOnEnter: false, signal: stopA.signal });
    const joinedB = rooms.join({
      workspaceId: WS,
      name: 'hold-url',
      callId: 'b2',
      caller: '+254700000005',
      endpoint: b.leg,
      startOnEnter: false,
      waitUrl: `${httpBase}/wait.wav`,
      // The test's file server is on loopback, which a workspace allows with `allow_private_callbacks`.
      waitUrlPolicy: { allowedCallbackHosts: [], allowPrivateCallbacks: true },
      signal: stopB.signal,
    });
    await delay(300);
    const [holdA, holdB] = await Promise.all([captureInbound(a.phone, 400), captureInbound(b.phone, 1400)]);
    expect(rms(holdA), 'built-in hold music is audible').toBeGreaterThan(500);
    expect(toneAmplitude(holdA, 1300)).toBeLessThan(300);
    // The one-second file is heard on and on: looped.
    expect(toneAmplitude(holdB.subarray(0, 8000), 600)).toBeGreaterThan(4000);
    expect(toneAmplitude(holdB.subarray(8000), 600)).toBeGreaterThan(4000);

    stopA.abort();
    stopB.abort();
    expect(await Promise.all([joinedA, joinedB])).toEqual(['aborted', 'aborted']);
    expect(getEventListeners(stopA.signal, 'abort')).toHaveLength(0);
    // Empty rooms end by themselves.
    expect(log.summary('hold-builtin')).toEqual(['join:a2:1', 'leave:a2:0', 'end::0']);
    expect(rooms.roomCount).toBe(0);
  });

  it('falls back to the built-in hold music when the waitUrl or the waitSource hook fails', async () => {
    const log = new EventLog();
    const rooms = manager(log);
    const [a, b] = await Promise.all([caller('a7', 1300), caller('b7', 1700)]);
    const base = { workspaceId: WS, startOnEnter: false, beep: false };
    const left = [
      rooms.join({ ...base, name: 'fallback-url', callId: 'a7', caller: '+254700000016', endpoint: a.leg, waitUrl: `${httpBase}/missing.wav` }),
      rooms.join({
        ...base,
        name: 'fallback-hook',
        callId: 'b7',
        caller: '+254700000017',
        endpoint: b.leg,
        waitSource: () => Promise.reject(new Error('the wait URL answered nothing playable')),
      }),
    ];
    await delay(300);
    const [heardA, heardB] = await Promise.all([captureInbound(a.phone, 400), captureInbound(b.phone, 400)]);
    expect(rms(heardA)).toBeGreaterThan(500);
    expect(rms(heardB)).toBeGreaterThan(500);
    await Promise.all([rooms.end(WS, 'fallback-url'), rooms.end(WS, 'fallback-hook')]);
    expect(await Promise.all(left)).toEqual(['room-ended', 'room-ended']);
  });

  it('a muted supervisor hears but is not heard; a participant on hold hears hold music and is not heard', async () => {
    const log = new EventLog();
    const rooms = manager(log);
    const [a, b, s] = await Promise.all([caller('a3', 1300), caller('b3', 1700), caller('s3', 2100)]);
    const base = { workspaceId: WS, name: 'room-monitor', beep: false };
    const left = [
      rooms.join({ ...base, callId: 'a3', caller: '+254700000006', endpoint: a.leg }),
      rooms.join({ ...base, callId: 'b3', caller: '+254700000007', endpoint: b.leg }),
      rooms.join({ ...base, callId: 's3', caller: '+254700000008', endpoint: s.leg, muted: true, startOnEnter: false }),
    ];
    await delay(200);
    let [heardA, heardB, heardS] = await Promise.all([a, b, s].map((x) => captureInbound(x.phone, 400)));
    expect(toneAmplitude(heardA!, 2100), 'A does not hear the supervisor').toBeLessThan(300);
    expect(toneAmplitude(heardB!, 2100), 'B does not hear the supervisor').toBeLessThan(300);
    expect(toneAmplitude(heardA!, 1700)).toBeGreaterThan(3000);
    expect(toneAmplitude(heardS!, 1300), 'the supervisor hears A').toBeGreaterThan(3000);
    expect(toneAmplitude(heardS!, 1700), 'the supervisor hears B').toBeGreaterThan(3000);
    expect(rooms.get(WS, 'room-monitor')?.participants.find((p) => p.callId === 's3')).toMatchObject({ muted: true, hold: false, startOnEnter: false });

    expect(rooms.setHold(WS, 'room-monitor', 'b3', true)).toBe(true);
    expect(rooms.setMuted(WS, 'room-monitor', 's3', false)).toBe(true);
    await delay(200);
    [heardA, heardB, heardS] = await Promise.all([a, b, s].map((x) => captureInbound(x.phone, 400)));
    expect(toneAmplitude(heardA!, 1700), 'B on hold is not heard').toBeLessThan(300);
    expect(toneAmplitude(heardA!, 2100), 'the unmuted supervisor is heard').toBeGreaterThan(3000);
    expect(toneAmplitude(heardB!, 1300), 'B on hold does not hear the room').toBeLessThan(300);
    expect(rms(heardB!), 'B on hold hears hold music').toBeGreaterThan(500);
    expect(rooms.get(WS, 'room-monitor')?.participants.find((p) => p.callId === 'b3')?.hold).toBe(true);

    rooms.setHold(WS, 'room-monitor', 'b3', false);
    await delay(200);
    heardA = await captureInbound(a.phone, 400);
    expect(toneAmplitude(heardA, 1700), 'B off hold is heard again').toBeGreaterThan(3000);

    expect(log.summary('room-monitor').filter((e) => e.startsWith('mute') || e.startsWith('unmute'))).toEqual(['unmute:s3:3']);
    await rooms.end(WS, 'room-monitor');
    expect(await Promise.all(left)).toEqual(['room-ended', 'room-ended', 'room-ended']);
  });

  it('beeps to the room when a participant with beep joins or leaves, not for one without', async () => {
    const log = new EventLog();
    const rooms = manager(log);
    const [a, b, c, d] = await Promise.all([caller('a4', 1300), caller('b4', 1700), caller('c4', 0), caller('d4', 0)]);
    const base = { workspaceId: WS, name: 'room-beep' };
    const left = [
      rooms.join({ ...base, callId: 'a4', caller: '+254700000009', endpoint: a.leg, beep: false }),
      rooms.join({ ...base, callId: 'b4', caller: '+254700000010', endpoint: b.leg, beep: false }),
    ];
    await delay(200);
    let heard = listen(a.phone, 800);
    left.push(rooms.join({ ...base, callId: 'c4', caller: '+254700000011', endpoint: c.leg }));
    expect(peakToneAmplitude(await heard, 1000), 'beep on join').toBeGreaterThan(3000);

    heard = listen(a.phone, 800);
    left.push(rooms.join({ ...base, callId: 'd4', caller: '+254700000012', endpoint: d.leg, beep: false }));
    expect(peakToneAmplitude(await heard, 1000), 'no beep for beep: false').toBeLessThan(300);

    heard = listen(a.phone, 800);
    expect(rooms.kick(WS, 'room-beep', 'c4')).toBe(true);
    expect(peakToneAmplitude(await heard, 1000), 'beep on leave').toBeGreaterThan(3000);
    expect(await left[2]).toBe('kicked');

    await rooms.end(WS, 'room-beep');
    expect(await Promise.all(left)).toEqual(['room-ended', 'room-ended', 'kicked', 'room-ended']);
  });

  it('records the room mix from its start into a WAV reported with the end event', async () => {
    const log = new EventLog();
    const rooms = manager(log);
    const [a, b] = await Promise.all([caller('a5', 1300), caller('b5', 1700)]);
    const base = { workspaceId: WS, name: 'room-rec', beep: false };
    const left = [rooms.join({ ...base, callId: 'a5', caller: '+254700000013', endpoint: a.leg, startOnEnter: false, record: true })];
    expect(rooms.get(WS, 'room-rec')?.recording).toBe(true);
    await delay(1000); // waiting: not recorded
    left.push(rooms.join({ ...base, callId: 'b5', caller: '+254700000014', endpoint: b.leg }));
    await delay(600);
    await rooms.end(WS, 'room-rec');
    const end = await log.next('end', 'room-rec');
    expect(end.recording).toBeDefined();
    const recording = end.recording!;
    expect(path.dirname(recording.path)).toBe(dir);
    expect((await stat(recording.path)).size).toBe(recording.bytes);
    const file = await readFile(recording.path);
    const wav = decodeWav(file);
    expect(wav.sampleRate).toBe(8000);
    expect(file.readUInt16LE(22), 'mono').toBe(1);
    expect(file.readUInt16LE(34), '16-bit').toBe(16);
    // From the start (about 0.6 s before the end), not from the first join (1.6 s).
    expect(recording.durationMs).toBeGreaterThan(300);
    expect(recording.durationMs).toBeLessThan(1400);
    expect(Math.abs(wav.pcm.length / 8 - recording.durationMs)).toBeLessThanOrEqual(1);
    // The room is audible from the first moments of the file: no silent waiting period in it.
    expect(toneAmplitude(wav.pcm.subarray(0, 1600), 1300), 'A at the start of the recording').toBeGreaterThan(3000);
    const tail = wav.pcm.subarray(wav.pcm.length - 4000);
    expect(toneAmplitude(tail, 1300), 'A in the recording').toBeGreaterThan(3000);
    expect(toneAmplitude(tail, 1700), 'B in the recording').toBeGreaterThan(3000);
    expect(await Promise.all(left)).toEqual(['room-ended', 'room-ended']);
  });

  it('a recording that cannot be written does not stop the room; its end event has no recording', async () => {
    const log = new EventLog();
    const rooms = new ConferenceManager({ media: engine, onEvent: log.onEvent, recordingDir: path.join(dir, 'missing', 'folder') });
    const a = await caller('a6', 1300);
    const left = rooms.join({ workspaceId: WS, name: 'room-norec', callId: 'a6', caller: '+254700000015', endpoint: a.leg, beep: false, record: true });
    await delay(100);
    await rooms.end(WS, 'room-norec');
    expect(await left).toBe('room-ended');
    const end = await log.next('end', 'room-norec');
    expect(end.recording).toBeUndefined();
  });
});
