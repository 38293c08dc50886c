/**
 * Latency through the whole platform under load (GitHub issue 10, item 4),
 * each path beside a raw Node relay doing the same hops in the same run.
 *
 * Run: `npx vitest bench --run --config vitest.bench.config.ts bench/platform-latency.bench.ts` (about 1 min).
 * Env: PLATFORM_LATENCY_BACKGROUND=<bridged calls> (default: half the
 * capacity the platform-bridge bench of the same `npm run bench` found,
 * read from the temp dir if under 6 h old, else 50), PLATFORM_LATENCY_RUNS=3,
 * PLATFORM_LATENCY_SAY=40 (say probes per run), PLATFORM_LATENCY_STREAMS=15
 * (stream probes per run, each held PLATFORM_LATENCY_HOLD_S=2 s).
 *
 * Processes as in bench/platform-bridge.bench.ts: the platform, the load
 * generator (trunk, webhook app, phones, stream WebSocket server; it takes
 * every timestamp, on one clock) and, for the reference,
 * bench/lib/latency-relay.ts. The background is bridged calls with RTP both
 * ways (set up first and running throughout; its loss and jitter are
 * reported too). Then per run:
 *
 * - (a) INVITE sent → webhook request received by the app, and
 *   (b) webhook answer sent (`res.end`) → first audible RTP packet at the
 *   caller: `say` probe calls (the app answers `say` with a fixed text; the
 *   TTS cache is warmed first with the same text, so (b) is a cached prompt).
 *   The platform answers the INVITE after the webhook, so (b) includes the
 *   200 OK, the say's start and the wait for the next 20 ms tick.
 *   Reference: a datagram makes the relay POST to the same app with fetch;
 *   once the body is read it sends one audible packet to the phone.
 * - (c) caller RTP sent → frame received on the `stream` action's WebSocket
 *   (audio.drachtio.org, 8 kHz L16): stream probe calls whose phones send
 *   silence with a loud 20 ms 1 kHz marker every 200 ms; the app's server
 *   times the first frame with a sample above 3000. Reference: the relay
 *   decodes each packet and sends it on a WebSocket at once.
 *
 * Each figure: p50 and p99 within a run, then the median over the runs.
 * With 40 say probes a run's p99 is its largest sample.
 */
import { existsSync, readFileSync } from 'node:fs';
import { bench, describe } from 'vitest';
import { BenchChild } from './lib/media-ipc.js';
import { procCpuSeconds, sleep } from './lib/full-path-platform.js';
import { CAPACITY_FILE, fmt, startRig, type WindowStats } from './lib/platform-bench.js';
import { machineLine, markdownTable, median, quantile, recordHeadline, writeReadmeSection } from './lib/readme-section.js';

const RUNS = Math.max(3, Number(process.env.PLATFORM_LATENCY_RUNS ?? 3));
const SAY = Number(process.env.PLATFORM_LATENCY_SAY ?? 40);
const STREAMS = Number(process.env.PLATFORM_LATENCY_STREAMS ?? 15);
const HOLD_MS = Number(process.env.PLATFORM_LATENCY_HOLD_S ?? 2) * 1000;
const README = process.env.PLATFORM_BENCH_README;
const SAY_TEXT = 'Thank you for calling. Please hold.';

/** Background: env, else half of what platform-bridge just measured, else 50. */
function background(): { calls: number; why: string } {
  if (process.env.PLATFORM_LATENCY_BACKGROUND) return { calls: Number(process.env.PLATFORM_LATENCY_BACKGROUND), why: 'PLATFORM_LATENCY_BACKGROUND' };
  try {
    if (existsSync(CAPACITY_FILE)) {
      const { at, capacity } = JSON.parse(readFileSync(CAPACITY_FILE, 'utf8')) as { at: string; capacity: number };
      if (capacity > 0 && Date.now() - Date.parse(at) < 6 * 3600_000) return { calls: Math.round(capacity / 2), why: `half of the ${capacity} bridged calls platform-bridge passed at ${at.slice(11, 16)} UTC` };
    }
  } catch {
    // no usable capacity: the fixed default
  }
  return { calls: 50, why: 'fixed default (no platform-bridge capacity from this session)' };
}

