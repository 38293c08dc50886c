/**
 * Added latency of the audio stream (`stream` action, SPEC §8) with 100
 * concurrent streams. Run: `npx vitest bench --run bench/stream-latency.bench.ts`.
 *
 * The platform side (one MediaEngine, 100 endpoints, 100 AudioStreamSessions)
 * runs on the main thread, as in production. The far ends run on a worker
 * thread, so their own timer and socket work does not load the media loop:
 * 100 UDP "phones" sending PCMU every 20 ms and a ws server (the customer's
 * bridge) sending 20 ms frames in real time. Both timestamps of every
 * measurement are taken on the worker.
 *
 * - caller → socket: a phone sends a marked RTP packet (20 ms of 1 kHz in a
 *   stream of silence); time until the server receives the binary frame with
 *   it. With `inbound_track` the packet goes on as it arrives (reordering
 *   only, no tick); includes decoding, resampling to 16 kHz and the
 *   WebSocket hop over loopback.
 * - socket → caller: the server sends a marked frame; time until the phone
 *   receives the RTP packet with it. Includes the adaptive playout cushion
 *   (from 20 ms), the tick phase (0-20 ms) and encoding.
 *
 * Reference, in the same run: a relay with no media engine — per stream a
 * plain dgram socket and a `ws` client that forwards every RTP payload at
 * once as a 16 kHz frame (µ-law decoded, samples doubled) and every frame
 * from the server at once as an RTP packet. It measures what loopback, the
 * worker's timers and `ws` cost, so the engine's figures can be read as
 * "added by the platform" above it.
 *
 * Engine and relay runs alternate, RUNS of each (default 3,
 * STREAM_BENCH_RUNS); each run STREAM_BENCH_SECONDS (default 8). The table
 * gives the median over the runs of each run's p50, p99 and max, and is
 * written to bench/README.md (block `stream-latency`).
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { bench, describe } from 'vitest';
import { encodePcmu } from '../src/media/codecs/g711.js';
import { markdownTable, median, quantile, recordHeadline, writeReadmeSection } from './lib/readme-section.js';
import { engineSide, relaySide } from './lib/stream-sides.js';
import { workerInbox } from './lib/worker-inbox.js';

const STREAMS = Number(process.env.STREAM_BENCH_STREAMS ?? 100);
const SECONDS = Number(process.env.STREAM_BENCH_SECONDS ?? 8);
const RUNS = Number(process.env.STREAM_BENCH_RUNS ?? 3);
const RATE = 16000;

/** The far ends (CommonJS, evaluated on a worker thread). */
const PEER = `
const { parentPort, workerData } = require('node:worker_threads');
const dgram = require('node:dgram');
const { performance, monitorEventLoopDelay } = require('node:perf_hooks');
const { WebSocketServer } = require(workerData.wsPath);
const { streams: N, seconds, rate, tonePayload } = workerData;
const MARK_EVERY = 25; // one marker per stream and direction every 500 ms

function ulaw(u) {
  u = ~u & 0xff;
  const exp = (u >> 4) & 7;
  const s = ((((u & 0x0f) << 3) + 0x84) << exp) - 0x84;
  return u & 0x80 ? -s : s;
}

const up = [], down = [];
const peers = [];
let legPorts = [];
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => 'audio.drachtio.org' });
wss.on('connection', (ws) => {
  let peer;
  ws.on('message', (buf, isBinary) => {
    if (!isBinary) {
      peer = peers[Number(JSON.parse(buf.toString()).callId.slice(5))];
      peer.conn = ws;
      return;
    }
    if (!peer || peer.upSentAt === 0) return;
    for (let i = 0; i < buf.length; i += 2) {
      if (Math.abs(buf.readInt16LE(i)) > 3000) { up.push(performance.now() - peer.upSentAt); peer.upSentAt = 0; return; }
    }
  });
});

async function main() {
  await new Promise((r) => wss.once('listening', r));
  for (let i = 0; i < N; i++) {
    const phone = dgram.createSocket('udp4');
    await new Promise((r) => phone.bind(0, '127.0.0.1', r));
    const peer = { phone, conn: undefined, upSentAt: 0, downSentAt: 0, seq: 0 };
    phone.on('message', (msg) => {
      if (peer.downSentAt === 0) return;
      for (let b = 12; b < msg.length; b++) {
        if (Math.abs(ulaw(msg[b])) > 3000) { down.push(performance.now() - peer.downSentAt); peer.downSentAt = 0; return; }
      }
    });
    peers.push(peer);
  }
  parentPort.postMessage({ type: 'ready', url: 'ws://127.0.0.1:' + wss.address().port + '/audio', phonePorts: peers.map((p) => p.phone.address().port) });
}

parentPort.on('message', async (msg) => {
  if (msg.type !== 'legs') return;
  legPorts = msg.legPorts;
  while (peers.some((p) => !p.conn)) await new Promise((r) => setTimeout(r, 20));
  const silentPayload = new Uint8Array(160).fill(0xff);
  const silentFrame = Buffer.alloc((rate / 8000) * 320);
  const toneFrame = Buffer.alloc(silentFrame.length);
  for (let i = 0; i < toneFrame.length / 2; i++) toneFrame.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / rate)), i * 2);
  const lag = monitorEventLoopDelay({ resolution: 1 });
  lag.enable();
  const start = performance.now();
  const slots = (seconds * 1000) / 20;
  let slot = 0;
  const timer = setInterval(() => {
    // A real-time schedule: each 20 ms slot every phone sends one packet and the server one frame per stream.
    while (slot * 20 <= performance.now() - start && slot < slots) {
      const warm = slot > 50; // let jitter buffers and playout settle for a second
      for (let i = 0; i < peers.length; i++) {
        const p = peers[i];
        const mark = warm && slot % MARK_EVERY === i % MARK_EVERY;
        const pkt = Buffer.alloc(172);
        pkt[0] = 0x80; pkt[1] = 0;
        pkt.writeUInt16BE(p.seq & 0xffff, 2);
        pkt.writeUInt32BE((p.seq * 160) >>> 0, 4);
        pkt.writeUInt32BE(0x1000 + i, 8);
        const upMark = mark && p.upSentAt === 0;
        pkt.set(upMark ? tonePayload : silentPayload, 12);
        p.seq++;
        if (upMark) p.upSentAt = performance.now();
        p.phone.send(pkt, legPorts[i], '127.0.0.1');
        const downMark = mark && p.downSentAt === 0;
        if (downMark) p.downSentAt = performance.now();
        p.conn.send(downMark ? toneFrame : silentFrame);
      }
      slot++;
    }
    if (slot >= slots) {
      clearInterval(timer);
      lag.disable();
      for (const p of peers) p.phone.close();
      wss.close();
      parentPort.postMessage({ type: 'result', up, down, lagP50: lag.percentile(50) / 1e6, lagP99: lag.percentile(99) / 1e6 });
    }
  }, 2);
});
main();
`;

