/**
 * The system under test for the bridged-call benchmark, run as its own
 * process (see media-ipc.ts), in one of two modes (argv[2]):
 *
 * - `engine`: a `MediaEngine` with two legs per call, bridged with
 *   `engine.bridge(a, b)`: jitter buffer, PCMU decode, in-band DTMF
 *   detection, bridge, encode, RTP send on the 20 ms clock, RTCP.
 * - `echo`: the reference floor — two plain dgram sockets per call; a packet
 *   arriving on one is sent, unchanged, out of the other to the other phone.
 *   Same sockets, same packets in and out, no media work.
 *
 * - `shards N [cross]`: the same calls on a `ShardedMediaEngine` with N
 *   worker threads (default 2), both legs of a call on one worker, or with
 *   `cross` on different workers (bridged through shared-memory rings). Process CPU
 *   covers every thread; tick timings are not collected (the clocks run in
 *   the workers) and memory is the main thread's heap plus all ArrayBuffers.
 *
 * Run with `--expose-gc` so memory is read after a collection.
 */
import dgram from 'node:dgram';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { MediaEngine } from '../../src/media/engine.js';
import { ShardedMediaEngine, type ShardEndpoint } from '../../src/media/shard/sharded-media-engine.js';
import type { MediaEndpoint } from '../../src/media/endpoint.js';
import { serve } from './media-ipc.js';

const mode = process.argv[2] === 'echo' ? 'echo' : process.argv[2] === 'shards' ? 'shards' : 'engine';
/** Mode `shards`: worker threads (argv[3], default 2), one `MediaEngine` each, both legs of a call on one. */
const shardCount = Number(process.argv[3] ?? 2);
/** argv[4] 'cross': the two legs of a call on different shards (bridged through shared memory), the worst placement. */
const crossShards = process.argv[4] === 'cross';
let sharded: ShardedMediaEngine | undefined;
let shardLegs: ShardEndpoint[] = [];
/** Jitter counters summed over the shards at markStart. */
let shardJb0 = jitterZero();
const gc = (globalThis as { gc?: () => void }).gc;

let engine: MediaEngine | undefined;
let legs: MediaEndpoint[] = [];
let sockets: dgram.Socket[] = [];
let mem0 = { rss: 0, heap: 0, external: 0 };
let cpu0: NodeJS.CpuUsage = { user: 0, system: 0 };
let t0 = 0;
let elu0 = performance.eventLoopUtilization();
let jb0 = jitterZero();
// CPU per 2 s slice of the window, so the orchestrator can report a median of several samples.
const SLICE_MS = 2000;
let slices: number[] = [];
let sliceTimer: NodeJS.Timeout | undefined;

// Tick timing: a 'receive' handler subscribed before any leg runs first on
// each tick and a 'send' handler subscribed after all legs runs last, so
// their difference is the whole tick's media work.
const tickMs: number[] = [];
const tickGapMs: number[] = [];
let tickStart = 0;
let tickLateMax = 0;
let measuringTicks = false;

function memory(): { rss: number; heap: number; external: number } {
  gc?.();
  const m = process.memoryUsage();
  // `external` already includes `arrayBuffers` (Node's docs): adding both counted every Buffer twice.
  return { rss: m.rss, heap: m.heapUsed, external: m.external };
}

type JitterTotals = { lost: number; late: number; discarded: number; overflow: number; shrunk: number };

function jitterZero(): JitterTotals {
  return { lost: 0, late: 0, discarded: 0, overflow: 0, shrunk: 0 };
}

/** The legs' jitter-buffer counters, summed: where the engine dropped or concealed packets. */
function jitterTotals(): JitterTotals {
  const t = jitterZero();
  for (const leg of legs) {
    const s = leg.session.jitter.stats;
    t.lost += s.lost;
    t.late += s.late;
    t.discarded += s.discarded;
    t.overflow += s.overflow;
    t.shrunk += s.shrunk;
  }
  return t;
}

