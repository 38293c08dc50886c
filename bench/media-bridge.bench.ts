/**
 * Bridged G.711 calls over real RTP on 127.0.0.1, with a raw Node UDP echo
 * measured in the same run as the floor.
 *
 * Run: `npx vitest bench --run --config vitest.bench.config.ts bench/media-bridge.bench.ts`
 * (about 2 minutes). Env: MEDIA_BENCH_CALLS=100,200 (steps), MEDIA_BENCH_RUNS=3
 * (engine/echo pairs per step; every figure is the median of the runs),
 * MEDIA_BENCH_WINDOW_S=4 (measured seconds per run), MEDIA_BENCH_SHARDS=2
 * (also run the calls on a ShardedMediaEngine with that many worker threads;
 * 0 skips it), MEDIA_BENCH_SHARD_PLACEMENT=cross (the two legs of a call on
 * different shards), MEDIA_BENCH_STALLS=1
 * (also the sender-pause runs, about 1 more minute), MEDIA_BENCH_JSON=path
 * (raw results). Writes the `media-bridge` block of bench/README.md.
 *
 * Three processes, so none shares an event loop with another:
 * - this file (vitest) only compiles the children and orchestrates;
 * - `bench/lib/media-loadgen.ts`: two "phones" per call sending 20 ms PCMU
 *   with sequence numbers, checking what comes back end to end;
 * - `bench/lib/media-server.ts`: the media engine (two legs per call,
 *   `engine.bridge(a, b)`), the same on worker-thread shards, or the raw UDP
 *   echo, on plain Node.
 * For each step N, RUNS times: the engine, the shards, then the echo with the
 * same load generator. Both children share the 2 cores of the box, so the load
 * generator's own CPU and the other jobs on the box are reported too.
 */
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { bench, describe } from 'vitest';
import { buildChildren } from './lib/media-build.js';
import { BenchChild } from './lib/media-ipc.js';
import { markdownTable, median, recordHeadline, writeReadmeSection } from './lib/readme-section.js';

const STEPS = (process.env.MEDIA_BENCH_CALLS ?? '100,200').split(',').map(Number);
const RUNS = Number(process.env.MEDIA_BENCH_RUNS ?? 3);
const WINDOW_MS = Number(process.env.MEDIA_BENCH_WINDOW_S ?? 4) * 1000;
const STALLS_ON = process.env.MEDIA_BENCH_STALLS === '1';
const SHARDS = Number(process.env.MEDIA_BENCH_SHARDS ?? 2);
/** 'cross' puts the two legs of each call on different shards (bridged through shared memory). Default 'near'. */
const PLACEMENT = process.env.MEDIA_BENCH_SHARD_PLACEMENT === 'cross' ? 'cross' : 'near';
/** The bench children, and the shard worker the sharded mode loads. */
const CHILDREN = ['bench/lib/media-server.ts', 'bench/lib/media-loadgen.ts', 'src/media/shard/shard-worker.ts'];
type Mode = 'engine' | 'shards' | 'echo';
// The load generator sizes its per-stream tables for 120 s of packets (warm-up + window + grace).
if (!(WINDOW_MS > 0 && WINDOW_MS <= 100_000)) throw new Error('MEDIA_BENCH_WINDOW_S must be in (0, 100]');
const WARMUP_MS = 2000;
const GRACE_MS = 500;
const LOSS_LIMIT_PCT = 0.1;

interface LoadResult {
  expected: number;
  heard: number;
  lost: number;
  lossPct: number;
  worstStreamLoss: number;
  corrupt: number;
  silent: number;
  duplicates: number;
  other: number;
  latencyMs: { p50: number; p99: number; max: number };
  latePct: number;
  sendLagMaxMs: number;
  cpuPct: number;
}

interface ServerResult {
  mode: Mode;
  calls: number;
  windowMs: number;
  cpuPct: number;
  cpuPctSlices: number[];
  eventLoopUtilization: number;
  rssDelta: number;
  heapDelta: number;
  externalDelta: number;
  rss: number;
  tickMs: { p50: number; p99: number; max: number };
  tickLateMaxMs: number;
  tickGapMs: { p50: number; p99: number; max: number };
  gcPause: { ms: number; maxMs: number };
  jitterBuffer: { lost: number; late: number; discarded: number; overflow: number; shrunk: number };
}

