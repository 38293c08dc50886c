/**
 * The 20 ms media path in pieces, on plain Node (bench/lib/media-legs.ts,
 * compiled by bench/lib/media-build.ts), each figure beside a reference that
 * does the same job the plain way, timed in the same run:
 *
 * - one tick of 50 conference legs (10 rooms × 5) with audio arriving over
 *   real RTP: jitter buffer, decode, in-band DTMF detection, mix, encode,
 *   send — against 50 bare UDP sends of the same packet size;
 * - PCMU encode + decode of a frame — against copying it;
 * - in-band DTMF detection of a loud frame — against the same Goertzel bank
 *   run one filter at a time (how the detector ran before 2026-12-01);
 * - resampling 5 s of TTS output — against copying it.
 *
 * Run: `npx vitest bench --run --config vitest.bench.config.ts bench/media-tick.bench.ts`
 * (about 20 s). Env: MEDIA_TICK_RUNS (default 3), MEDIA_TICK_TICKS (measured
 * ticks per run, default 200), MEDIA_TICK_ITERATIONS (kernel calls per run,
 * default 20000). Every figure is the median of the runs. Writes the
 * `media-tick` block of bench/README.md.
 */
import { bench, describe } from 'vitest';
import { buildChildren } from './lib/media-build.js';
import { BenchChild } from './lib/media-ipc.js';
import type { LegsResult, MicroResult } from './lib/media-legs.js';
import { markdownTable, median, recordHeadline, writeReadmeSection } from './lib/readme-section.js';

const RUNS = Number(process.env.MEDIA_TICK_RUNS ?? 3);
const TICKS = Number(process.env.MEDIA_TICK_TICKS ?? 200);
const ITERATIONS = Number(process.env.MEDIA_TICK_ITERATIONS ?? 20_000);
const LEGS = 50;

const f = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : '–');
const spread = (values: number[], digits = 2): string => `${f(median(values), digits)} (${f(Math.min(...values), digits)}–${f(Math.max(...values), digits)})`;

describe('media path', () => {
  bench(
    `one tick of ${LEGS} conference legs and the per-frame kernels, ${RUNS} runs`,
    async () => {
      const build = await buildChildren(['bench/lib/media-legs.ts']);
      const ticks: LegsResult[] = [];
      const sends: number[] = [];
      const micro: MicroResult[][] = [];
      try {
        for (let run = 0; run < RUNS; run++) {
          const child = new BenchChild(build.js('bench/lib/media-legs.ts'));
          try {
            ticks.push(await child.call<LegsResult>('legs', { mode: 'conference', rooms: LEGS / 5, perRoom: 5, ticks: TICKS, warmupTicks: 50, portBase: 34000 }));
            sends.push(await child.call<number>('udpSends', { count: LEGS, ticks: TICKS }));
            micro.push(await child.call<MicroResult[]>('micro', { iterations: ITERATIONS }));
          } finally {
            await child.close();
          }
        }
      } finally {
        await build.remove();
      }
      const tickMs = ticks.map((t) => (t.tickUs * LEGS) / 1000);
      const sendMs = sends.map((us) => (us * LEGS) / 1000);
      const rows: (string | number)[][] = [
        [`one 20 ms tick, ${LEGS} conference legs (10 rooms × 5), ms`, spread(tickMs, 3), `${LEGS} bare UDP sends of a 172-byte packet`, spread(sendMs, 3)],
      ];
      const names = micro[0]?.map((m) => m.name) ?? [];
      names.forEach((name, i) => {
        const us = micro.map((m) => m[i]?.us ?? Number.NaN);
        const ref = micro.map((m) => m[i]?.referenceUs ?? Number.NaN);
        rows.push([`${name}, µs`, spread(us), micro[0]?.[i]?.reference ?? '', spread(ref)]);
      });
      const markdown = [
        `Plain Node (compiled), median (min–max) of ${RUNS} runs; the reference ran in the same process right after. The tick: ${TICKS} measured ticks per run after 50 to fill the jitter buffers; ${f(median(ticks.map((t) => t.activePct)), 0)} % of leg-frames carried received audio. Kernels: ${ITERATIONS} calls per run after as many to warm up.`,
        '',
        markdownTable(['measured', 'Sautikit', 'reference, same run', 'reference'], rows),
      ].join('\n');
      console.log(markdown);
      writeReadmeSection('media-tick', markdown, { heading: 'Media path: one tick and its kernels' });
      recordHeadline({
        id: 'media-tick',
        what: `One 20 ms media tick, ${LEGS} conference legs (plain Node)`,
        value: `${f(median(tickMs), 2)} ms (median of ${RUNS} runs)`,
        reference: `${LEGS} bare UDP sends: ${f(median(sendMs), 2)} ms`,
        goal: '< 1 ms for 50 legs (20 ms budget)',
        section: 'media-path-one-tick-and-its-kernels',
      });
    },
    { iterations: 1, time: 0, warmupIterations: 0, warmupTime: 0 },
  );
});
