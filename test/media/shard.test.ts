import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MULAW_DECODE, mulawEncodeSample } from '../../src/media/codecs/g711.js';
import { createRtpHeader, parseRtp, writeRtpHeader } from '../../src/media/rtp/rtp-packet.js';
import { ShardedMediaEngine } from '../../src/media/shard/sharded-media-engine.js';
import { delay } from './helpers.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// A worker thread runs JavaScript, not the TypeScript sources: compile the shard worker (and what it imports) once.
let out = '';
let workerUrl: URL;
beforeAll(async () => {
  out = await mkdtemp(path.join(tmpdir(), 'sautikit-shard-test-'));
  await symlink(path.join(REPO, 'node_modules'), path.join(out, 'node_modules'), 'dir');
  const options = ['--outDir', out, '--rootDir', REPO, '--target', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--lib', 'ES2023', '--types', 'node', '--strict', '--esModuleInterop', '--skipLibCheck', '--verbatimModuleSyntax', '--sourceMap', 'false', '--declaration', 'false'];
  await promisify(execFile)(process.execPath, [path.join(REPO, 'node_modules/typescript/bin/tsc'), ...options, path.join(REPO, 'src/media/shard/shard-worker.ts')], { cwd: REPO }).catch((error: { stdout?: string }) => {
    // Type errors elsewhere in the tree still emit JavaScript; a missing file fails below.
    if (error.stdout) console.warn(error.stdout.slice(0, 1000));
  });
  workerUrl = pathToFileURL(path.join(out, 'src/media/shard/shard-worker.js'));
}, 120_000);
afterAll(async () => {
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
  it('spreads legs over its workers, keeps a leg created near another on its shard, and refuses to bridge across shards', async () => {
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
    await expect(media.bridge(a, c)).rejects.toThrow(/different media shards/);
    expect(() => a.setRemote({ address: '127.0.0.1', port: 9, payloadType: 97 })).toThrow(/unknown codec/);
  }, 20_000);

  it('bridges two legs on a worker: each phone hears the other', async () => {
    const media = newEngine();
    const [phoneA, phoneB] = [await phone(), await phone()];
    const a = await media.createEndpoint();
    const b = await media.createEndpoint({ near: a });
    a.setRemote({ address: '127.0.0.1', port: phoneA.address().port, payloadType: 0, telephoneEvent: 101 });
    b.setRemote({ address: '127.0.0.1', port: phoneB.address().port, payloadType: 0, telephoneEvent: 101 });
    await a.bridge(b);
    const heardByB: Buffer[] = [];
    const h = createRtpHeader();
    phoneB.on('message', (msg: Buffer) => {
      if (parseRtp(msg, msg.length, h) && h.payloadType === 0 && msg[12] === CODE) heardByB.push(msg);
    });
    const payload = new Uint8Array(160).fill(CODE);
    for (let seq = 0; seq < 25; seq++) {
      phoneA.send(rtp(seq, payload), a.port, '127.0.0.1');
      await delay(20);
    }
    await delay(200);
    expect(heardByB.length).toBeGreaterThan(10);
    expect(heardByB.every((m) => m.subarray(12).every((x) => x === CODE))).toBe(true);
    const stats = await a.stats();
    expect(stats.packetsReceived).toBeGreaterThanOrEqual(25);
    expect(stats.codec).toBe('PCMU');
  }, 20_000);

  it('reports a digit the far end sends as RFC 4733 as a dtmf event on the main thread', async () => {
    const media = newEngine();
    const phoneA = await phone();
    const a = await media.createEndpoint();
    a.setRemote({ address: '127.0.0.1', port: phoneA.address().port, payloadType: 0, telephoneEvent: 101 });
    const digits: string[] = [];
    a.on('dtmf', (e) => digits.push(`${e.digit}/${e.source}`));
    // Digit 5: start, update, then the end bit three times (RFC 4733 §2.5.1.4).
    const event = (duration: number, end: boolean): Uint8Array => Uint8Array.of(5, (end ? 0x80 : 0) | 10, duration >> 8, duration & 0xff);
    const packets = [event(160, false), event(320, false), event(480, true), event(480, true), event(480, true)];
    for (let i = 0; i < packets.length; i++) {
      const buf = rtp(i, packets[i]!, 101);
      buf.writeUInt32BE(8000, 4); // one event: one timestamp
      phoneA.send(buf, a.port, '127.0.0.1');
      await delay(20);
    }
    await delay(100);
    expect(digits).toEqual(['5/rfc4733']);
  }, 20_000);

  it('a shard that dies ends its legs with closed; legs on the other shard stay up', async () => {
    const media = newEngine();
    const a = await media.createEndpoint();
    const c = await media.createEndpoint();
    expect(c.shard).not.toBe(a.shard);
    const closed: string[] = [];
    a.on('closed', () => closed.push('a'));
    c.on('closed', () => closed.push('c'));
    await media.terminateShard(a.shard);
    await delay(50);
    expect(closed).toEqual(['a']);
    expect(a.state).toBe('closed');
    expect(c.state).toBe('open');
    expect((await c.stats()).packetsReceived).toBe(0);
    // New legs go to the shard still running.
    const d = await media.createEndpoint();
    expect(d.shard).toBe(c.shard);
  }, 20_000);

  it('closes legs idempotently and everything with the engine', async () => {
    const media = newEngine();
    const a = await media.createEndpoint();
    const b = await media.createEndpoint({ near: a });
    let closedA = 0;
    a.on('closed', () => closedA++);
    await Promise.all([a.close(), a.close()]);
    expect(closedA).toBe(1);
    expect(a.state).toBe('closed');
    expect(() => a.setRemote({ address: '127.0.0.1', port: 9, payloadType: 0 })).toThrow(/closed/);
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
