/**
 * Bridged G.711 calls over real RTP on 127.0.0.1, with a raw Node UDP echo
 * measured in the same run as the floor.
 *
 * Run: `npx vitest bench --run bench/media-bridge.bench.ts`
 * (about 3–5 minutes with the sender-pause runs; env: MEDIA_BENCH_CALLS=50,100,200,400,800 steps,
 * MEDIA_BENCH_WINDOW_S=10 measured seconds per step, MEDIA_BENCH_JSON=path
 * to also write the raw results).
 *
 * Three processes, so none shares an event loop with another:
 * - this file (vitest) only compiles the children and orchestrates;
 * - `bench/lib/media-loadgen.ts`: two "phones" per call sending 20 ms PCMU
 *   with sequence numbers, checking what comes back end to end;
 * - `bench/lib/media-server.ts`: either the media engine (two legs per call,
 *   `engine.bridge(a, b)`) or the raw UDP echo, on plain Node.
 * For each step N the engine runs first, then the echo with the same load
 * generator; a step that loses 0.1 % or more is retried once (a shared box
 * has bursts of other work), and escalation stops once the engine loses over
 * 2 % on both attempts. Both children share the 2 cores of the box, so the load
 * generator's own CPU is reported too: near 100 % it is the limit, not the
 * system under test.
 */
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { bench, describe } from 'vitest';
import { buildChildren } from './lib/media-build.js';
import { BenchChild, median } from './lib/media-ipc.js';

const STEPS = (process.env.MEDIA_BENCH_CALLS ?? '50,100,200,400,800').split(',').map(Number);
const WINDOW_MS = Number(process.env.MEDIA_BENCH_WINDOW_S ?? 10) * 1000;
// The load generator sizes its per-stream tables for 120 s of packets (warm-up + window + grace).
if (!(WINDOW_MS > 0 && WINDOW_MS <= 100_000)) throw new Error('MEDIA_BENCH_WINDOW_S must be in (0, 100]');
const WARMUP_MS = 2000;
const GRACE_MS = 500;
const LOSS_LIMIT_PCT = 0.1;
const STOP_PCT = 2;

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
  mode: 'engine' | 'echo';
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
  jitterBuffer: { lost: number; late: number; discarded: number; overflow: number };
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

