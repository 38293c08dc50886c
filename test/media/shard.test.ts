import dgram from 'node:dgram';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MULAW_DECODE, mulawEncodeSample } from '../../src/media/codecs/g711.js';
import { MediaEndpointClosedError, MediaWorkerExitedError } from '../../src/media/media-errors.js';
import { writeRtpHeader } from '../../src/media/rtp/rtp-packet.js';
import { FrameRing } from '../../src/media/shard/frame-ring.js';
import { fromShardError, toShardError } from '../../src/media/shard/shard-errors.js';
import { ShardedMediaEngine } from '../../src/media/shard/sharded-media-engine.js';
import { UrlAudioError } from '../../src/media/sources/url-audio.js';
import { FetchRefusedError } from '../../src/shared/fetch-policy.js';
import { compileShardWorker } from '../helpers/shard-worker.js';
import { delay } from './helpers.js';

// What every leg does on a worker as in process (prompts, digits, record, stream, stats, close) is in
// media-backend.test.ts, run on both backends; here is what only the worker thread backend has.

// A worker thread runs JavaScript, not the TypeScript sources: compile the shard worker (and what it imports) once.
let worker: Awaited<ReturnType<typeof compileShardWorker>> | undefined;
let workerUrl: URL;
let out = '';
beforeAll(async () => {
  worker = await compileShardWorker();
  workerUrl = worker.url;
  out = await mkdtemp(path.join(tmpdir(), 'sautikit-shard-test-'));
}, 120_000);
afterAll(async () => {
  await worker?.remove();
  if (out) await rm(out, { recursive: true, force: true });
});

let engine: ShardedMediaEngine | undefined;
const sockets: dgram.Socket[] = [];
afterEach(async () => {
  await engine?.close();
  engine = undefined;
  for (const s of sockets.splice(0)) s.close();
});

function phone(): Promise<dgram.Socket> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    sockets.push(s);
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

/** A µ-law code that survives decode → encode, so a bridged payload arrives byte for byte. */
const CODE = [...Array(128).keys()].map((i) => 0x80 + i).find((c) => c !== 0xff && mulawEncodeSample(MULAW_DECODE[c]!) === c)!;

function rtp(seq: number, payload: Uint8Array, pt = 0): Buffer {
  const buf = Buffer.alloc(12 + payload.length);
  writeRtpHeader(buf, pt, seq === 0, seq, seq * 160, 0x1234);
  buf.set(payload, 12);
  return buf;
}

const newEngine = (): ShardedMediaEngine => (engine = new ShardedMediaEngine({ workers: 2, workerUrl, portMin: 31400, portMax: 31479, bindAddress: '127.0.0.1', rtpTimeoutMs: 0 }));

