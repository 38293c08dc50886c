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
 *   it. Includes the jitter buffer (60 ms prefetch), the wait for the tick
 *   (0-20 ms), resampling to 16 kHz and the WebSocket hop over loopback.
 * - socket → caller: the server sends a marked frame; time until the phone
 *   receives the RTP packet with it. Includes the playout cushion (40 ms),
 *   the tick phase and encoding.
 *
 * Results are written up in bench/stream-latency.md.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { bench, describe } from 'vitest';
import { encodePcmu } from '../src/media/codecs/g711.js';
import { MediaEngine } from '../src/media/engine.js';
import { AudioStreamSession } from '../src/media/fork/audio-stream.js';

const STREAMS = 100;
const SECONDS = 15;
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

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function row(name: string, values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  const f = (v: number): string => v.toFixed(1);
  return `| ${name} | ${s.length} | ${f(percentile(s, 50))} | ${f(percentile(s, 99))} | ${f(s.at(-1) ?? NaN)} |`;
}

interface PeerResult {
  up: number[];
  down: number[];
  lagP50: number;
  lagP99: number;
}

async function measure(): Promise<string> {
  const tone = new Int16Array(160).map((_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / 8000)));
  const tonePayload = new Uint8Array(160);
  encodePcmu(tone, tonePayload);
  const loadBefore = os.loadavg().map((v) => v.toFixed(2)).join(' ');
  const worker = new Worker(PEER, {
    eval: true,
    workerData: { wsPath: createRequire(import.meta.url).resolve('ws'), streams: STREAMS, seconds: SECONDS, rate: RATE, tonePayload },
  });
  const messages: unknown[] = [];
  let notify: (() => void) | undefined;
  worker.on('message', (m) => {
    messages.push(m);
    notify?.();
  });
  const next = async <T>(): Promise<T> => {
    while (messages.length === 0) await new Promise<void>((r) => (notify = r));
    return messages.shift() as T;
  };
  const ready = await next<{ url: string; phonePorts: number[] }>();

  const engine = new MediaEngine({ portMin: 46000, portMax: 46999, bindAddress: '127.0.0.1', rtpTimeoutMs: 0 });
  const sessions: AudioStreamSession[] = [];
  const legPorts: number[] = [];
  for (let i = 0; i < STREAMS; i++) {
    const leg = await engine.createEndpoint({ id: `leg-${i}` });
    leg.setRemote({ address: '127.0.0.1', port: ready.phonePorts[i]!, payloadType: 0 });
    legPorts.push(leg.session.port);
    const session = new AudioStreamSession(leg, {
      url: ready.url,
      outputSamplingRate: RATE,
      call: { callId: `call-${i}`, from: '+254711000001', to: '+254712345678', direction: 'outbound', accountId: 'bench' },
    });
    void session.start();
    sessions.push(session);
  }
  // Time every tick of the media clock (all 100 legs: RTP, taps, resampling, ws.send).
  const ticks: number[] = [];
  const clock = engine.clock;
  const runTick = clock.runTick.bind(clock);
  clock.runTick = (): void => {
    const t0 = performance.now();
    runTick();
    ticks.push(performance.now() - t0);
  };
  const lag = monitorEventLoopDelay({ resolution: 1 });
  lag.enable();
  const skippedBefore = engine.clock.skipped;
  worker.postMessage({ type: 'legs', legPorts });
  const result = await next<PeerResult>();
  lag.disable();
  const dropped = sessions.reduce((n, s) => n + s.counters().framesDropped, 0);
  const skipped = engine.clock.skipped - skippedBefore;
  await Promise.all(sessions.map((s) => s.close()));
  await engine.close();
  await worker.terminate();

  const cpus = os.cpus();
  const ms = (v: number): string => v.toFixed(1);
  const sortedTicks = [...ticks].sort((a, b) => a - b);
  const ms2 = (v: number): string => v.toFixed(2);
  return [
    `Date: ${new Date().toISOString().slice(0, 10)} · ${cpus[0]?.model ?? 'unknown CPU'} × ${cpus.length} · Node ${process.version} · ${os.platform()} ${os.release()}`,
    `Load average before/after: ${loadBefore} / ${os.loadavg().map((v) => v.toFixed(2)).join(' ')} (other work on the machine inflates the tails).`,
    `${STREAMS} concurrent streams for ${SECONDS} s, ${RATE / 1000} kHz mono, PCMU legs. Frames dropped: ${dropped}; media clock ticks skipped: ${skipped}.`,
    `Event-loop delay, platform thread: p50 ${ms(lag.percentile(50) / 1e6)} ms, p99 ${ms(lag.percentile(99) / 1e6)} ms; peer thread: p50 ${ms(result.lagP50)} ms, p99 ${ms(result.lagP99)} ms.`,
    `Media tick (100 legs + streams): p50 ${ms2(percentile(sortedTicks, 50))} ms, p99 ${ms2(percentile(sortedTicks, 99))} ms, max ${ms2(sortedTicks.at(-1) ?? NaN)} ms (budget 20 ms).`,
    '',
    '| direction | samples | p50 ms | p99 ms | max ms |',
    '| --- | --- | --- | --- | --- |',
    row('caller → socket (RTP in → binary frame at the server)', result.up),
    row('socket → caller (binary frame sent → RTP out)', result.down),
  ].join('\n');
}

describe('audio stream latency', () => {
  bench(
    `${STREAMS} concurrent streams: added latency both ways`,
    async () => {
      console.log(`\n${await measure()}\n`);
    },
    { iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 },
  );
});