interface StepResult {
  calls: number;
  server: ServerResult;
  load: LoadResult;
  /** CPU used on the box by everything except the two children, % of one core (other jobs on a shared machine). */
  otherCpuPct: number;
}

/** Busy and total jiffies of all cores, from /proc/stat (Linux); undefined elsewhere. */
async function cpuTimes(): Promise<{ busy: number; total: number } | undefined> {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Stall = { everyMs: number; forMs: number };

async function runStep(build: Awaited<ReturnType<typeof buildChildren>>, mode: Mode, calls: number, stall?: Stall): Promise<StepResult> {
  const server = new BenchChild(build.js('bench/lib/media-server.ts'), mode === 'shards' ? [mode, String(SHARDS), PLACEMENT] : [mode], ['--expose-gc']);
  const load = new BenchChild(build.js('bench/lib/media-loadgen.ts'));
  try {
    const targets = await server.call<[number, number][]>('setup', { calls, portMin: 40000, portMax: 47999 });
    const phones = await load.call<[number, number][]>('setup', { calls });
    await server.call('connect', { phones });
    await load.call('start', { targets, stall });
    await sleep(WARMUP_MS);
    const box0 = await cpuTimes();
    await Promise.all([server.call('markStart'), load.call('markStart')]);
    await sleep(WINDOW_MS);
    const [serverResult] = await Promise.all([server.call<ServerResult>('markEnd', { calls }), load.call('markEnd')]);
    const box1 = await cpuTimes();
    const loadResult = await load.call<LoadResult>('finish', { graceMs: GRACE_MS });
    await server.call('teardown');
    // All cores' busy share over the window, as % of one core, minus what the two children used.
    const boxPct = box0 && box1 ? (100 * os.cpus().length * (box1.busy - box0.busy)) / (box1.total - box0.total) : Number.NaN;
    return { calls, server: serverResult, load: loadResult, otherCpuPct: boxPct - serverResult.cpuPct - loadResult.cpuPct };
  } finally {
    await Promise.all([server.close(), load.close()]);
  }
}

const f = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : '–');
/** Median of the 2 s CPU slices (% of one core). */
const cpuOf = (r: StepResult): number => median(r.server.cpuPctSlices.length ? r.server.cpuPctSlices : [r.server.cpuPct]);
/** % of a core → µs of CPU per 20 ms period, per call. */
const perCall = (r: StepResult): number => ((cpuOf(r) / 100) * 20_000) / r.calls;
const kib = (bytes: number, r: StepResult): number => bytes / 1024 / r.calls;
const med = (runs: StepResult[], fn: (r: StepResult) => number): number => median(runs.map(fn));

interface Row {
  calls: number;
  engine: StepResult[];
  shards: StepResult[];
  echo: StepResult[];
}