describe('shardedMediaEngine', () => {
  it('spreads legs over its workers and keeps a leg created near another on its shard', async () => {
    const media = newEngine();
    const a = await media.createEndpoint({ id: 'a' });
    const b = await media.createEndpoint({ id: 'b', near: a });
    const c = await media.createEndpoint({ id: 'c' });
    expect(b.shard).toBe(a.shard);
    expect(c.shard).not.toBe(a.shard);
    expect(media.endpointsPerShard.sort()).toEqual([1, 2]);
    // Each shard binds in its own slice of the range.
    for (const leg of [a, b, c]) expect(leg.port).toBeGreaterThanOrEqual(31400 + leg.shard * 40);
    expect(a.localDescription()).toMatchObject({ address: '127.0.0.1', port: a.port, rtcpPort: a.port + 1 });
    expect(() => a.setRemote({ address: '127.0.0.1', port: 9, payloadType: 97 })).toThrow(/unknown codec/);
  }, 20_000);

  it('bridges legs on different workers through shared memory: each phone hears the other, and closing one leg unbridges both sides', async () => {
    const media = newEngine();
    const [phoneA, phoneB] = [await phone(), await phone()];
    const a = await media.createEndpoint();
    const b = await media.createEndpoint();
    expect(b.shard).not.toBe(a.shard);
    a.setRemote({ address: '127.0.0.1', port: phoneA.address().port, payloadType: 0, telephoneEvent: 101 });
    b.setRemote({ address: '127.0.0.1', port: phoneB.address().port, payloadType: 0, telephoneEvent: 101 });
    const bridge = await a.bridge(b);
    expect(bridge.crossesShards).toBe(true);
    const heard = { a: 0, b: 0 };
    phoneA.on('message', (msg: Buffer) => {
      if (msg.length === 172 && msg.subarray(12).every((x) => x === CODE)) heard.a++;
    });
    phoneB.on('message', (msg: Buffer) => {
      if (msg.length === 172 && msg.subarray(12).every((x) => x === CODE)) heard.b++;
    });
    const payload = new Uint8Array(160).fill(CODE);
    for (let seq = 0; seq < 25; seq++) {
      phoneA.send(rtp(seq, payload), a.port, '127.0.0.1');
      phoneB.send(rtp(seq, payload), b.port, '127.0.0.1');
      await delay(20);
    }
    await delay(200);
    expect(heard.a).toBeGreaterThan(10);
    expect(heard.b).toBeGreaterThan(10);
    let bridgeClosed = false;
    bridge.on('closed', () => (bridgeClosed = true));
    await a.close();
    await delay(50);
    expect(bridgeClosed).toBe(true);
    // B's side is unbridged too: its phone hears silence, not stale audio.
    const before = heard.b;
    for (let seq = 25; seq < 35; seq++) {
      phoneB.send(rtp(seq, payload), b.port, '127.0.0.1');
      await delay(20);
    }
    await delay(100);
    expect(heard.b).toBe(before);
  }, 20_000);

  it('mixes a conference room on one worker with a member on another: each hears the other, mute silences, an announcement reaches both and the room recording, a closed leg leaves', async () => {
    const media = newEngine();
    const [phoneA, phoneB] = [await phone(), await phone()];
    const a = await media.createEndpoint();
    const b = await media.createEndpoint();
    expect(b.shard).not.toBe(a.shard);
    a.setRemote({ address: '127.0.0.1', port: phoneA.address().port, payloadType: 0, telephoneEvent: 101 });
    b.setRemote({ address: '127.0.0.1', port: phoneB.address().port, payloadType: 0, telephoneEvent: 101 });
    const room = await media.createMixer({ near: a });
    expect(room.shard).toBe(a.shard);
    await room.add(a);
    const memberB = await room.add(b); // across shards
    // With two members each hears exactly the other (the sum minus their own), so a round-trip-safe code arrives intact.
    const codeA = CODE;
    const codeB = [...Array(128).keys()].map((i) => 0x80 + i).find((c) => c > codeA && c !== 0xff && mulawEncodeSample(MULAW_DECODE[c]!) === c)!;
    const got = { aHeardB: 0, bHeardA: 0, aAudible: 0, bAudible: 0 };
    const watch = (socket: dgram.Socket, code: number, key: 'aHeardB' | 'bHeardA', audible: 'aAudible' | 'bAudible'): void => {
      socket.on('message', (msg: Buffer) => {
        if (msg.length !== 172) return;
        const payload = msg.subarray(12);
        if (payload.every((x) => x === code)) got[key]++;
        if (payload.some((x) => x !== 0xff && x !== 0x7f)) got[audible]++;
      });
    };
    watch(phoneA, codeB, 'aHeardB', 'aAudible');
    watch(phoneB, codeA, 'bHeardA', 'bAudible');
    const talk = async (packets: number, seq0: number): Promise<void> => {
      for (let i = 0; i < packets; i++) {
        phoneA.send(rtp(seq0 + i, new Uint8Array(160).fill(codeA)), a.port, '127.0.0.1');
        phoneB.send(rtp(seq0 + i, new Uint8Array(160).fill(codeB)), b.port, '127.0.0.1');
        await delay(20);
      }
      await delay(150);
    };
    await talk(25, 0);
    expect(got.aHeardB).toBeGreaterThan(10);
    expect(got.bHeardA).toBeGreaterThan(10);
    // B muted: A stops hearing B, B still hears A.
    memberB.setMuted(true);
    await delay(50);
    const [heardB, heardA] = [got.aHeardB, got.bHeardA];
    await talk(15, 25);
    expect(got.aHeardB - heardB).toBeLessThanOrEqual(2);
    expect(got.bHeardA - heardA).toBeGreaterThan(8);
    // An announcement: both phones hear audio though nobody talks.
    const [audibleA, audibleB] = [got.aAudible, got.bAudible];
    expect(await room.playPcm(new Int16Array(1600).map((_, i) => Math.round(6000 * Math.sin(i / 3))))).toBe('done');
    await delay(100);
    expect(got.aAudible - audibleA).toBeGreaterThan(5);
    expect(got.bAudible - audibleB).toBeGreaterThan(5);
    // The room recorded on its shard while the announcement plays.
    const stopRecording = new AbortController();
    const recording = room.record(path.join(out, 'room.wav'), { signal: stopRecording.signal });
    await room.playPcm(new Int16Array(2400).map((_, i) => Math.round(6000 * Math.sin(i / 5))));
    stopRecording.abort();
    const info = await recording;
    expect(info.durationMs).toBeGreaterThanOrEqual(200);
    expect((await stat(info.path)).size).toBe(info.bytes);
    // B's leg closes on its shard: it leaves the room.
    const left: string[] = [];
    room.on('memberLeft', (leg) => left.push(leg.id));
    await b.close();
    await delay(50);
    expect(left).toEqual([b.id]);
    expect(room.size).toBe(1);
    room.close();
  }, 20_000);

  it('a shard that dies ends its legs with closed; legs on the other shard stay up', async () => {
    const media = newEngine();
    const a = await media.createEndpoint();
    const c = await media.createEndpoint();
    expect(c.shard).not.toBe(a.shard);
    const closed: string[] = [];
    a.on('closed', () => closed.push('a'));
    c.on('closed', () => closed.push('c'));
    const recording = a.record({ path: path.join(out, 'cut-short.wav') }).catch((error: unknown) => error);
    await media.terminateShard(a.shard);
    await delay(50);
    expect(closed).toEqual(['a']);
    expect(a.state).toBe('closed');
    expect(c.state).toBe('open');
    // What was in flight, and the figures its shard took with it, reject with the worker's death; later commands find the leg closed.
    expect(await recording).toBeInstanceOf(MediaWorkerExitedError);
    await expect(a.stats()).rejects.toMatchObject({ code: 'media_worker_exited', shard: a.shard });
    await expect(a.sendDtmf('1')).rejects.toBeInstanceOf(MediaEndpointClosedError);
    expect(await a.collectDigits()).toEqual({ digits: '', reason: 'closed' });
    expect((await c.stats()).packetsReceived).toBe(0);
    // New legs go to the shard still running.
    const d = await media.createEndpoint();
    expect(d.shard).toBe(c.shard);
  }, 20_000);

  it('closing the engine closes every leg and bridge, idempotently', async () => {
    const media = newEngine();
    const b = await media.createEndpoint();
    const bridgeGone = media.createEndpoint({ near: b }).then((x) => b.bridge(x));
    const bridge = await bridgeGone;
    let bridgeClosed = false;
    bridge.on('closed', () => (bridgeClosed = true));
    await media.close();
    await media.close();
    expect(b.state).toBe('closed');
    expect(bridgeClosed).toBe(true);
  }, 20_000);
});

