/**
 * What the whole-platform benchmarks (bench/platform-*.bench.ts) share:
 * compile and start the platform (full-path-platform.ts) and the trunk load
 * generator (trunk-loadgen.ts) in processes of their own, provision the
 * trunk and numbers through the HTTP API, and measure windows: the load
 * generator's end-to-end counts beside every process's CPU from /proc and
 * what the rest of the box used meanwhile.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { buildChildren, type BenchBuild } from './media-build.js';
import { BenchChild } from './media-ipc.js';
import { procCpuSeconds, procRssBytes, sleep, startPlatformProcess, type PlatformProcess } from './full-path-platform.js';
import type { WindowStats } from './trunk-loadgen.js';

export type { WindowStats };

/** Where the platform-bridge bench leaves its capacity for the latency bench of the same `npm run bench`. */
export const CAPACITY_FILE = `${os.tmpdir()}/sautikit-bench-platform-bridge.json`;

/**
 * Extra Node flags for the platform process (PLATFORM_BENCH_NODE_ARGS, space-separated), e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` for a CPU profile written when the platform exits.
 */
const PLATFORM_NODE_ARGS = (process.env.PLATFORM_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

export interface Rig {
  platform: PlatformProcess;
  load: BenchChild;
  loadPid: number;
  build: BenchBuild;
  sipPort: number;
  webhookUrl: string;
  wsUrl: string;
  close(): Promise<void>;
}

/**
 * Platform + load generator, provisioned: one trunk whose address is the
 * load generator (prefix +254800, inbound from 127.0.0.1), private
 * callbacks allowed, `numbers` numbers claimed with routing_url pointing at
 * the load generator's webhook app.
 */
export async function startRig(numbers = 10, extraChildren: string[] = []): Promise<Rig> {
  // The two compilations (platform, children) run side by side.
  const [build, platform] = await Promise.all([
    buildChildren(['bench/lib/trunk-loadgen.ts', ...extraChildren]),
    startPlatformProcess('15000.00', '20000-29999', PLATFORM_NODE_ARGS),
  ]);
  const load = new BenchChild(build.js('bench/lib/trunk-loadgen.ts'));
  const close = async (): Promise<void> => {
    await load.call('shutdown').catch(() => undefined);
    await load.close();
    await platform.close();
    await build.remove();
  };
  try {
    const info = await load.call<{ sipPort: number; webhookUrl: string; wsUrl: string; pid: number }>('init', { platform: platform.sip });
    const trunk = await platform.api('POST', '/v1/admin/trunks', {
      name: 'bench-trunk', host: '127.0.0.1', port: info.sipPort, transport: 'udp', prefixes: ['+254800'], inbound_addresses: ['127.0.0.1'],
    }, platform.adminKey);
    if (trunk.status !== 201) throw new Error(`POST /v1/admin/trunks: ${trunk.status} ${JSON.stringify(trunk.json)}`);
    const settings = await platform.api('PATCH', '/v1/settings', { allow_private_callbacks: true, allowed_destinations: ['+254'] });
    if (settings.status !== 200) throw new Error(`PATCH /v1/settings: ${settings.status} ${JSON.stringify(settings.json)}`);
    const claimed: string[] = [];
    for (let i = 0; i < numbers; i++) {
      const r = await platform.api<{ number: string }>('POST', '/v1/numbers', { prefix: '+254', routing_url: info.webhookUrl });
      if (r.status !== 201) throw new Error(`POST /v1/numbers: ${r.status} ${JSON.stringify(r.json)}`);
      claimed.push(r.json.number);
    }
    await load.call('configure', { numbers: claimed });
    return { platform, load, loadPid: info.pid, build, sipPort: info.sipPort, webhookUrl: info.webhookUrl, wsUrl: info.wsUrl, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Jiffies of all cores from /proc/stat: busy in processes (user, nice,
 * system), in interrupts (irq + softirq: UDP on loopback is mostly softirq
 * work, not charged to any process), stolen by the hypervisor, and total.
 */
export function boxTimes(): { busy: number; irq: number; steal: number; total: number } {
  const v = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const at = (i: number): number => v[i] ?? 0;
  return { busy: at(0) + at(1) + at(2), irq: at(5) + at(6), steal: at(7), total: v.slice(0, 8).reduce((a, b) => a + b, 0) };
}

export interface Window {
  load: WindowStats;
  /** Platform process CPU over the window, % of one core (all its threads). */
  platformCpuPct: number;
  /** The reference relay's own CPU, % of one core (reference windows only). */
  relayCpuPct: number;
  /** The whole box's process time minus the processes above, % of one core: other people's jobs. */
  otherCpuPct: number;
  /** Interrupt and softirq time of the whole box (our own packets included), % of one core. */
  irqCpuPct: number;
  /** Time the hypervisor took from the box, % of one core. */
  stealCpuPct: number;
  platformRssBytes: number;
}

/**
 * One measured window of `ms`: the load generator counts what the phones
 * sent and heard; CPU of the platform (and relay, if any) comes from
 * /proc/<pid>/stat over the same span. Packets still in flight get `graceMs`.
 */
export async function measureWindow(rig: Rig, ms: number, relay?: BenchChild, graceMs = 300): Promise<Window> {
  const box0 = boxTimes();
  const p0 = procCpuSeconds(rig.platform.pid);
  const l0 = procCpuSeconds(rig.loadPid);
  await Promise.all([rig.load.call('markStart'), relay?.call('markStart')]);
  const t0 = performance.now();
  await sleep(ms);
  const [, relayResult] = await Promise.all([rig.load.call('markEnd'), relay?.call<{ cpuPct: number }>('markEnd', { calls: 0 })]);
  const seconds = (performance.now() - t0) / 1000;
  const p1 = procCpuSeconds(rig.platform.pid);
  const l1 = procCpuSeconds(rig.loadPid);
  const box1 = boxTimes();
  await sleep(graceMs);
  const load = await rig.load.call<WindowStats>('collect');
  const platformCpuPct = (100 * (p1 - p0)) / seconds;
  const relayCpuPct = relayResult?.cpuPct ?? 0;
  const share = (k: 'busy' | 'irq' | 'steal'): number => (100 * os.cpus().length * (box1[k] - box0[k])) / Math.max(1, box1.total - box0.total);
  return {
    load, platformCpuPct, relayCpuPct,
    otherCpuPct: share('busy') - platformCpuPct - (100 * (l1 - l0)) / seconds - relayCpuPct,
    irqCpuPct: share('irq'),
    stealCpuPct: share('steal'),
    platformRssBytes: procRssBytes(rig.platform.pid),
  };
}

/** One configuration of calls, set up, left to settle, measured over several windows, then hung up. */
export interface MeasuredCalls {
  label: string;
  legs: number;
  setup: { up: number; failed: number; reasons: Record<string, number>; seconds: number };
  windows: Window[];
}

/** Places calls with `place`, waits 1.5 s for them to settle, measures `runs` windows of `windowMs`, and hangs everyone up. */
export async function measureCalls(rig: Rig, label: string, legs: number, runs: number, windowMs: number, place: () => Promise<MeasuredCalls['setup']>): Promise<MeasuredCalls> {
  const setup = await place();
  await sleep(1500);
  const windows: Window[] = [];
  for (let r = 0; r < runs; r++) windows.push(await measureWindow(rig, windowMs));
  await rig.load.call('hangupAll');
  await sleep(1000);
  return { label, legs, setup, windows };
}

export const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : '–');