async function shardJitter(): Promise<JitterTotals> {
  return sumJitter((await sharded!.diagnostics()).map((d) => d.jitter), jitterZero());
}

/** Sum of the shards' counters, minus `base` (null for the shards' own totals). */
function sumJitter(list: JitterTotals[], base: JitterTotals): JitterTotals {
  const t = jitterZero();
  for (const j of list) for (const k of Object.keys(t) as (keyof JitterTotals)[]) t[k] += j[k];
  for (const k of Object.keys(t) as (keyof JitterTotals)[]) t[k] -= base[k];
  return t;
}

// GC pauses in the window: a long one stalls the 20 ms clock like any other stall.
let gcMs = 0;
let gcMaxMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcMs += e.duration;
    gcMaxMs = Math.max(gcMaxMs, e.duration);
  }
}).observe({ entryTypes: ['gc'] });

function bindOne(): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

serve({
  /** Create two legs (or two echo sockets) per call; returns their ports [a, b] per call. */
  async setup(arg: { calls: number; portMin: number; portMax: number }): Promise<[number, number][]> {
    mem0 = memory();
    const ports: [number, number][] = [];
    if (mode === 'echo') {
      for (let c = 0; c < arg.calls; c++) {
        const a = await bindOne();
        const b = await bindOne();
        sockets.push(a, b);
        ports.push([a.address().port, b.address().port]);
      }
      return ports;
    }
    if (mode === 'shards') {
      sharded = new ShardedMediaEngine({ workers: shardCount, portMin: arg.portMin, portMax: arg.portMax, bindAddress: '127.0.0.1', rtpTimeoutMs: 0 });
      for (let c = 0; c < arg.calls; c++) {
        const a = await sharded.createEndpoint({ id: `call${c}-a` });
        const b = await sharded.createEndpoint(crossShards ? { id: `call${c}-b` } : { id: `call${c}-b`, near: a });
        shardLegs.push(a, b);
        ports.push([a.port, b.port]);
      }
      return ports;
    }
    // No RTP timeout: a leg that waits for its phone during setup must not time out.
    engine = new MediaEngine({ portMin: arg.portMin, portMax: arg.portMax, bindAddress: '127.0.0.1', rtpTimeoutMs: 0 });
    const clock = engine.clock;
    clock.add('receive', () => {
      tickStart = performance.now();
    });
    for (let c = 0; c < arg.calls; c++) {
      const a = await engine.createEndpoint({ id: `call${c}-a` });
      const b = await engine.createEndpoint({ id: `call${c}-b` });
      legs.push(a, b);
      ports.push([a.session.port, b.session.port]);
    }
    let lastStart = 0;
    clock.add('send', () => {
      const end = performance.now();
      if (measuringTicks) {
        tickMs.push(end - tickStart);
        // Lateness of this tick's start relative to the previous one (20 ms nominal).
        if (lastStart > 0) {
          tickGapMs.push(tickStart - lastStart);
          tickLateMax = Math.max(tickLateMax, tickStart - lastStart - clock.intervalMs);
        }
      }
      lastStart = tickStart;
    });
    return ports;
  },

  /** Point each leg (or echo socket) at its phone and bridge the two legs of every call. */
  connect(arg: { phones: [number, number][] }): null {
    arg.phones.forEach(([pa, pb], c) => {
      if (mode === 'echo') {
        const a = sockets[2 * c]!;
        const b = sockets[2 * c + 1]!;
        a.on('message', (msg) => b.send(msg, pb, '127.0.0.1'));
        b.on('message', (msg) => a.send(msg, pa, '127.0.0.1'));
        return;
      }
      if (mode === 'shards') {
        const a = shardLegs[2 * c]!;
        const b = shardLegs[2 * c + 1]!;
        a.setRemote({ address: '127.0.0.1', port: pa, payloadType: 0, telephoneEvent: 101 });
        b.setRemote({ address: '127.0.0.1', port: pb, payloadType: 0, telephoneEvent: 101 });
        void a.bridge(b);
        return;
      }
      const a = legs[2 * c]!;
      const b = legs[2 * c + 1]!;
      a.setRemote({ address: '127.0.0.1', port: pa, payloadType: 0, telephoneEvent: 101 });
      b.setRemote({ address: '127.0.0.1', port: pb, payloadType: 0, telephoneEvent: 101 });
      engine!.bridge(a, b);
    });
    return null;
  },

  async markStart(): Promise<null> {
    jb0 = jitterTotals();
    if (sharded) shardJb0 = await shardJitter();
    gcMs = gcMaxMs = 0;
    tickMs.length = 0;
    tickGapMs.length = 0;
    tickLateMax = 0;
    measuringTicks = true;
    elu0 = performance.eventLoopUtilization();
    cpu0 = process.cpuUsage();
    t0 = performance.now();
    slices = [];
    let last = { cpu: cpu0, at: t0 };
    sliceTimer = setInterval(() => {
      const cpu = process.cpuUsage();
      const at = performance.now();
      const us = cpu.user - last.cpu.user + cpu.system - last.cpu.system;
      slices.push((100 * us) / 1000 / (at - last.at));
      last = { cpu, at };
    }, SLICE_MS);
    return null;
  },

  async markEnd(arg: { calls: number }): Promise<unknown> {
    const cpu = process.cpuUsage(cpu0);
    // Shards: their jitter counters, and the busiest worker's event loop (the main thread only relays).
    const shardDiag = sharded ? await sharded.diagnostics() : [];
    const ms = performance.now() - t0;
    const elu = performance.eventLoopUtilization(elu0);
    clearInterval(sliceTimer);
    const gcPause = { ms: gcMs, maxMs: gcMaxMs };
    measuringTicks = false;
    const mem = memory();
    const jb = sharded ? sumJitter(shardDiag.map((d) => d.jitter), shardJb0) : jitterTotals();
    tickMs.sort((a, b) => a - b);
    tickGapMs.sort((a, b) => a - b);
    const q = (p: number, list = tickMs): number => list[Math.min(list.length - 1, Math.floor(p * list.length))] ?? Number.NaN;
    return {
      mode,
      calls: arg.calls,
      windowMs: ms,
      cpuUs: cpu.user + cpu.system,
      userUs: cpu.user,
      systemUs: cpu.system,
      cpuPct: (100 * (cpu.user + cpu.system)) / 1000 / ms,
      /** CPU % of one core in each 2 s slice of the window. */
      cpuPctSlices: slices,
      eventLoopUtilization: sharded ? Math.max(...shardDiag.map((d) => d.eventLoopUtilization)) : elu.utilization,
      rssDelta: mem.rss - mem0.rss,
      heapDelta: mem.heap - mem0.heap,
      externalDelta: mem.external - mem0.external,
      rss: mem.rss,
      tickMs: { p50: q(0.5), p99: q(0.99), max: tickMs[tickMs.length - 1] ?? Number.NaN },
      tickLateMaxMs: tickLateMax,
      /** Start-to-start interval of ticks (20 ms nominal). */
      tickGapMs: { p50: q(0.5, tickGapMs), p99: q(0.99, tickGapMs), max: tickGapMs[tickGapMs.length - 1] ?? Number.NaN },
      gcPause,
      jitterBuffer: { lost: jb.lost - jb0.lost, late: jb.late - jb0.late, discarded: jb.discarded - jb0.discarded, overflow: jb.overflow - jb0.overflow, shrunk: jb.shrunk - jb0.shrunk },
    };
  },

  async teardown(): Promise<null> {
    for (const s of sockets) s.close();
    sockets = [];
    await engine?.close();
    engine = undefined;
    legs = [];
    await sharded?.close();
    sharded = undefined;
    shardLegs = [];
    return null;
  },
});
