/**
 * Conference legs: CPU per participant-frame (one leg, one 20 ms tick), with
 * legs bridged in pairs as the reference in the same run.
 *
 * Run: `npx vitest bench --run --config vitest.bench.config.ts bench/conference-mix.bench.ts`
 * (about 1 minute). Env: CONF_BENCH_RUNS (default 3), CONF_BENCH_TICKS
 * (measured ticks per run, default 150), CONF_BENCH_JSON=<file> (raw results).
 * Writes the `conference-mix` block of bench/README.md.
 *
 * Each run is a fresh plain-Node child (bench/lib/media-legs.ts): 500 legs as
 * 100 rooms × 5, as 20 rooms × 25, and as 250 bridged pairs, each leg fed
 * over real RTP (PCMU, 127.0.0.1) by a "phone" endpoint speaking a tone.
 * Phones and legs run on two hand-driven media clocks, so the legs' tick
 * (jitter buffer, decode, in-band DTMF detection, mix, encode, UDP send) is
 * timed alone, and the event loop delivers the packets between ticks.
 *
 * A leg's whole cost is its tick plus receiving its packet. The process CPU
 * covers phones and legs: phones' tick + legs' tick + two receives (each
 * side reads the other's packet), so a leg's tick + receive is derived as
 * legs' tick + (process − phones' tick − legs' tick) / 2. Per core that is
 * 20 000 µs ÷ that.
 */
import { writeFileSync } from 'node:fs';
import { bench, describe } from 'vitest';
import { buildChildren } from './lib/media-build.js';
import { BenchChild } from './lib/media-ipc.js';
import type { LegsArgs, LegsResult } from './lib/media-legs.js';
import { markdownTable, median, recordHeadline, writeReadmeSection } from './lib/readme-section.js';

const RUNS = Number(process.env.CONF_BENCH_RUNS ?? 3);
const TICKS = Number(process.env.CONF_BENCH_TICKS ?? 150);

interface Scenario {
  label: string;
  args: Omit<LegsArgs, 'ticks' | 'warmupTicks' | 'portBase'>;
}

const SCENARIOS: Scenario[] = [
  { label: '100 rooms × 5', args: { mode: 'conference', rooms: 100, perRoom: 5 } },
  { label: '20 rooms × 25', args: { mode: 'conference', rooms: 20, perRoom: 25 } },
  { label: '20 rooms × 25, one speaker, the rest silent', args: { mode: 'conference', rooms: 20, perRoom: 25, speakers: 1 } },
  { label: 'reference: 250 bridged pairs', args: { mode: 'bridge', rooms: 250, perRoom: 2 } },
];

const f = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : '–');
/** A leg's tick + its receive, µs per participant-frame (see the header). */
const legCost = (r: LegsResult): number => r.tickUs + (r.processCpuUs - r.phoneTickUs - r.tickUs) / 2;

describe('conference mixing', () => {
  bench(
    `500 legs: ${SCENARIOS.map((s) => s.label).join(', ')}; ${RUNS} runs`,
    async () => {
      const build = await buildChildren(['bench/lib/media-legs.ts']);
      const results = new Map<string, LegsResult[]>(SCENARIOS.map((s) => [s.label, []]));
      try {
        for (let run = 0; run < RUNS; run++) {
          // Scenarios alternate within each run, so a burst of other work on the box hits all of them alike.
          for (const s of SCENARIOS) {
            const child = new BenchChild(build.js('bench/lib/media-legs.ts'));
            try {
              results.get(s.label)!.push(await child.call<LegsResult>('legs', { ...s.args, ticks: TICKS, warmupTicks: 50, portBase: 34000 }));
            } finally {
              await child.close();
            }
          }
        }
      } finally {
        await build.remove();
      }
      const rows = SCENARIOS.map((s) => {
        const rs = results.get(s.label)!;
        const m = (fn: (r: LegsResult) => number): number => median(rs.map(fn));
        return [
          s.label,
          f(m((r) => r.tickUs)),
          s.args.mode === 'conference' ? f(m((r) => r.mixUs), 2) : '–',
          f(m(legCost)),
          f(m((r) => r.processCpuUs)),
          f(m((r) => r.tickMsP50), 2),
          `${f(m((r) => r.activePct), 0)} %`,
          f(20_000 / m(legCost), 0),
        ];
      });
      const markdown = [
        `Plain Node (compiled), 500 legs per scenario, ${TICKS} measured ticks per run after 50 to fill the jitter buffers; every figure is the median of ${RUNS} runs (scenarios alternate within a run). µs per participant-frame (one leg, one 20 ms tick).`,
        '',
        markdownTable(
          ['legs', 'leg tick, µs', 'mix phase alone, µs', 'leg tick + receive (derived), µs', 'all process CPU incl. the phones, µs', 'legs\' whole tick p50, ms', 'frames with received audio', 'legs per core at that cost'],
          rows,
        ),
      ].join('\n');
      console.log(markdown);
      if (process.env.CONF_BENCH_JSON) writeFileSync(process.env.CONF_BENCH_JSON, JSON.stringify(Object.fromEntries(results), null, 2));
      writeReadmeSection('conference-mix', markdown, { heading: 'Conference mixing' });
      const conf = results.get(SCENARIOS[0]!.label)!;
      const ref = results.get(SCENARIOS.at(-1)!.label)!;
      recordHeadline({
        id: 'conference-mix',
        what: 'Conference leg, tick + receive per 20 ms (100 rooms × 5, media engine alone)',
        value: `${f(median(conf.map(legCost)))} µs → ${f(20_000 / median(conf.map(legCost)), 0)} legs per core`,
        reference: `bridged leg: ${f(median(ref.map(legCost)))} µs`,
        goal: '≥ 1000 conference legs per core',
        section: 'conference-mixing',
      });
    },
    { iterations: 1, time: 0, warmupIterations: 0, warmupTime: 0 },
  );
});