function markdown(rows: Row[]): string {
  const shards = SHARDS > 0;
  /** "engine / shards / echo" of one figure, medians of the runs. */
  const trio = (row: Row, fn: (r: StepResult) => number, digits = 1): string =>
    [row.engine, ...(shards ? [row.shards] : []), row.echo].map((runs) => f(med(runs, fn), digits)).join(' / ');
  const modes = shards ? `engine / ${SHARDS} shards / echo` : 'engine / echo';
  const main = rows.map((row) => [
    row.calls,
    trio(row, (r) => r.load.lossPct, 3),
    trio(row, cpuOf),
    trio(row, perCall),
    trio(row, (r) => kib(r.server.heapDelta + r.server.externalDelta, r), 0),
    trio(row, (r) => kib(r.server.rssDelta, r), 0),
    `${trio(row, (r) => r.load.latencyMs.p50)}; ${trio(row, (r) => r.load.latencyMs.p99)}`,
    trio(row, (r) => r.load.latePct, 2),
  ]);
  const diag: (string | number)[][] = [];
  for (const row of rows) {
    for (const [mode, runs] of [['engine', row.engine], ...(shards ? [[`${SHARDS} shards`, row.shards] as const] : [])] as const) {
      const all = [...runs, ...row.echo];
      diag.push([
        row.calls,
        mode,
        `${f(med(runs, (r) => r.server.tickMs.p50), 2)} / ${f(med(runs, (r) => r.server.tickMs.p99), 2)}`,
        f(med(runs, (r) => r.server.tickGapMs.p99)),
        `${f(med(runs, (r) => r.server.gcPause.ms))} / ${f(med(row.echo, (r) => r.server.gcPause.ms))}`,
        (['discarded', 'shrunk', 'lost', 'late', 'overflow'] as const).map((k) => med(runs, (r) => r.server.jitterBuffer[k])).join(' / '),
        f(med(runs, (r) => r.server.eventLoopUtilization), 2),
        `${f(med(all, (r) => r.load.cpuPct), 0)} %, ${f(Math.max(...all.map((r) => r.load.sendLagMaxMs)))}`,
        `${f(med(all, (r) => r.otherCpuPct), 0)} % (${f(Math.min(...all.map((r) => r.otherCpuPct)), 0)}–${f(Math.max(...all.map((r) => r.otherCpuPct)), 0)})`,
      ]);
    }
  }
  return [
    `${RUNS} runs per step, ${modes} alternating; each run ${WARMUP_MS / 1000} s warm-up, a ${WINDOW_MS / 1000} s window, ${GRACE_MS / 1000} s grace. Every figure is the median of the runs. "Engine" is one \`MediaEngine\` on the process's event loop${shards ? `; "${SHARDS} shards" is a \`ShardedMediaEngine\` with ${SHARDS} worker threads (${PLACEMENT === 'cross' ? 'the two legs of a call on different workers, bridged through shared memory' : 'both legs of a call on one'})` : ''}; "echo" is the raw UDP relay. CPU is \`process.cpuUsage()\` of the server process, all threads (median of its 2 s slices); memory is heap + external (ArrayBuffers included once) after \`gc()\`, per call${shards ? ' — for the shards only the main thread\'s heap, so it reads near 0' : ''}.`,
    '',
    markdownTable(
      ['calls', `loss, %, ${modes}`, `server CPU, % of a core, ${modes}`, `CPU per call per 20 ms, µs, ${modes}`, `heap + buffers per call, KiB, ${modes}`, `RSS per call, KiB, ${modes}`, `one-way latency p50; p99, ms, ${modes}`, `heard > 200 ms late, %, ${modes}`],
      main,
    ),
    '',
    markdownTable(
      ['calls', 'mode', 'tick work p50 / p99, ms', 'tick start gap p99, ms', 'GC in window, ms, this mode / echo', 'jitter buffer discarded / shrunk / lost / late / restarted', 'event-loop utilization (shards: the busiest worker)', 'load generator CPU, max send lag (ms)', 'other jobs on the box, % of a core (min–max)'],
      diag,
    ),
  ].join('\n');
}