interface PeerResult {
  up: number[];
  down: number[];
  lagP50: number;
  lagP99: number;
}

type Mode = 'engine' | 'relay';

interface RunResult {
  mode: Mode;
  up: number[];
  down: number[];
  /** Event-loop delay p99 of the platform (or relay) thread and of the peers' thread, ms. */
  lagP99: number;
  peerLagP99: number;
  /** Media tick duration p50/p99, ms (engine only). */
  tickP50: number;
  tickP99: number;
  dropped: number;
  skipped: number;
  loadAvg: number;
}

async function measure(mode: Mode): Promise<RunResult> {
  const tone = new Int16Array(160).map((_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / 8000)));
  const tonePayload = new Uint8Array(160);
  encodePcmu(tone, tonePayload);
  const worker = new Worker(PEER, {
    eval: true,
    workerData: { wsPath: createRequire(import.meta.url).resolve('ws'), streams: STREAMS, seconds: SECONDS, rate: RATE, tonePayload },
  });
  const next = workerInbox(worker);
  const ready = await next<{ url: string; phonePorts: number[] }>();
  const side = mode === 'engine' ? await engineSide(ready.url, ready.phonePorts, RATE) : await relaySide(ready.url, ready.phonePorts, RATE);
  const lag = monitorEventLoopDelay({ resolution: 1 });
  lag.enable();
  worker.postMessage({ type: 'legs', legPorts: side.legPorts });
  const result = await next<PeerResult>();
  lag.disable();
  const { dropped, skipped, ticks } = await side.finish();
  await worker.terminate();
  return {
    mode,
    up: result.up,
    down: result.down,
    lagP99: lag.percentile(99) / 1e6,
    peerLagP99: result.lagP99,
    tickP50: quantile(ticks, 0.5),
    tickP99: quantile(ticks, 0.99),
    dropped,
    skipped,
    loadAvg: os.loadavg()[0]!,
  };
}

