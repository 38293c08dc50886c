/**
 * What a voice agent feels of the audio stream (SPEC §19), with 20
 * concurrent 16 kHz streams. Run:
 * `npx vitest bench --run --config vitest.bench.config.ts bench/stream-agent.bench.ts`.
 *
 * As in stream-latency.bench.ts, the platform side (MediaEngine, endpoints,
 * AudioStreamSessions — or the no-buffer relay) runs on this thread and the
 * far ends (UDP phones, the customer's `ws` server) on a worker, which takes
 * both timestamps of every measurement. Three scenarios:
 *
 * - round trip: every 500 ms a phone sends a marked 20 ms packet; the server
 *   answers the frame that carries it at once with a marked frame (and skips
 *   its next scheduled one, so the audio stays real time); time from the
 *   phone's send to the phone receiving the answer. Engine and relay.
 * - slow sender: the server sends a continuous tone paced 3 % slow (a
 *   frame every 20.6 ms, as a `setInterval(20)` that runs late); the phone
 *   counts packets after the first 2 s that carry silence (gaps). Engine.
 * - stall: the platform thread is blocked for 200 ms (a busy loop, as a GC
 *   pause or a starved CPU would) 3 s in, while the server keeps sending in
 *   real time with a marker per stream every 100 ms; socket → caller
 *   latency before the stall and in each later second. Engine and relay.
 *
 * STREAM_AGENT_STREAMS (20), STREAM_AGENT_SECONDS (8), STREAM_AGENT_RUNS (3).
 * The table is written to bench/README.md (block `stream-agent`).
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { bench, describe } from 'vitest';
import { encodePcmu } from '../src/media/codecs/g711.js';
import { markdownTable, median, quantile, writeReadmeSection } from './lib/readme-section.js';
import { engineSide, relaySide } from './lib/stream-sides.js';
import { workerInbox } from './lib/worker-inbox.js';

const STREAMS = Number(process.env.STREAM_AGENT_STREAMS ?? 20);
const SECONDS = Number(process.env.STREAM_AGENT_SECONDS ?? 8);
const RUNS = Number(process.env.STREAM_AGENT_RUNS ?? 3);
const RATE = 16000;
const STALL_AT_MS = 3000;
const STALL_MS = 200;

type Scenario = 'echo' | 'slow' | 'stall';
type Mode = 'engine' | 'relay';

/** The far ends (CommonJS, evaluated on a worker thread). */
const PEER = `
const { parentPort, workerData } = require('node:worker_threads');
const dgram = require('node:dgram');
const { performance } = require('node:perf_hooks');
const { WebSocketServer } = require(workerData.wsPath);
const { streams: N, seconds, rate, tonePayload, scenario, stallAtMs } = workerData;

function ulaw(u) {
  u = ~u & 0xff;
  const exp = (u >> 4) & 7;
  const s = ((((u & 0x0f) << 3) + 0x84) << exp) - 0x84;
  return u & 0x80 ? -s : s;
}
function peak(msg) {
  let p = 0;
  for (let b = 12; b < msg.length; b++) { const v = Math.abs(ulaw(msg[b])); if (v > p) p = v; }
  return p;
}

const rtt = [], down = [];
let gaps = 0, counted = 0;
const peers = [];
let start = 0;
const silentFrame = Buffer.alloc((rate / 8000) * 320);
const toneFrame = Buffer.alloc(silentFrame.length);
for (let i = 0; i < toneFrame.length / 2; i++) toneFrame.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / rate)), i * 2);

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => 'audio.drachtio.org' });
wss.on('connection', (ws) => {
  let peer;
  ws.on('message', (buf, isBinary) => {
    if (!isBinary) { peer = peers[Number(JSON.parse(buf.toString()).callId.slice(5))]; peer.conn = ws; return; }
    if (scenario !== 'echo' || !peer || peer.upSentAt === 0 || peer.echoed) return;
    for (let i = 0; i < buf.length; i += 2) {
      if (Math.abs(buf.readInt16LE(i)) > 3000) { ws.send(toneFrame); peer.echoed = true; peer.skip = true; return; }
    }
  });
});

async function main() {
  await new Promise((r) => wss.once('listening', r));
  for (let i = 0; i < N; i++) {
    const phone = dgram.createSocket('udp4');
    await new Promise((r) => phone.bind(0, '127.0.0.1', r));
    const peer = { phone, conn: undefined, upSentAt: 0, downSentAt: 0, echoed: false, skip: false, seq: 0 };
    phone.on('message', (msg) => {
      const now = performance.now();
      const loud = peak(msg) > 3000;
      if (scenario === 'echo' && loud && peer.echoed) { rtt.push(now - peer.upSentAt); peer.upSentAt = 0; peer.echoed = false; }
      if (scenario === 'stall' && loud && peer.downSentAt !== 0) { down.push([peer.downSentAt - start, now - peer.downSentAt]); peer.downSentAt = 0; }
      if (scenario === 'slow' && now - start > 2000 && now - start < seconds * 1000 - 200) { counted++; if (peak(msg) < 1000) gaps++; }
    });
    peers.push(peer);
  }
  parentPort.postMessage({ type: 'ready', url: 'ws://127.0.0.1:' + wss.address().port + '/audio', phonePorts: peers.map((p) => p.phone.address().port) });
}

parentPort.on('message', async (msg) => {
  if (msg.type !== 'legs') return;
  const legPorts = msg.legPorts;
  while (peers.some((p) => !p.conn)) await new Promise((r) => setTimeout(r, 20));
  const silentPayload = new Uint8Array(160).fill(0xff);
  start = performance.now();
  const slots = (seconds * 1000) / 20;
  let slot = 0, downSlot = 0, stallSent = false;
  const downEvery = scenario === 'slow' ? 20.6 : 20;
  const downSlots = Math.floor((seconds * 1000) / downEvery);
  const timer = setInterval(() => {
    const elapsed = performance.now() - start;
    if (scenario === 'stall' && !stallSent && elapsed >= stallAtMs) { stallSent = true; parentPort.postMessage({ type: 'stall' }); }
    while (slot * 20 <= elapsed && slot < slots) {
      const warm = slot > 50;
      for (let i = 0; i < peers.length; i++) {
        const p = peers[i];
        const pkt = Buffer.alloc(172);
        pkt[0] = 0x80; pkt[1] = 0;
        pkt.writeUInt16BE(p.seq & 0xffff, 2);
        pkt.writeUInt32BE((p.seq * 160) >>> 0, 4);
        pkt.writeUInt32BE(0x1000 + i, 8);
        const upMark = scenario === 'echo' && warm && slot % 25 === i % 25 && p.upSentAt === 0;
        pkt.set(upMark ? tonePayload : silentPayload, 12);
        p.seq++;
        if (upMark) { p.upSentAt = performance.now(); p.echoed = false; }
        p.phone.send(pkt, legPorts[i], '127.0.0.1');
      }
      slot++;
    }
    while (downSlot * downEvery <= elapsed && downSlot < downSlots) {
      for (let i = 0; i < peers.length; i++) {
        const p = peers[i];
        if (p.skip) { p.skip = false; continue; }
        if (scenario === 'slow') { p.conn.send(toneFrame); continue; }
        const mark = scenario === 'stall' && downSlot > 50 && downSlot % 5 === i % 5 && p.downSentAt === 0;
        if (mark) p.downSentAt = performance.now();
        p.conn.send(mark ? toneFrame : silentFrame);
      }
      downSlot++;
    }
    if (slot >= slots && downSlot >= downSlots) {
      clearInterval(timer);
      for (const p of peers) p.phone.close();
      wss.close();
      parentPort.postMessage({ type: 'result', rtt, down, gaps, counted });
    }
  }, 2);
});
main();
`;

