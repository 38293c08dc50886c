/**
 * Calls per second a minimal UAS on the SIP stack sustains under SIPp's
 * built-in `uac` scenario, stepping the rate up, with SIPp's own `uas`
 * scenario measured the same way in the same run as the reference.
 * Shared by `bench/sip-cps.bench.ts` (vitest) and a plain-Node run on
 * compiled output (see bench/sip.md); nothing here imports vitest.
 *
 * Per step and rate R: `sipp -sn uac -r R -m R*seconds` against the UAS on
 * 127.0.0.1 (UDP by default). A step passes when SIPp counts every call
 * successful and none failed, and the step did not overrun (a UAS that falls
 * behind still completes its calls, late); the stack stops at its first
 * failing step, and so does the reference. The two alternate rate by rate, so a busy
 * shared host loads both alike.
 *
 * CPU: the stack UAS runs in this process, so its figure is
 * `process.cpuUsage()` over the step (the orchestration here is a few
 * spawns and one file read, and SIPp's output goes to files, not through
 * this process). The reference UAS's CPU comes from /proc/<pid>/stat; the
 * load generator's (sipp uac) from bash's `times`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { SipUserAgent } from '../src/sip/index.js';
import { median, type Headline } from './lib/readme-section.js';

const SDP = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv', ''].join('\r\n');

/** The stack's UdpTransport default; granted in full when net.core.rmem_max/wmem_max allow it. */
const SOCKET_BUFFER = 4 * 1024 * 1024;

/** Linux reports /proc CPU times in clock ticks; 100 on every kernel this runs on. */
const CLK_TCK = 100;

export type CpsTransport = 'udp' | 'tcp';

export interface CpsOptions {
  /** The ladder: rates stepped through (the stack only) until one fails. Default 800, 1600, 2400, 3200, 4000, 4800. */
  rates?: number[];
  /** Length of a ladder step. Default 4 s. */
  seconds?: number;
  /** Confirmation runs at the ladder's highest passing rate, each beside a SIPp uas run. Default 3. */
  confirmRuns?: number;
  /** Length of a confirmation run. Default 4 s. */
  confirmSeconds?: number;
  /** How long SIPp's uac holds each call before its BYE (`-d`). Default 1000 ms. */
  holdMs?: number;
  transport?: CpsTransport;
  /** Measure SIPp uas as the reference too. Default true. */
  reference?: boolean;
  log?: (line: string) => void;
}

export interface StepResult {
  uas: 'sautikit' | 'sipp';
  rate: number;
  calls: number;
  successful: number;
  failed: number;
  /** SIPp's retransmission counter: a sign of strain before calls fail. */
  retransmissions: number;
  /** Length of the step: `seconds` plus the hold time when SIPp kept up with the rate. */
  wallSeconds: number;
  /** CPU of the UAS over the step, as a share of one core. */
  uasCpu: number;
  /** CPU of the UAS per call, in microseconds. */
  uasCpuPerCallUs: number;
  /** CPU of the load generator (sipp uac), as a share of one core. */
  uacCpu: number;
  load1: number;
  /** Event-loop delay p99 and max over the step, ms (the stack only: it shares this event loop). */
  loopDelayP99Ms?: number;
  loopDelayMaxMs?: number;
  /** The step ended within 10 % (+0.5 s) of `seconds` plus the hold time. */
  onTime: boolean;
  /** 0 failed calls, every call successful, and on time. */
  passed: boolean;
}

export interface CpsResults {
  transport: CpsTransport;
  seconds: number;
  confirmSeconds: number;
  /** Confirmation runs: the stack, then SIPp uas at the same rate. */
  confirm: Array<{ stack: StepResult; reference?: StepResult }>;
  holdMs: number;
  steps: StepResult[];
}

const live = new Set<ChildProcess>();

/** Kills whatever SIPp processes a step left behind (also on an exception). */
function killAll(): void {
  for (const child of live) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    // The uac runs under bash in its own process group: kill the group, so sipp goes too.
    try {
      if (child.spawnargs[0] === 'bash' && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      else child.kill('SIGKILL');
    } catch {
      // Already gone between the check and the kill.
    }
  }
  live.clear();
}

/** A port free for both UDP and TCP right now (SIPp has no `-p 0`). */
async function freePort(): Promise<number> {
  for (;;) {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const port = socket.address().port;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    const server = createServer();
    const tcpFree = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (tcpFree) return port;
  }
}

