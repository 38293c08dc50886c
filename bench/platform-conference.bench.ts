/**
 * Conferences through the whole platform (GitHub issue 10, item 3): rooms ×
 * participants joined by the `conference` action from real SIP calls with
 * RTP, CPU per participant-frame and conference legs per core; bridged
 * two-party calls with the same number of legs, in the same run, as the
 * reference.
 *
 * Run: `npx vitest bench --run --config vitest.bench.config.ts bench/platform-conference.bench.ts` (about 1 min).
 * Env: PLATFORM_CONFERENCE_ROOMS=40x5,8x25 (rooms × participants per
 * configuration), PLATFORM_CONFERENCE_WINDOW_S=2.5, PLATFORM_CONFERENCE_RUNS=3.
 *
 * Processes as in bench/platform-bridge.bench.ts (platform, load generator).
 * Each participant is an inbound call to a claimed number whose webhook
 * answers `{"conference": {"name": "bench-room-<r>", "beep": false}}`. In
 * every room the first participant speaks (20 ms PCMU with the payload
 * identity of bench/lib/rtp-payload.ts) and the others send digital
 * silence, so what each listener hears, the mix minus its own audio, is the
 * speaker's payload unchanged: loss is counted end to end for every listener
 * as in the bridge bench. The platform does the same per-leg work whatever
 * the content (jitter buffer, decode, mix, encode, send).
 *
 * Per configuration: participants join at 40 calls/s, 1.5 s to settle, RUNS
 * windows; then everyone hangs up. Platform CPU comes from /proc/<pid>/stat
 * (all threads). CPU per participant-frame = platform CPU ÷ (participants ×
 * 50 frames/s), given gross and net of the platform's idle CPU (measured
 * first, no calls); legs per core = 20 000 µs ÷ that (per 20 ms frame).
 * Reference: as many legs as bridged two-party calls (`dial`), same windows,
 * once per distinct leg count.
 */
import { bench, describe } from 'vitest';
import { fmt, measureCalls, measureWindow, startRig, type MeasuredCalls as Measured, type Window } from './lib/platform-bench.js';
import { machineLine, markdownTable, median, recordHeadline, writeReadmeSection } from './lib/readme-section.js';

const CONFIGS = (process.env.PLATFORM_CONFERENCE_ROOMS ?? '40x5,8x25').split(',').map((c) => {
  const [rooms, size] = c.split('x').map(Number);
  if (!(rooms! > 0 && size! > 1)) throw new Error(`PLATFORM_CONFERENCE_ROOMS: '${c}' is not <rooms>x<participants>`);
  return { rooms: rooms!, size: size! };
});
const WINDOW_MS = Number(process.env.PLATFORM_CONFERENCE_WINDOW_S ?? 2.5) * 1000;
const RUNS = Math.max(3, Number(process.env.PLATFORM_CONFERENCE_RUNS ?? 3));
const README = process.env.PLATFORM_BENCH_README;
const CPS = 40;
/** The load generator sent late by more than this (p99): the box was starved, loss and jitter say little about the platform. */
const GEN_LATE_MS = 10;

let measured = false;