describe('shardError', () => {
  it('carries each kind across a structured clone and is rebuilt as the class and code the in-process backend throws', () => {
    const across = (error: unknown): Error => fromShardError(structuredClone(toShardError(error)));
    const urlAudio = across(new UrlAudioError('too_large', 'too big'));
    expect(urlAudio).toBeInstanceOf(UrlAudioError);
    expect(urlAudio).toMatchObject({ code: 'too_large', message: 'too big' });
    const refused = across(new FetchRefusedError('private address', 'http://10.0.0.1/a.wav'));
    expect(refused).toBeInstanceOf(FetchRefusedError);
    expect(refused).toMatchObject({ code: 'fetch_not_allowed', url: 'http://10.0.0.1/a.wav' });
    const closed = across(new MediaEndpointClosedError('leg-1'));
    expect(closed).toBeInstanceOf(MediaEndpointClosedError);
    expect(closed).toMatchObject({ code: 'media_endpoint_closed', endpoint: 'leg-1', message: 'media endpoint leg-1 is closed' });
    expect(across(Object.assign(new Error('disk full'), { code: 'ENOSPC' }))).toMatchObject({ message: 'disk full', code: 'ENOSPC' });
    expect(across('a string')).toMatchObject({ message: 'a string' });
  });
});

describe('frameRing', () => {
  const frame = (v: number): Int16Array => new Int16Array(160).fill(v);
  it('passes frames in order between two views of one shared buffer', () => {
    const writer = new FrameRing({ slots: 4 });
    const reader = new FrameRing({ buffer: writer.buffer });
    const out = new Int16Array(160);
    expect(reader.pop(out)).toBe(false);
    writer.push(frame(1));
    writer.push(frame(2));
    expect(reader.size).toBe(2);
    expect(reader.pop(out) && out[0]).toBe(1);
    expect(reader.pop(out) && out[159]).toBe(2);
    expect(reader.pop(out)).toBe(false);
  });

  it('drops the newest frame when full and skips the oldest beyond maxDepth, bounding the delay', () => {
    const writer = new FrameRing({ slots: 4 });
    const reader = new FrameRing({ buffer: writer.buffer, maxDepth: 2 });
    for (let v = 1; v <= 5; v++) writer.push(frame(v));
    expect(writer.stats.dropped).toBe(1); // 5 did not fit
    const out = new Int16Array(160);
    expect(reader.pop(out) && out[0]).toBe(3); // 1 and 2 skipped: only the newest 2 wait
    expect(reader.stats.skipped).toBe(2);
    expect(reader.pop(out) && out[0]).toBe(4);
    // The ring comes round its slots without losing its place.
    for (let i = 0; i < 10; i++) {
      writer.push(frame(100 + i));
      expect(reader.pop(out) && out[0]).toBe(100 + i);
    }
  });
});
