/**
 * Audio streams through the whole platform (GitHub issue 23, item 4): what a
 * voice-agent call costs. Every call is an inbound SIP call with RTP whose
 * webhook answers `{"stream": {"url": …}}` (8 kHz, audio.drachtio.org); the
 * stream server sends every frame straight back, as an agent talking the
 * whole time would, so the platform carries audio both ways: RTP in → jitter
 * buffer → decode → WebSocket frame out, and WebSocket frame in → encode →
 * RTP out. The caller sends its payload identity (bench/lib/rtp-payload.ts)
 * and checks that it hears it back intact: loss is counted end to end.
 *
 * Reference, in the same run: as many legs as bridged two-party calls
 * (`dial`), so a stream call's cost reads as a multiple of a G.711 leg.
 *
 * Run: `npx vitest bench --run --config vitest.bench.config.ts bench/platform-stream.bench.ts` (about 1 min).
 * Env: PLATFORM_STREAM_CALLS=50,100, PLATFORM_STREAM_WINDOW_S=2.5, PLATFORM_STREAM_RUNS=3.
 */
import { bench, describe } from 'vitest';
import { fmt, measureCalls, measureWindow, startRig, type MeasuredCalls, type Window } from './lib/platform-bench.js';
import { machineLine, markdownTable, median, recordHeadline, writeReadmeSection } from './lib/readme-section.js';

const STEPS = (process.env.PLATFORM_STREAM_CALLS ?? '50,100').split(',').map(Number).filter((n) => n > 0);
const WINDOW_MS = Number(process.env.PLATFORM_STREAM_WINDOW_S ?? 2.5) * 1000;
const RUNS = Math.max(3, Number(process.env.PLATFORM_STREAM_RUNS ?? 3));
const README = process.env.PLATFORM_BENCH_README;
const CPS = 40;

let measured = false;

describe('audio streams through the whole platform', () => {
  bench(
    `${STEPS.join(', ')} echoed 8 kHz streams, bridged legs as reference`,
    async () => {
      if (measured) return;
      measured = true;
      const rig = await startRig(10);
      const pairs: Array<{ stream: MeasuredCalls; bridged: MeasuredCalls }> = [];
      const idle: Window[] = [];
      try {
        for (let r = 0; r < RUNS; r++) idle.push(await measureWindow(rig, 1000));
        for (const n of STEPS) {
          const bridged = await measureCalls(rig, `bridged calls (reference), ${n / 2} × 2`, n, RUNS, WINDOW_MS, () => rig.load.call('place', { kind: 'bridge', count: Math.round(n / 2), cps: CPS }));
          const stream = await measureCalls(rig, `stream calls, ${n}`, n, RUNS, WINDOW_MS, () => rig.load.call('place', { kind: 'stream', count: n, cps: CPS, echo: true }));
          pairs.push({ stream, bridged });
          for (const m of [bridged, stream]) console.log(`${m.label}: set-up ${JSON.stringify(m.setup)}, cpu ${m.windows.map((w) => fmt(w.platformCpuPct)).join(' / ')} %, loss ${m.windows.map((w) => fmt(w.load.lossPct, 3)).join(' / ')} %`);
        }
      } finally {
        await rig.close();
      }
      const idlePct = median(idle.map((w) => w.platformCpuPct));
      const cpuOf = (m: MeasuredCalls): number => median(m.windows.map((w) => w.platformCpuPct));
      const legsOf = (m: MeasuredCalls): number => (m.label.startsWith('bridged') ? m.setup.up * 2 : m.setup.up);
      // µs of platform CPU per leg per 20 ms: share of a core × 1e6 µs/s ÷ (legs × 50 frames/s).
      const frameUs = (m: MeasuredCalls): number => ((cpuOf(m) / 100) * 1e6) / (legsOf(m) * 50);
      const rows = pairs.map(({ stream, bridged }) => {
        const med = (f: (w: Window) => number): number => median(stream.windows.map(f));
        const failed = stream.setup.failed ? ` (${stream.setup.failed} failed: ${Object.entries(stream.setup.reasons).map(([k, v]) => `${v} ${k}`).join(', ')})` : '';
        return [
          `${legsOf(stream)}${failed}`,
          `${fmt(med((w) => w.load.lossPct), 3)} % (${med((w) => w.load.streams)} streams)`,
          `${fmt(med((w) => w.load.jitterMs.p99), 2)} / ${fmt(med((w) => w.load.transitMs.p50))}`,
          fmt(cpuOf(stream), 1),
          fmt(frameUs(stream), 1),
          fmt(frameUs(bridged), 1),
          `${fmt(frameUs(stream) / frameUs(bridged), 2)}×`,
          fmt((0.8 * 20_000) / frameUs(stream), 0),
          `${fmt(med((w) => w.load.gen.sendLagP99Ms))} / ${fmt(med((w) => w.load.gen.eldP99Ms))}`,
          `${fmt(med((w) => w.otherCpuPct), 0)} / ${fmt(med((w) => w.irqCpuPct), 0)}`,
        ];
      });
      const md = [
        `${RUNS} windows of ${WINDOW_MS / 1000} s per line, each figure the median of the windows. Platform idle CPU (no calls): ${fmt(idlePct, 1)} % of a core. Loss and jitter: what each caller heard back of its own audio, through the platform, the stream server's echo and the platform again. The reference is measured in the same run, just before, with as many legs.`,
        '',
        markdownTable([
          'stream calls up', 'loss (caller → socket → caller)', 'jitter p99 / one-way latency p50 there and back (ms)', 'platform CPU (% of a core)',
          'CPU per stream call per 20 ms (µs)', 'bridged leg, same run (µs per 20 ms)', 'stream call ÷ bridged leg', 'stream calls per core at 80 %',
          'generator send lag p99 / event-loop delay p99 (ms)', 'other jobs on the box / box irq+softirq (% of a core)',
        ], rows),
      ].join('\n');
      console.log(`${machineLine()}\n${md}`);
      writeReadmeSection('platform-stream', md, { heading: 'Whole platform: audio streams (issue 23, item 4)', ...(README ? { file: README } : {}) });
      const last = pairs.at(-1);
      if (!README && last) {
        recordHeadline({
          id: 'platform-stream',
          what: `Stream call (\`stream\`, 8 kHz, audio both ways) through the whole platform: CPU per call per 20 ms at ${legsOf(last.stream)} calls`,
          value: `${fmt(frameUs(last.stream))} µs → ${fmt((0.8 * 20_000) / frameUs(last.stream), 0)} calls per core at 80 % (${fmt(median(last.stream.windows.map((w) => w.load.lossPct)), 3)} % loss)`,
          reference: `bridged G.711 leg, same run: ${fmt(frameUs(last.bridged))} µs (stream call = ${fmt(frameUs(last.stream) / frameUs(last.bridged), 2)}× a leg)`,
          goal: '–',
          section: 'audio-streams',
        });
      }
    },
    { iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 },
  );
});