async function runStep(build: Awaited<ReturnType<typeof buildChildren>>, mode: 'engine' | 'echo', calls: number, stall?: Stall): Promise<StepResult> {
  const server = new BenchChild(build.js('bench/lib/media-server.ts'), [mode], ['--expose-gc']);
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
const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
const passed = (r: StepResult): boolean => r.load.lossPct < LOSS_LIMIT_PCT;
/** Median of the 2 s CPU slices (% of one core). */
const cpuOf = (r: StepResult): number => median(r.server.cpuPctSlices.length ? r.server.cpuPctSlices : [r.server.cpuPct]);
/** % of a core → µs of CPU per 20 ms period, per call. */
const perCall = (r: StepResult): number => ((cpuOf(r) / 100) * 20_000) / r.calls;
const kibPerCall = (bytes: number, r: StepResult): string => f(bytes / 1024 / r.calls, 0);

interface Row {
  calls: number;
  /** Engine runs: a second one only when the first lost 0.1 % or more. */
  engine: StepResult[];
  echo: StepResult[];
}

function tables(rows: Row[]): string {
  const main = [
    '| calls | attempt | loss, engine | loss, echo | heard > 200 ms late, engine / echo | process CPU (% of a core), engine / echo | CPU per call per 20 ms (µs), engine / echo | heap+buffers per call (KiB), engine / echo | RSS per call (KiB), engine / echo | one-way latency p50 / p99 (ms), engine / echo |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const diag = [
    '| calls | mode | attempt | tick work p50 / p99 / max (ms) | tick start gap p99 / max (ms) | GC in window total / max pause (ms) | jitter buffer lost / discarded / late | frames heard as silence | load generator CPU %, max send lag (ms) | other jobs on the box (% of a core) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const row of rows) {
    const echo = row.echo.at(-1)!;
    row.engine.forEach((e, i) => {
      const ex = row.echo[i] ?? echo;
      main.push(
        `| ${row.calls} | ${i + 1} | ${f(e.load.lossPct, 3)} % (${e.load.lost} of ${e.load.expected}) | ${f(ex.load.lossPct, 3)} % (${ex.load.lost} of ${ex.load.expected}) | ${f(e.load.latePct, 2)} % / ${f(ex.load.latePct, 2)} % | ${f(cpuOf(e))} / ${f(cpuOf(ex))} | ${f(perCall(e))} / ${f(perCall(ex))} | ${kibPerCall(e.server.heapDelta + e.server.externalDelta, e)} / ${kibPerCall(ex.server.heapDelta + ex.server.externalDelta, ex)} | ${kibPerCall(e.server.rssDelta, e)} / ${kibPerCall(ex.server.rssDelta, ex)} | ${f(e.load.latencyMs.p50)} / ${f(e.load.latencyMs.p99)}, ${f(ex.load.latencyMs.p50, 2)} / ${f(ex.load.latencyMs.p99, 2)} |`,
      );
    });
    for (const [mode, runs] of [['engine', row.engine], ['echo', row.echo]] as const) {
      runs.forEach((r, i) => {
        const t = r.server;
        const jb = t.jitterBuffer;
        diag.push(
          `| ${row.calls} | ${mode} | ${i + 1} | ${mode === 'engine' ? `${f(t.tickMs.p50, 2)} / ${f(t.tickMs.p99, 2)} / ${f(t.tickMs.max)}` : '–'} | ${mode === 'engine' ? `${f(t.tickGapMs.p99)} / ${f(t.tickGapMs.max)}` : '–'} | ${f(t.gcPause.ms)} / ${f(t.gcPause.maxMs)} | ${mode === 'engine' ? `${jb.lost} / ${jb.discarded} / ${jb.late}` : '–'} | ${r.load.silent} | ${f(r.load.cpuPct, 0)}, ${f(r.load.sendLagMaxMs)} | ${f(r.otherCpuPct, 0)} |`,
        );
      });
    }
  }
  return `${main.join('\n')}\n\n${diag.join('\n')}`;
}

describe('bridged G.711 calls vs raw UDP echo', () => {
  bench(
    `steps ${STEPS.join(', ')} calls, ${WINDOW_MS / 1000} s each`,
    async () => {
      const build = await buildChildren(['bench/lib/media-server.ts', 'bench/lib/media-loadgen.ts']);
      const rows: Row[] = [];
      try {
        for (const calls of STEPS) {
          const row: Row = { calls, engine: [], echo: [] };
          rows.push(row);
          // On a shared box a burst of someone else's work can cost a step; one retry tells noise from a limit.
          for (const [mode, runs] of [['engine', row.engine], ['echo', row.echo]] as const) {
            for (let attempt = 0; attempt < 2; attempt++) {
              const r = await runStep(build, mode, calls);
              runs.push(r);
              console.log(`calls=${calls} ${mode} attempt ${attempt + 1}: ${JSON.stringify(r)}`);
              if (passed(r)) break;
            }
          }
          // Past 2 % loss on both attempts more calls only cost time; between 0.1 and 2 % keep climbing, since
          // on a shared box a step can fail on someone else's burst while a higher one passes.
          if (row.engine.every((r) => !(r.load.lossPct < STOP_PCT))) break;
        }
      } finally {
        await build.remove();
      }
      // Highest step that passed (on some attempt) with every lower step passing too.
      const highest = (runs: (r: Row) => StepResult[]): string => {
        let best = 'none';
        for (const row of rows) {
          if (!runs(row).some(passed)) break;
          best = String(row.calls);
        }
        return best;
      };
      console.log(
        [
          `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, ${mib(os.totalmem())} MiB, node ${process.version}, ${new Date().toISOString()}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`,
          tables(rows),
          `highest N with < ${LOSS_LIMIT_PCT} % loss over ${WINDOW_MS / 1000} s: engine ${highest((r) => r.engine)}, echo ${highest((r) => r.echo)} (of the steps run)`,
        ].join('\n'),
      );
      if (process.env.MEDIA_BENCH_JSON) await writeFile(process.env.MEDIA_BENCH_JSON, JSON.stringify(rows, null, 2));
    },
    // One run of the whole ladder: it is a soak test with its own statistics, not a micro-benchmark.
    { iterations: 1, time: 0, warmupIterations: 0, warmupTime: 0 },
  );

  // The loss mechanism seen at higher N, reproduced on a light load: phones
  // that pause and then send their backlog at once (a network or scheduling
  // hiccup). Each pause drains the jitter buffer, which then re-prefetches
  // behind the burst, so delay ratchets up to its maximum depth and further
  // bursts are discarded there.
  const STALLS: Stall[] = [
    { everyMs: 2000, forMs: 100 },
    { everyMs: 2000, forMs: 200 },
  ];
  const STALL_CALLS = 20;
  bench(
    `${STALL_CALLS} calls, phones pausing ${STALLS.map((s) => `${s.forMs} ms`).join(' / ')} every 2 s`,
    async () => {
      const build = await buildChildren(['bench/lib/media-server.ts', 'bench/lib/media-loadgen.ts']);
      const lines = [
        '| phones pause | loss, engine | loss, echo | one-way latency p50 / p99 (ms), engine / echo | engine jitter buffer discarded / lost | frames heard as silence, engine |',
        '| --- | --- | --- | --- | --- | --- |',
      ];
      try {
        for (const stall of STALLS) {
          const engine = await runStep(build, 'engine', STALL_CALLS, stall);
          const echo = await runStep(build, 'echo', STALL_CALLS, stall);
          console.log(`stall ${JSON.stringify(stall)}\n  engine ${JSON.stringify(engine)}\n  echo ${JSON.stringify(echo)}`);
          lines.push(
            `| ${stall.forMs} ms every ${stall.everyMs / 1000} s | ${f(engine.load.lossPct, 3)} % (${engine.load.lost} of ${engine.load.expected}) | ${f(echo.load.lossPct, 3)} % | ${f(engine.load.latencyMs.p50)} / ${f(engine.load.latencyMs.p99)}, ${f(echo.load.latencyMs.p50, 2)} / ${f(echo.load.latencyMs.p99, 2)} | ${engine.server.jitterBuffer.discarded} / ${engine.server.jitterBuffer.lost} | ${engine.load.silent} |`,
          );
        }
      } finally {
        await build.remove();
      }
      console.log(lines.join('\n'));
    },
    { iterations: 1, time: 0, warmupIterations: 0, warmupTime: 0 },
  );
});