const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '–');

/** Medians over the runs of one mode: each run's p50, p99 and max in each direction. */
function summary(runs: RunResult[]) {
  const per = (f: (r: RunResult) => number): number => median(runs.map(f));
  return {
    upP50: per((r) => quantile(r.up, 0.5)),
    upP99: per((r) => quantile(r.up, 0.99)),
    upMax: per((r) => Math.max(...r.up)),
    downP50: per((r) => quantile(r.down, 0.5)),
    downP99: per((r) => quantile(r.down, 0.99)),
    downMax: per((r) => Math.max(...r.down)),
    samples: per((r) => r.up.length + r.down.length),
    lagP99: per((r) => r.lagP99),
    peerLagP99: per((r) => r.peerLagP99),
    tickP50: per((r) => r.tickP50),
    tickP99: per((r) => r.tickP99),
    dropped: per((r) => r.dropped),
    skipped: per((r) => r.skipped),
  };
}

function render(all: RunResult[]): string {
  const engine = summary(all.filter((r) => r.mode === 'engine'));
  const relay = summary(all.filter((r) => r.mode === 'relay'));
  recordHeadline({
    id: 'stream-latency',
    what: `Caller RTP → stream frame, media engine alone, ${STREAMS} streams (p50 / p99)`,
    value: `${ms(engine.upP50)} / ${ms(engine.upP99)} ms`,
    reference: `no-buffer relay: ${ms(relay.upP50)} / ${ms(relay.upP99)} ms`,
    goal: 'p50 within 10 ms of the relay (SPEC §19)',
    section: 'audio-stream-latency-stream-action',
  });
  const rows = [
    ['caller → socket (RTP in → binary frame at the server)', engine.upP50, engine.upP99, engine.upMax, relay.upP50, relay.upP99, engine.upP50 - relay.upP50],
    ['socket → caller (binary frame sent → RTP out)', engine.downP50, engine.downP99, engine.downMax, relay.downP50, relay.downP99, engine.downP50 - relay.downP50],
  ].map(([name, ...values]) => [name as string, ...(values as number[]).map(ms)]);
  const perRun = all.map((r, i) => [
    i + 1,
    r.mode,
    `${ms(quantile(r.up, 0.5))} / ${ms(quantile(r.up, 0.99))}`,
    `${ms(quantile(r.down, 0.5))} / ${ms(quantile(r.down, 0.99))}`,
    r.mode === 'engine' ? `${r.tickP50.toFixed(2)} / ${r.tickP99.toFixed(2)}` : '–',
    r.mode === 'engine' ? `${r.skipped} / ${r.dropped}` : '–',
    `${ms(r.lagP99)} / ${ms(r.peerLagP99)}`,
    r.loadAvg.toFixed(1),
  ]);
  return [
    `${STREAMS} concurrent streams, 16 kHz mono, PCMU legs; ${RUNS} runs of ${SECONDS} s per mode, engine and relay alternating. Figures are medians over the runs (ms).`,
    '',
    markdownTable(['direction', 'engine p50', 'engine p99', 'engine max', 'relay p50', 'relay p99', 'added by the engine, p50'], rows),
    '',
    `Media tick for ${STREAMS} legs with streams, median of runs: p50 ${engine.tickP50.toFixed(2)} ms, p99 ${engine.tickP99.toFixed(2)} ms (budget 20 ms).`,
    '',
    markdownTable(['run', 'mode', 'caller → socket p50 / p99', 'socket → caller p50 / p99', 'tick p50 / p99', 'ticks skipped / frames dropped', 'loop delay p99, platform / peers', 'load avg'], perRun),
  ].join('\n');
}

describe('audio stream latency', () => {
  bench(
    `${STREAMS} concurrent streams: added latency both ways, with a no-buffer relay as reference`,
    async () => {
      const runs: RunResult[] = [];
      for (let i = 0; i < RUNS; i++) {
        runs.push(await measure('relay'));
        runs.push(await measure('engine'));
      }
      const markdown = render(runs);
      console.log(`\n${markdown}\n`);
      writeReadmeSection('stream-latency', markdown, { heading: 'Audio stream latency (`stream` action)' });
    },
    { iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 },
  );
});