interface PeerResult {
  rtt: number[];
  /** [sent at, ms since the run started; latency ms] */
  down: Array<[number, number]>;
  gaps: number;
  counted: number;
}

interface RunResult extends PeerResult {
  scenario: Scenario;
  mode: Mode;
  skipped: number;
}

async function measure(scenario: Scenario, mode: Mode): Promise<RunResult> {
  const tone = new Int16Array(160).map((_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / 8000)));
  const tonePayload = new Uint8Array(160);
  encodePcmu(tone, tonePayload);
  const worker = new Worker(PEER, {
    eval: true,
    workerData: { wsPath: createRequire(import.meta.url).resolve('ws'), streams: STREAMS, seconds: SECONDS, rate: RATE, tonePayload, scenario, stallAtMs: STALL_AT_MS },
  });
  const next = workerInbox(worker, (m) => {
    if (m.type !== 'stall') return false;
    // The platform thread stops for STALL_MS: timers, sockets and the media clock all wait.
    const until = performance.now() + STALL_MS;
    while (performance.now() < until);
    return true;
  });
  const ready = await next<{ url: string; phonePorts: number[] }>();
  const side = mode === 'engine' ? await engineSide(ready.url, ready.phonePorts, RATE) : await relaySide(ready.url, ready.phonePorts, RATE);
  worker.postMessage({ type: 'legs', legPorts: side.legPorts });
  const result = await next<PeerResult>();
  const { skipped } = await side.finish();
  await worker.terminate();
  return { ...result, scenario, mode, skipped };
}