describe('conferences through the whole platform', () => {
  bench(
    `${CONFIGS.map((c) => `${c.rooms}×${c.size}`).join(', ')}, bridged calls as reference`,
    async () => {
      if (measured) return;
      measured = true;
      const rig = await startRig(10);
      const results: Measured[] = [];
      let idle: Window[] = [];
      try {
        for (let r = 0; r < RUNS; r++) idle.push(await measureWindow(rig, 1000));
        // One reference per distinct leg count (the default configurations share one).
        const referenced = new Set<number>();
        for (const { rooms, size } of CONFIGS) {
          const legs = rooms * size;
          if (!referenced.has(legs)) {
            referenced.add(legs);
            results.push(await measureCalls(rig, `bridged calls (reference), ${Math.round(legs / 2)} × 2`, legs, RUNS, WINDOW_MS, () => rig.load.call('place', { kind: 'bridge', count: Math.round(legs / 2), cps: CPS })));
          }
          results.push(await measureCalls(rig, `conference, ${rooms} rooms × ${size}`, legs, RUNS, WINDOW_MS, () => rig.load.call('place', { kind: 'conference', count: legs, rooms, cps: CPS })));
          for (const m of results.slice(-2)) console.log(`${m.label}: set-up ${JSON.stringify(m.setup)}, cpu ${m.windows.map((w) => fmt(w.platformCpuPct)).join(' / ')} %, loss ${m.windows.map((w) => fmt(w.load.lossPct, 3)).join(' / ')} %`);
        }
      } finally {
        await rig.close();
      }
      const idlePct = median(idle.map((w) => w.platformCpuPct));
      idle = [];
      const legsOf = (m: Measured): number => (m.label.startsWith('bridged') ? m.setup.up * 2 : m.setup.up);
      const cpuOf = (m: Measured): number => median(m.windows.map((w) => w.platformCpuPct));
      // µs of platform CPU per leg per 20 ms frame: share of a core × 1e6 µs/s ÷ (legs × 50 frames/s).
      const frameUs = (m: Measured, pct = cpuOf(m)): number => ((pct / 100) * 1e6) / (legsOf(m) * 50);
      /** The bridged reference with as many legs, measured in the same run. */
      const referenceOf = (m: Measured): Measured | undefined => results.find((r) => r.label.startsWith('bridged') && r.legs === m.legs);
      const rows = results.map((m) => {
        const med = (f: (w: Window) => number): number => median(m.windows.map(f));
        const cpu = cpuOf(m);
        const ref = referenceOf(m);
        const legsUp = legsOf(m);
        const perFrame = (pct: number): number => frameUs(m, pct);
        return [
          m.label,
          `${legsUp}${m.setup.failed ? ` (${m.setup.failed} failed: ${Object.entries(m.setup.reasons).map(([k, v]) => `${v} ${k}`).join(', ')})` : ''}`,
          `${fmt(med((w) => w.load.lossPct), 3)} % (${med((w) => w.load.streams)} streams)${med((w) => w.load.gen.sendLagP99Ms) > GEN_LATE_MS ? ' (box: generator late)' : ''}`,
          `${fmt(med((w) => w.load.jitterMs.p99), 2)} / ${fmt(med((w) => w.load.transitMs.p50))}`,
          fmt(cpu, 1),
          `${fmt(perFrame(cpu), 1)} / ${fmt(perFrame(cpu - idlePct), 1)}`,
          fmt(20_000 / perFrame(cpu), 0),
          ref && ref !== m ? `${fmt(perFrame(cpu) / frameUs(ref), 2)}×` : '–',
          fmt(med((w) => w.load.gen.cpuPct), 0),
          `${fmt(med((w) => w.load.gen.sendLagP99Ms))} / ${fmt(med((w) => w.load.gen.eldP99Ms))}`,
          `${fmt(med((w) => w.otherCpuPct), 0)} / ${fmt(med((w) => w.irqCpuPct), 0)}`,
        ];
      });
      const md = [
        `${RUNS} windows of ${WINDOW_MS / 1000} s per line, each figure the median of the windows. Platform idle CPU (no calls): ${fmt(idlePct, 1)} % of a core. One speaker per room; loss and jitter are over the listeners (bridged calls: both directions). "box: generator late": the load generator sent late by more than ${GEN_LATE_MS} ms at p99, the box (other jobs) was starved.`,
        '',
        markdownTable([
          'configuration', 'legs up', 'loss', 'jitter p99 / one-way latency p50 (ms)', 'platform CPU (% of a core)',
          'CPU per participant-frame, gross / net of idle (µs)', 'legs per core at this CPU', 'participant-frame ÷ bridged leg-frame (same run)', 'load generator CPU %', 'generator send lag p99 / event-loop delay p99 (ms)', 'other jobs on the box / box irq+softirq (% of a core)',
        ], rows),
      ].join('\n');
      console.log(`${machineLine()}\n${md}`);
      writeReadmeSection('platform-conference', md, { heading: 'Whole platform: conferences (issue 10, item 3)', ...(README ? { file: README } : {}) });
      const conf = results.filter((m) => m.label.startsWith('conference')).at(-1);
      const ref = results.find((m) => m.label.startsWith('bridged'));
      if (!README && conf && ref) {
        recordHeadline({
          id: 'platform-conference',
          what: `Conference legs per core through the whole platform (SIP, \`conference\`, G.711), ${conf.label.replace('conference, ', '')}`,
          value: `${fmt(20_000 / frameUs(conf), 0)} legs per core (${fmt(frameUs(conf))} µs per participant-frame, ${fmt(frameUs(conf) / frameUs(ref), 2)}× the bridged leg-frame; ${fmt(median(conf.windows.map((w) => w.load.lossPct)), 3)} % loss)`,
          reference: `bridged calls, same legs, same run: ${fmt(frameUs(ref))} µs per leg-frame (${fmt(20_000 / frameUs(ref), 0)} legs per core)`,
          goal: '≥ 1000 conference legs per core (issue 23)',
          section: 'conferences',
        });
      }
    },
    { iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 },
  );
});