function portTaken(port: number, protocol: CpsTransport): Promise<boolean> {
  if (protocol === 'tcp') {
    const server = createServer();
    return new Promise((resolve) => {
      server.once('error', () => resolve(true));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
    });
  }
  const socket = createSocket('udp4');
  return new Promise((resolve) => {
    socket.once('error', () => resolve(true));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(false)));
  });
}

async function waitForPort(port: number, protocol: CpsTransport): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await portTaken(port, protocol))) {
    if (Date.now() > deadline) throw new Error(`sipp uas did not bind ${protocol} port ${port}`);
    await sleep(50);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** CPU seconds (user + system) a live process has used so far. */
function procCpuSeconds(pid: number): number {
  // Fields after the command name (which may contain spaces) start at ")".
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Parses bash's `times` output; the second line is the children's user and system time. */
function parseTimes(text: string): number {
  const line = text.trim().split('\n')[1] ?? '';
  let total = 0;
  for (const match of line.matchAll(/(\d+)m([\d.]+)s/g)) total += Number(match[1]) * 60 + Number(match[2]);
  return total;
}

interface UacStats {
  successful: number;
  failed: number;
  retransmissions: number;
}

/** The last line of SIPp's `-trace_stat` CSV, read by column name. */
function readStats(file: string): UacStats {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const names = lines[0]!.split(';');
  const last = lines[lines.length - 1]!.split(';');
  const field = (name: string): number => {
    const index = names.indexOf(name);
    if (index < 0) throw new Error(`no ${name} column in ${file}`);
    return Number(last[index]);
  };
  return {
    successful: field('SuccessfulCall(C)'),
    failed: field('FailedCall(C)'),
    retransmissions: field('Retransmissions(C)'),
  };
}

/**
 * Runs SIPp's uac scenario at `rate` for `seconds` against `target` and
 * returns its counters and its own CPU time. Bounded: SIPp gives up on a
 * call after 5 s without an answer (`-recv_timeout`) and quits after the
 * step plus 20 s whatever happens (`-timeout`).
 */
let runNumber = 0;

async function runUac(dir: string, target: string, transport: CpsTransport, rate: number, seconds: number, holdMs: number): Promise<UacStats & { cpuSeconds: number; code: number | null }> {
  const calls = rate * seconds;
  const port = await freePort();
  const name = `uac-${++runNumber}-${rate}`;
  const statFile = join(dir, `${name}.csv`);
  const timesFile = join(dir, `${name}.times`);
  const args = [
    '-sn', 'uac', target, '-s', 'bob', '-i', '127.0.0.1', '-p', String(port), '-t', transport === 'tcp' ? 't1' : 'u1',
    '-r', String(rate), '-m', String(calls),
    // Enough concurrent calls for the hold time plus a second of slack; a slower UAS fills it and fails, as it should.
    '-l', String(Math.ceil(rate * (holdMs / 1000 + 1)) + 10),
    '-d', String(holdMs), '-recv_timeout', '5000', '-timeout', `${seconds + 20}s`, '-timeout_error',
    // 4 MiB socket buffers like the stack's UdpTransport: SIPp's 64 KiB default drops datagrams on
    // a busy host while it waits for a CPU, and the drops would count against the UAS.
    '-buff_size', String(SOCKET_BUFFER),
    '-nostdin', '-trace_stat', '-stf', statFile, '-fd', '60', '-trace_err', '-error_file', join(dir, `${name}.errors`),
  ];
  // bash's `times` reports the CPU of sipp after it exits (Node does not expose a child's rusage).
  const out = openSync(join(dir, `${name}.out`), 'w');
  const child = spawn('bash', ['-c', 'sipp "$@"; rc=$?; times > "$TIMES_FILE"; exit $rc', 'bash', ...args], {
    stdio: ['ignore', out, out],
    env: { ...process.env, TIMES_FILE: timesFile },
    detached: true,
  });
  live.add(child);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  live.delete(child);
  closeSync(out);
  return { ...readStats(statFile), cpuSeconds: parseTimes(readFileSync(timesFile, 'utf8')), code };
}

function stepResult(uas: StepResult['uas'], rate: number, seconds: number, holdMs: number, uac: UacStats & { cpuSeconds: number; code: number | null }, wallSeconds: number, uasCpuSeconds: number, load1: number): StepResult {
  const calls = rate * seconds;
  // A UAS that falls behind still completes every call, late: SIPp's -l cap then slows the call
  // rate and the step runs long. That is not sustaining the rate, so a late step does not pass.
  const onTime = wallSeconds <= (seconds + holdMs / 1000) * 1.1 + 0.5;
  return {
    uas,
    rate,
    calls,
    successful: uac.successful,
    failed: uac.failed,
    retransmissions: uac.retransmissions,
    wallSeconds,
    uasCpu: uasCpuSeconds / wallSeconds,
    uasCpuPerCallUs: (uasCpuSeconds * 1e6) / calls,
    uacCpu: uac.cpuSeconds / wallSeconds,
    load1,
    onTime,
    passed: uac.code === 0 && uac.failed === 0 && uac.successful === calls && onTime,
  };
}

/** One step against a fresh SipUserAgent in this process. */
async function stackStep(dir: string, transport: CpsTransport, rate: number, seconds: number, holdMs: number): Promise<StepResult> {
  const ua = new SipUserAgent({ listen: [{ protocol: transport, host: '127.0.0.1', port: 0 }] });
  await ua.start();
  // The minimal UAS: answer every INVITE with 200 + SDP; the BYE ends the session by itself.
  ua.on('invite', (call) => void call.answer(SDP));
  try {
    const load1 = os.loadavg()[0]!;
    // Stalls of the event loop are what turn into SIPp retransmissions (T1 = 500 ms) before CPU runs out.
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const uac = await runUac(dir, `127.0.0.1:${ua.localAddress(transport).port}`, transport, rate, seconds, holdMs);
    // SIPp exits once its last BYE is answered, so the UAS has done its part by now.
    const wallSeconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    delay.disable();
    return {
      ...stepResult('sautikit', rate, seconds, holdMs, uac, wallSeconds, (cpu.user + cpu.system) / 1e6, load1),
      loopDelayP99Ms: delay.percentile(99) / 1e6,
      loopDelayMaxMs: delay.max / 1e6,
    };
  } finally {
    await ua.close();
  }
}

/** The same step against SIPp's own uas scenario. */
async function referenceStep(dir: string, transport: CpsTransport, rate: number, seconds: number, holdMs: number): Promise<StepResult> {
  const port = await freePort();
  const out = openSync(join(dir, `uas-${runNumber + 1}-${rate}.out`), 'w');
  // No -m: it is killed after the step, so its 4 s closing timewait does not pad the step.
  const uas = spawn('sipp', ['-sn', 'uas', '-i', '127.0.0.1', '-p', String(port), '-t', transport === 'tcp' ? 't1' : 'u1', '-buff_size', String(SOCKET_BUFFER), '-nostdin', '-timeout', `${seconds + 40}s`], { stdio: ['ignore', out, out] });
  live.add(uas);
  try {
    await waitForPort(port, transport);
    const load1 = os.loadavg()[0]!;
    const cpu0 = procCpuSeconds(uas.pid!);
    const t0 = performance.now();
    const uac = await runUac(dir, `127.0.0.1:${port}`, transport, rate, seconds, holdMs);
    const wallSeconds = (performance.now() - t0) / 1000;
    const cpu = procCpuSeconds(uas.pid!) - cpu0;
    return stepResult('sipp', rate, seconds, holdMs, uac, wallSeconds, cpu, load1);
  } finally {
    uas.kill('SIGKILL');
    live.delete(uas);
    closeSync(out);
  }
}

/**
 * The default run, about a minute: a ladder of short steps (the stack only)
 * finds the highest rate with 0 failed calls, on time; then `confirmRuns`
 * runs at that rate, each followed by SIPp uas at the same rate, so every
 * figure has its reference under the same host load. A confirmation run that
 * fails moves the rate one rung down for the runs left.
 */
export async function runCpsBench(options: CpsOptions = {}): Promise<CpsResults> {
  // The stack passed 800 cps in every earlier run and 3200 once a call cost it about 200 µs;
  // 4800 is where the ladder should find its ceiling on a 2-core box.
  const rates = options.rates ?? [800, 1600, 2400, 3200, 4000, 4800];
  const seconds = options.seconds ?? 4;
  const confirmRuns = options.confirmRuns ?? 3;
  const confirmSeconds = options.confirmSeconds ?? 4;
  const holdMs = options.holdMs ?? 1000;
  const transport = options.transport ?? 'udp';
  const log = options.log ?? (() => undefined);
  const dir = mkdtempSync(join(os.tmpdir(), 'sip-cps-'));
  const steps: StepResult[] = [];
  const confirm: CpsResults['confirm'] = [];
  try {
    const passed: number[] = [];
    for (const rate of rates) {
      const step = await stackStep(dir, transport, rate, seconds, holdMs);
      steps.push(step);
      log(describeStep(step));
      if (!step.passed) break;
      passed.push(rate);
    }
    let rung = passed.length - 1;
    for (let run = 1; run <= confirmRuns && rung >= 0; run++) {
      const rate = passed[rung]!;
      const stack = await stackStep(dir, transport, rate, confirmSeconds, holdMs);
      log(`confirm ${run}: ${describeStep(stack)}`);
      const pair: CpsResults['confirm'][number] = { stack };
      if (options.reference ?? true) {
        pair.reference = await referenceStep(dir, transport, rate, confirmSeconds, holdMs);
        log(`confirm ${run}: ${describeStep(pair.reference)}`);
      }
      confirm.push(pair);
      if (!stack.passed) rung--;
    }
  } finally {
    killAll();
    rmSync(dir, { recursive: true, force: true });
  }
  return { transport, seconds, confirmSeconds, confirm, holdMs, steps };
}

const pct = (share: number): string => `${(share * 100).toFixed(0)} %`;

function describeStep(s: StepResult): string {
  return `${s.uas} uas, ${s.rate} cps: ${s.successful}/${s.calls} ok, ${s.failed} failed, ${s.retransmissions} retransmissions, ${s.wallSeconds.toFixed(1)} s, uas cpu ${pct(s.uasCpu)} (${s.uasCpuPerCallUs.toFixed(0)} µs/call)${s.loopDelayMaxMs === undefined ? '' : `, loop delay p99 ${s.loopDelayP99Ms!.toFixed(0)} ms max ${s.loopDelayMaxMs.toFixed(0)} ms`}, uac cpu ${pct(s.uacCpu)}, load ${s.load1.toFixed(2)}`;
}

const thousands = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const counts = (s: StepResult): string => `${s.successful} / ${s.failed} (${s.retransmissions})${s.passed ? '' : s.onTime ? ' ✗' : ' ✗ late'}`;
const cpu = (s: StepResult): string => `${pct(s.uasCpu)} (${thousands(s.uasCpuPerCallUs)})`;

/** Markdown for bench/README.md: the confirmation runs beside SIPp with their medians and the headline, then the ladder. */
/** The summary row: the SIP stack's highest clean rate and CPU per call beside SIPp uas. */
export function cpsHeadline(results: CpsResults): Headline {
  const clean = results.confirm.filter((c) => c.stack.passed);
  const top = clean.length ? Math.max(...clean.map((c) => c.stack.rate)) : undefined;
  const atTop = clean.filter((c) => c.stack.rate === top);
  const refs = atTop.flatMap((c) => (c.reference ? [c.reference] : []));
  const above = results.steps.every((s) => s.passed) ? ' (every ladder step passed: the ceiling is higher)' : '';
  return {
    id: `sip-cps-${results.transport}`,
    what: `SIP stack alone, calls per second over ${results.transport.toUpperCase()} (INVITE, 200, ACK, BYE), 0 failed`,
    value: top === undefined ? 'no clean confirmation run' : `≥ ${top} cps${above}, ${thousands(median(atTop.map((c) => c.stack.uasCpuPerCallUs)))} µs CPU per call`,
    reference: refs.length ? `SIPp uas at ${top} cps: ${refs.filter((r) => r.passed).length} of ${refs.length} clean, ${thousands(median(refs.map((r) => r.uasCpuPerCallUs)))} µs per call` : '–',
    goal: '–',
    section: 'sip-stack-parser-and-calls-per-second',
  };
}

export function formatCpsResults(results: CpsResults): string {
  const lines: string[] = [];
  const header = `Transport ${results.transport.toUpperCase()}, calls held ${results.holdMs} ms, 127.0.0.1.`;
  if (results.confirm.length > 0) {
    lines.push(
      `${header} Confirmation runs, ${results.confirmSeconds} s each: Sautikit's UAS, then SIPp uas at the same rate.`,
      '',
      '| run | rate (cps) | calls | Sautikit: ok / failed (retrans.) | Sautikit UAS CPU (µs/call) | event-loop delay p99 / max, ms | SIPp uas: ok / failed (retrans.) | SIPp uas CPU (µs/call) | wall time, s (Sautikit / SIPp) | load avg 1 min |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    results.confirm.forEach(({ stack: s, reference: r }, i) => {
      lines.push(`| ${i + 1} | ${s.rate} | ${s.calls} | ${counts(s)} | ${cpu(s)} | ${s.loopDelayP99Ms!.toFixed(0)} / ${s.loopDelayMaxMs!.toFixed(0)} | ${r ? counts(r) : '—'} | ${r ? cpu(r) : '—'} | ${s.wallSeconds.toFixed(1)} / ${r ? r.wallSeconds.toFixed(1) : '—'} | ${s.load1.toFixed(2)} |`);
    });
    for (const rate of [...new Set(results.confirm.map((c) => c.stack.rate))]) {
      const at = results.confirm.filter((c) => c.stack.rate === rate);
      const refs = at.flatMap((c) => (c.reference ? [c.reference] : []));
      lines.push(`| median of ${at.length} | ${rate} | | ${at.filter((c) => c.stack.passed).length} of ${at.length} clean | ${pct(median(at.map((c) => c.stack.uasCpu)))} (${thousands(median(at.map((c) => c.stack.uasCpuPerCallUs)))}) | | ${refs.length ? `${refs.filter((r) => r.passed).length} of ${refs.length} clean` : '—'} | ${refs.length ? `${pct(median(refs.map((r) => r.uasCpu)))} (${thousands(median(refs.map((r) => r.uasCpuPerCallUs)))})` : '—'} | | |`);
    }
    const clean = results.confirm.filter((c) => c.stack.passed);
    const top = clean.length ? Math.max(...clean.map((c) => c.stack.rate)) : undefined;
    const atTop = results.confirm.filter((c) => c.stack.rate === top);
    lines.push('', top === undefined
      ? '**No confirmation run was clean.**'
      : `**Highest rate with 0 failed calls, on time: ${top} cps** (${atTop.filter((c) => c.stack.passed).length} of ${atTop.length} runs clean), a median ${thousands(median(atTop.map((c) => c.stack.uasCpuPerCallUs)))} µs of CPU per call; SIPp uas at the same rate: ${thousands(median(atTop.flatMap((c) => (c.reference ? [c.reference.uasCpuPerCallUs] : []))))} µs per call.${results.steps.every((s) => s.passed) ? ' Every ladder step passed, so the ceiling is above the last rate tried.' : ''}`);
    lines.push('');
  }
  lines.push(
    `Ladder, ${results.seconds} s per rate, Sautikit's UAS only, up to the first failing step:`,
    '',
    '| rate (cps) | calls | ok / failed (retrans.) | UAS CPU (µs/call) | event-loop delay p99 / max, ms | wall time, s | sipp uac CPU | load avg 1 min |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const s of results.steps) {
    lines.push(`| ${s.rate} | ${s.calls} | ${counts(s)} | ${cpu(s)} | ${s.loopDelayP99Ms!.toFixed(0)} / ${s.loopDelayMaxMs!.toFixed(0)} | ${s.wallSeconds.toFixed(1)} | ${pct(s.uacCpu)} | ${s.load1.toFixed(2)} |`);
  }
  lines.push('', "✗ late: no call failed, but the step overran (the UAS fell behind and SIPp's -l cap slowed the rate).");
  return lines.join('\n');
}

/** Entry point for the plain-Node run; rates, seconds and transport from SIP_CPS_* variables. */
export async function main(): Promise<void> {
  const results = await runCpsBench({ ...optionsFromEnv(), log: (line) => console.log(line) });
  console.log(`\n${formatCpsResults(results)}`);
}

/** SIP_CPS_RATES=400,800 SIP_CPS_SECONDS=4 SIP_CPS_CONFIRM_RUNS=3 SIP_CPS_CONFIRM_SECONDS=4 SIP_CPS_HOLD_MS=1000 SIP_CPS_TRANSPORT=udp|tcp SIP_CPS_REFERENCE=0 */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): CpsOptions {
  const options: CpsOptions = {};
  if (env.SIP_CPS_RATES) options.rates = env.SIP_CPS_RATES.split(',').map(Number).filter((n) => n > 0);
  if (env.SIP_CPS_SECONDS) options.seconds = Number(env.SIP_CPS_SECONDS);
  if (env.SIP_CPS_CONFIRM_RUNS) options.confirmRuns = Number(env.SIP_CPS_CONFIRM_RUNS);
  if (env.SIP_CPS_CONFIRM_SECONDS) options.confirmSeconds = Number(env.SIP_CPS_CONFIRM_SECONDS);
  if (env.SIP_CPS_HOLD_MS) options.holdMs = Number(env.SIP_CPS_HOLD_MS);
  if (env.SIP_CPS_TRANSPORT === 'tcp' || env.SIP_CPS_TRANSPORT === 'udp') options.transport = env.SIP_CPS_TRANSPORT;
  if (env.SIP_CPS_REFERENCE === '0') options.reference = false;
  return options;
}