interface Side {
  inviteToWebhookMs: number[];
  answerToAudioMs: number[];
  failed: number;
  stream: WindowStats;
  streamFailed: number;
  platformCpuPct: number;
}

interface Run {
  platform: Side;
  reference: Side;
}

const p = (values: number[], q: number): number => quantile(values, q);

let measured = false;

describe('latency through the whole platform under load', () => {
  bench(
    `${RUNS} runs of ${SAY} say + ${STREAMS} stream probes`,
    async () => {
      if (measured) return;
      measured = true;
      const bg = background();
      const rig = await startRig(10, ['bench/lib/latency-relay.ts']);
      const relay = new BenchChild(rig.build.js('bench/lib/latency-relay.ts'));
      const runs: Run[] = [];
      let setup: { up: number; failed: number } = { up: 0, failed: 0 };
      try {
        const { port: relayPort } = await relay.call<{ port: number }>('init', { webhookUrl: rig.webhookUrl });
        await rig.load.call('configure', { sayText: SAY_TEXT });
        setup = await rig.load.call<{ up: number; failed: number }>('place', { kind: 'bridge', count: bg.calls, cps: 40 });
        // Warm up: the TTS cache (same text), the stream path, and the JIT of every path measured.
        await rig.load.call('probe', { kind: 'say', count: 3, cps: 10 });
        await rig.load.call('probe', { kind: 'stream', count: 2, cps: 10, holdMs: 500 });
        await sleep(1000);
        const side = async (platformSide: boolean): Promise<Side> => {
          const c0 = procCpuSeconds(rig.platform.pid);
          const t0 = performance.now();
          await rig.load.call('markStart');
          let say: { inviteToWebhookMs: number[]; answerToAudioMs: number[]; failed: number };
          let streamFailed: number;
          if (platformSide) {
            say = await rig.load.call('probe', { kind: 'say', count: SAY, cps: 20 });
            streamFailed = (await rig.load.call<{ failed: number }>('probe', { kind: 'stream', count: STREAMS, cps: 20, holdMs: HOLD_MS })).failed;
          } else {
            say = await rig.load.call('refProbeSay', { count: SAY, cps: 20, relayPort });
            const indices = await rig.load.call<number[]>('refStreamCalls', { count: STREAMS });
            const ports = await relay.call<number[]>('streamSetup', { indices, wsUrl: rig.wsUrl });
            streamFailed = (await rig.load.call<{ failed: number }>('refProbeStream', { indices, ports, holdMs: HOLD_MS })).failed;
            await relay.call('streamTeardown');
          }
          await rig.load.call('markEnd');
          const platformCpuPct = (100 * (procCpuSeconds(rig.platform.pid) - c0)) / ((performance.now() - t0) / 1000);
          await sleep(300);
          const stream = await rig.load.call<WindowStats>('collect');
          return { ...say, stream, streamFailed, platformCpuPct };
        };
        for (let r = 0; r < RUNS; r++) {
          const run = { platform: await side(true), reference: await side(false) };
          runs.push(run);
          console.log(`run ${r + 1}: platform (a) ${fmt(median(run.platform.inviteToWebhookMs), 2)} (b) ${fmt(median(run.platform.answerToAudioMs), 2)} (c) ${fmt(run.platform.stream.streamLatencyMs.p50, 2)} ms; reference (a) ${fmt(median(run.reference.inviteToWebhookMs), 2)} (b) ${fmt(median(run.reference.answerToAudioMs), 2)} (c) ${fmt(run.reference.stream.streamLatencyMs.p50, 2)} ms; background loss ${fmt(run.platform.stream.lossPct, 3)} %`);
        }
        await rig.load.call('hangupAll');
      } finally {
        await relay.close();
        await rig.close();
      }
      const m = (f: (r: Run) => number): string => fmt(median(runs.map(f)), 1);
      const row = (label: string, get: (s: Side) => number[]): string[] => [
        label,
        `${m((r) => p(get(r.platform), 0.5))} / ${m((r) => p(get(r.platform), 0.99))}`,
        `${m((r) => p(get(r.reference), 0.5))} / ${m((r) => p(get(r.reference), 0.99))}`,
        `${runs.reduce((a, r) => a + get(r.platform).length, 0)} / ${runs.reduce((a, r) => a + get(r.reference).length, 0)}`,
      ];
      const streamRow = [
        '(c) caller RTP sent → frame on the stream WebSocket',
        `${m((r) => r.platform.stream.streamLatencyMs.p50)} / ${m((r) => r.platform.stream.streamLatencyMs.p99)}`,
        `${m((r) => r.reference.stream.streamLatencyMs.p50)} / ${m((r) => r.reference.stream.streamLatencyMs.p99)}`,
        `${runs.reduce((a, r) => a + r.platform.stream.streamLatencyMs.samples, 0)} / ${runs.reduce((a, r) => a + r.reference.stream.streamLatencyMs.samples, 0)}`,
      ];
      const failed = runs.reduce((a, r) => a + r.platform.failed + r.platform.streamFailed, 0);
      const refFailed = runs.reduce((a, r) => a + r.reference.failed + r.reference.streamFailed, 0);
      const md = [
        `Background: ${setup.up} bridged calls with RTP both ways (${bg.why}${setup.failed ? `; ${setup.failed} failed to set up` : ''}). ${RUNS} runs, each ${SAY} say probes and ${STREAMS} stream probes (${HOLD_MS / 1000} s, a marker every 200 ms) on the platform, then the same on the raw relay. ms, p50 / p99 within a run, median over the runs.`,
        '',
        markdownTable(['path', 'platform p50 / p99', 'raw relay p50 / p99', 'samples, platform / relay'], [
          row('(a) INVITE sent → webhook request at the app', (s) => s.inviteToWebhookMs),
          row('(b) webhook answer sent → first RTP of the cached say prompt', (s) => s.answerToAudioMs),
          streamRow,
        ]),
        '',
        `Probes that failed (no webhook, no audio within 5 s, or no stream connection): platform ${failed}, relay ${refFailed}; stream markers not matched before the next: platform ${runs.reduce((a, r) => a + r.platform.stream.streamLatencyMs.missed, 0)}, relay ${runs.reduce((a, r) => a + r.reference.stream.streamLatencyMs.missed, 0)}.`,
        `Background during the platform runs: loss ${m((r) => r.platform.stream.lossPct)} %, jitter p99 ${m((r) => r.platform.stream.jitterMs.p99)} ms, platform CPU ${m((r) => r.platform.platformCpuPct)} % of a core; load generator send lag p99 ${m((r) => r.platform.stream.gen.sendLagP99Ms)} ms, event-loop delay p99 ${m((r) => r.platform.stream.gen.eldP99Ms)} ms (during the relay runs: ${m((r) => r.reference.stream.gen.sendLagP99Ms)} / ${m((r) => r.reference.stream.gen.eldP99Ms)} ms).`,
      ].join('\n');
      console.log(`${machineLine()}\n${md}`);
      writeReadmeSection('platform-latency', md, { heading: 'Whole platform: latency under load (issue 10, item 4)', ...(README ? { file: README } : {}) });
      const both = (f: (s: Side) => number[]): [string, string] => [
        `${m((r) => p(f(r.platform), 0.5))} / ${m((r) => p(f(r.platform), 0.99))}`,
        `${m((r) => p(f(r.reference), 0.5))} / ${m((r) => p(f(r.reference), 0.99))}`,
      ];
      const [aP, aR] = both((s) => s.inviteToWebhookMs);
      const [bP, bR] = both((s) => s.answerToAudioMs);
      const cP = `${m((r) => r.platform.stream.streamLatencyMs.p50)} / ${m((r) => r.platform.stream.streamLatencyMs.p99)}`;
      const cR = `${m((r) => r.reference.stream.streamLatencyMs.p50)} / ${m((r) => r.reference.stream.streamLatencyMs.p99)}`;
      if (!README) {
        recordHeadline({
          id: 'platform-latency',
          what: `Whole-platform latency, p50 / p99 ms, under ${setup.up} bridged calls: INVITE → webhook; webhook answer → first cached say RTP; caller RTP → stream frame`,
          value: `${aP}; ${bP}; ${cP}`,
          reference: `raw Node relay: ${aR}; ${bR}; ${cR}`,
          goal: '–',
          section: 'latency-under-load',
        });
      }
    },
    { iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 },
  );
});