describe('bridged G.711 calls vs raw UDP echo', () => {
  bench(
    `steps ${STEPS.join(', ')} calls × ${RUNS} runs, ${WINDOW_MS / 1000} s each`,
    async () => {
      const build = await buildChildren(CHILDREN);
      const rows: Row[] = [];
      try {
        for (const calls of STEPS) {
          const row: Row = { calls, engine: [], shards: [], echo: [] };
          rows.push(row);
          for (let run = 0; run < RUNS; run++) {
            const modes = [['engine', row.engine], ['shards', row.shards], ['echo', row.echo]] as const;
            for (const [mode, runs] of modes.filter(([m]) => m !== 'shards' || SHARDS > 0)) {
              const r = await runStep(build, mode, calls);
              runs.push(r);
              console.log(`calls=${calls} ${mode} run ${run + 1}: loss ${f(r.load.lossPct, 3)} %, ${f(perCall(r))} µs per call per 20 ms, other jobs ${f(r.otherCpuPct, 0)} %`);
            }
          }
        }
      } finally {
        await build.remove();
      }
      const text = markdown(rows);
      console.log(text);
      writeReadmeSection('media-bridge', text, { heading: 'Media engine: bridged G.711 calls' });
      // The headline: the largest step whose median loss passed.
      const passing = rows.filter((row) => med(row.engine, (r) => r.load.lossPct) < LOSS_LIMIT_PCT);
      const top = passing.at(-1) ?? rows.at(-1)!;
      const us = med(top.engine, perCall);
      recordHeadline({
        id: 'media-bridge',
        what: `Bridged G.711 call, media engine alone: CPU per call per 20 ms at ${top.calls} calls (loss ${f(med(top.engine, (r) => r.load.lossPct), 3)} %)`,
        value: `${f(us)} µs → ${f((20_000 / us) * 0.8, 0)} calls per core at 80 %`,
        reference: `raw UDP echo: ${f(med(top.echo, perCall))} µs${SHARDS > 0 ? `; on ${SHARDS} worker shards: ${f(med(top.shards, perCall))} µs, loss ${f(med(top.shards, (r) => r.load.lossPct), 3)} %` : ''}`,
        goal: '≥ 1000 bridged calls on 2 cores, < 0.1 % loss',
        section: 'bridged-g711-calls',
      });
      if (process.env.MEDIA_BENCH_JSON) await writeFile(process.env.MEDIA_BENCH_JSON, JSON.stringify(rows, null, 2));
    },
    // One pass with its own statistics: a soak test, not a micro-benchmark.
    { iterations: 1, time: 0, warmupIterations: 0, warmupTime: 0 },
  );

  // Phones that pause and then send their backlog at once (a network or
  // scheduling hiccup): what the jitter buffer does with bursts. Off by
  // default (MEDIA_BENCH_STALLS=1) to keep \`npm run bench\` short.
  const STALLS: Stall[] = [
    { everyMs: 2000, forMs: 100 },
    { everyMs: 2000, forMs: 200 },
  ];
  const STALL_CALLS = 20;
  bench.skipIf(!STALLS_ON)(
    `${STALL_CALLS} calls, phones pausing ${STALLS.map((s) => `${s.forMs} ms`).join(' / ')} every 2 s, ${RUNS} runs`,
    async () => {
      const build = await buildChildren(CHILDREN);
      const rows: (string | number)[][] = [];
      try {
        for (const stall of STALLS) {
          const engine: StepResult[] = [];
          const echo: StepResult[] = [];
          for (let run = 0; run < RUNS; run++) {
            engine.push(await runStep(build, 'engine', STALL_CALLS, stall));
            echo.push(await runStep(build, 'echo', STALL_CALLS, stall));
          }
          rows.push([
            `${stall.forMs} ms every ${stall.everyMs / 1000} s`,
            `${f(med(engine, (r) => r.load.lossPct), 3)} % / ${f(med(echo, (r) => r.load.lossPct), 3)} %`,
            `${f(med(engine, (r) => r.load.latencyMs.p50))} / ${f(med(engine, (r) => r.load.latencyMs.p99))}, ${f(med(echo, (r) => r.load.latencyMs.p50), 2)} / ${f(med(echo, (r) => r.load.latencyMs.p99), 2)}`,
            `${med(engine, (r) => r.server.jitterBuffer.discarded)} / ${med(engine, (r) => r.server.jitterBuffer.lost)}`,
            med(engine, (r) => r.load.silent),
          ]);
        }
      } finally {
        await build.remove();
      }
      const text = [
        `${STALL_CALLS} calls, ${RUNS} runs per pause length, engine and echo alternating, ${WINDOW_MS / 1000} s windows; medians of the runs.`,
        '',
        markdownTable(['phones pause', 'loss, engine / echo', 'one-way latency p50 / p99 (ms), engine / echo', 'engine jitter buffer discarded / lost', 'frames heard as silence, engine'], rows),
      ].join('\n');
      console.log(text);
      writeReadmeSection('media-bridge-stalls', text, { heading: 'Media engine: bridged calls with pausing senders' });
    },
    { iterations: 1, time: 0, warmupIterations: 0, warmupTime: 0 },
  );
});