const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '–');
const latencies = (r: RunResult, from: number, to: number): number[] => r.down.filter(([at]) => at >= from && at < to).map(([, l]) => l);

function render(all: RunResult[]): string {
  const of = (scenario: Scenario, mode: Mode): RunResult[] => all.filter((r) => r.scenario === scenario && r.mode === mode);
  const per = (runs: RunResult[], f: (r: RunResult) => number): number => median(runs.map(f));
  const rows: string[][] = [];
  for (const mode of ['engine', 'relay'] as const) {
    const runs = of('echo', mode);
    rows.push([`round trip (phone → socket → answer → phone), ${mode}`, ms(per(runs, (r) => quantile(r.rtt, 0.5))), ms(per(runs, (r) => quantile(r.rtt, 0.99))), String(per(runs, (r) => r.rtt.length))]);
  }
  const slow = of('slow', 'engine');
  const gapLine = slow.map((r) => `${r.gaps} of ${r.counted}`).join(', ');
  const stallRows: string[][] = [];
  const stallEnd = STALL_AT_MS + STALL_MS;
  const windows: Array<[string, number, number]> = [
    ['1 s before the stall', STALL_AT_MS - 1000, STALL_AT_MS],
    ['0–1 s after it', stallEnd, stallEnd + 1000],
    ['1–2 s after', stallEnd + 1000, stallEnd + 2000],
    ['2–3 s after', stallEnd + 2000, stallEnd + 3000],
  ];
  for (const [name, from, to] of windows) {
    const cells = (['engine', 'relay'] as const).map((mode) => {
      const runs = of('stall', mode);
      return `${ms(per(runs, (r) => quantile(latencies(r, from, to), 0.5)))} / ${ms(per(runs, (r) => Math.max(...latencies(r, from, to))))}`;
    });
    stallRows.push([name, ...cells]);
  }
  return [
    `${STREAMS} concurrent streams, 16 kHz mono (inbound_track), PCMU legs; ${RUNS} runs of ${SECONDS} s per scenario and mode. Figures are medians over the runs (ms).`,
    '',
    markdownTable(['round trip', 'p50', 'p99', 'samples per run'], rows),
    '',
    `Slow sender (a frame every 20.6 ms, 3 % slow), packets to the caller carrying silence after the first 2 s, per run: ${gapLine}. Ticks skipped by the media clock in those runs: ${slow.map((r) => r.skipped).join(', ')}.`,
    '',
    `Socket → caller after a ${STALL_MS} ms stall of the platform thread at ${STALL_AT_MS / 1000} s (server sending in real time), p50 / max:`,
    '',
    markdownTable(['when', 'engine', 'relay'], stallRows),
  ].join('\n');
}

describe('audio stream for voice agents', () => {
  bench(
    `${STREAMS} streams: round trip, a 3 % slow sender, recovery after a 200 ms stall`,
    async () => {
      const runs: RunResult[] = [];
      for (let i = 0; i < RUNS; i++) {
        for (const scenario of ['echo', 'slow', 'stall'] as const) {
          for (const mode of scenario === 'slow' ? (['engine'] as const) : (['relay', 'engine'] as const)) runs.push(await measure(scenario, mode));
        }
      }
      const markdown = render(runs);
      console.log(`\n${markdown}\n`);
      writeReadmeSection('stream-agent', markdown, { heading: 'Audio streams for voice agents (round trip, slow sender, stall)' });
    },
    { iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 },
  );
});
