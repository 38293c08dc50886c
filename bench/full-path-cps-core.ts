/**
 * Calls per second through the full path (GitHub issue 10, item 1): SIPp as
 * a carrier trunk calls claimed numbers, the platform fetches the number's
 * routing_url, plays a `say` over RTP, hangs up, and writes and bills the
 * CDR. SIPp against SIPp at the same rates, in the same run, is the
 * reference. Shared by `bench/full-path-cps.bench.ts` (vitest) and a
 * plain-Node run on compiled output; nothing here imports vitest.
 *
 * Processes, all on 127.0.0.1:
 * - the platform: `node bin.js start` compiled from src into a temp dir
 *   (bench/lib/full-path-platform.ts), SQLite in a temp data folder, sandbox
 *   off, log level silent; its CPU comes from /proc/<pid>/stat;
 * - the webhook app: a node:http server in this process answering
 *   `[{"say":{"text":"Thank you for calling."}},{"hangup":{}}]`;
 * - sipp uac with bench/scenarios/full-path-uac.xml: INVITE (PCMU) to one of
 *   the claimed numbers (round-robin from an -inf file), ACK the 200, wait for
 *   the platform's BYE and answer it; `-trace_stat` counts the calls.
 *
 * Per rate R: `-r R -m R*seconds`, `-l` caps concurrent calls at what the
 * rate needs for the call length plus slack. A step passes when every call
 * succeeded, none failed, the step did not overrun, and the API shows a
 * completed CDR with a price and hangup cause normal_clearing for every
 * successful call. The platform stops at
 * its first failing step, the reference likewise; they alternate rate by rate.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { freePort, procCpuSeconds, procRssBytes, sleep, startPlatformProcess, startWebhookApp, type PlatformProcess } from './lib/full-path-platform.js';
import { REPO } from './lib/media-build.js';
import { median, type Headline } from './lib/readme-section.js';

/** SIPp's 64 KiB default drops datagrams on a busy host; 4 MiB like the stack's UdpTransport. */
const SOCKET_BUFFER = 4 * 1024 * 1024;

export interface FullPathOptions {
  /** The ladder: rates stepped through, platform only, until one fails. Default 100, 200, 300, 350, 400, 450, 500. */
  rates?: number[];
  /** Length of a ladder step. Default 5 s. */
  seconds?: number;
  /** Confirmation runs at the ladder's highest passing rate, each beside a SIPp reference run. Default 3. */
  confirmRuns?: number;
  /** Length of a confirmation run. Default 15 s (the issue's 60 s: FULL_PATH_CONFIRM_SECONDS=60). */
  confirmSeconds?: number;
  /**
   * Calls at the confirmation rate, not measured, before each confirmation run and each reference
   * run, on the same process: the figures are those of a warmed-up process, as in service. Default 5 s.
   */
  warmUpSeconds?: number;
  /** Count the CDRs of a failed step again 30 s later, to tell slow calls from stuck ones. Default false. */
  recheckFailed?: boolean;
  /** Numbers claimed and called round-robin. Default 20. */
  numbers?: number;
  /** Measure SIPp uac → SIPp uas as the reference too. Default true. */
  reference?: boolean;
  /** How long the reference's uac holds each call (`-d`), to match the platform's say. Default 2000 ms. */
  referenceHoldMs?: number;
  /** The first workspace's credit, KES. Default 15000.00 (see bench/lib/full-path-platform.ts for why not more). */
  initialCredit?: string;
  /** Keep SIPp's CSV, error and output files (the folder is logged). Default false. */
  keepFiles?: boolean;
  /** Extra Node flags for the platform process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` (FULL_PATH_NODE_ARGS, space-separated). */
  platformNodeArgs?: string[];
  log?: (line: string) => void;
}

export interface FullPathStep {
  uas: 'sautikit' | 'sipp';
  rate: number;
  calls: number;
  successful: number;
  failed: number;
  retransmissions: number;
  /** Mean call length SIPp saw (INVITE to the end of the scenario), ms; the say plus signalling. */
  callLengthMs: number;
  /** Mean INVITE → 200 OK, ms (SIPp's response time 1). */
  answerMs: number;
  wallSeconds: number;
  /** CPU of the UAS process over the step, share of one core. */
  uasCpu: number;
  uasCpuPerCallUs: number;
  /** RSS of the UAS process at the end of the step, MiB. */
  uasRssMiB: number;
  /** Platform only: CDRs in the API for this step's calls. */
  cdrs?: { total: number; completedPriced: number; other: Record<string, number>; causes: Record<string, number>; waitedSeconds: number };
  /** Platform only, when CDRs were left unfinished: the same count 30 s later. */
  cdrsLater?: FullPathStep['cdrs'];
  webhooks?: number;
  /** Confirmation runs: the unmeasured calls just before, on the same process. */
  warmUp?: { calls: number; successful: number; failed: number };
  load1: number;
  onTime: boolean;
  passed: boolean;
}

export interface FullPathResults {
  seconds: number;
  confirmSeconds: number;
  warmUpSeconds: number;
  /** The ladder (platform only), then the confirmation runs, platform and SIPp alternating. */
  confirm: Array<{ platform: FullPathStep; reference?: FullPathStep }>;
  numbers: number;
  referenceHoldMs: number;
  started: string;
  steps: FullPathStep[];
  /** Anything the platform printed to stderr (log level silent: crashes only). */
  platformStderr: string;
}

const SCENARIO = join(REPO, 'bench/scenarios/full-path-uac.xml');

const live = new Set<ChildProcess>();

/** Kills whatever SIPp processes a step left behind (also on an exception). */
function killAll(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  live.clear();
}

interface UacStats {
  successful: number;
  failed: number;
  retransmissions: number;
  callLengthMs: number;
  answerMs: number;
  code: number | null;
}

/** SIPp writes durations as HH:MM:SS:uuuuuu (microseconds) in -trace_stat. */
function durationMs(text: string | undefined): number {
  const parts = (text ?? '').split(':').map(Number);
  if (parts.length < 4 || parts.some((n) => Number.isNaN(n))) return Number.NaN;
  return ((parts[0]! * 60 + parts[1]!) * 60 + parts[2]!) * 1000 + parts[3]! / 1000;
}

/** The last line of SIPp's `-trace_stat` CSV, read by column name. */
function readStats(file: string, code: number | null): UacStats {
  if (!existsSync(file)) return { successful: 0, failed: 0, retransmissions: 0, callLengthMs: Number.NaN, answerMs: Number.NaN, code };
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const names = lines[0]!.split(';');
  const last = lines[lines.length - 1]!.split(';');
  const raw = (name: string): string | undefined => {
    const index = names.indexOf(name);
    return index < 0 ? undefined : last[index];
  };
  return {
    successful: Number(raw('SuccessfulCall(C)')),
    failed: Number(raw('FailedCall(C)')),
    retransmissions: Number(raw('Retransmissions(C)')),
    callLengthMs: durationMs(raw('CallLength(C)')),
    answerMs: durationMs(raw('ResponseTime1(C)')),
    code,
  };
}

/**
 * One SIPp uac run at `rate` for `seconds`. Bounded: a call gets 5 s for its
 * answer (`-recv_timeout`) and 20 s for the platform's BYE (in the scenario);
 * SIPp quits after the step plus 40 s whatever happens (`-timeout`).
 */
async function runUac(dir: string, name: string, target: string, rate: number, seconds: number, callSeconds: number, scenario: string[]): Promise<UacStats> {
  const calls = rate * seconds;
  const statFile = join(dir, `${name}.csv`);
  const errorFile = join(dir, `${name}.errors`);
  // SIPp also binds the media port + 2 (video), which freePort() did not check: when a port it
  // needs is taken it exits before its first call, and the step is run again on other ports.
  for (let attempt = 1; ; attempt++) {
    const out = openSync(join(dir, `${name}.out`), 'w');
    const args = [
      ...scenario, target, '-i', '127.0.0.1', '-p', String(await freePort()), '-mp', String(await freePort()), '-t', 'u1',
      '-r', String(rate), '-m', String(calls),
      // Concurrent calls for the expected call length plus 3 s of slack; a platform that falls further behind fills it and runs late.
      '-l', String(Math.ceil(rate * (callSeconds + 3)) + 10),
      '-recv_timeout', '5000', '-timeout', `${seconds + 40}s`, '-timeout_error',
      '-buff_size', String(SOCKET_BUFFER),
      '-nostdin', '-trace_stat', '-stf', statFile, '-fd', '60', '-trace_err', '-error_file', errorFile,
    ];
    const child = spawn('sipp', args, { stdio: ['ignore', out, out] });
    live.add(child);
    // A missing sipp (ENOENT) rejects, so the caller's finally stops the platform it started.
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('exit', (c) => resolve(c));
      child.on('error', (error) => reject(new Error(`sipp: ${error.message} (install sip-tester)`)));
    });
    live.delete(child);
    closeSync(out);
    const stats = readStats(statFile, code);
    const bindFailed = stats.successful + stats.failed === 0 && existsSync(errorFile) && readFileSync(errorFile, 'utf8').includes('Unable to bind');
    if (!bindFailed || attempt === 3) return stats;
    rmSync(statFile, { force: true });
    rmSync(errorFile, { force: true });
  }
}

interface CallView { status: string; price: string | null; hangup_cause: string | null; hangup_by?: string | null }

/** Every call the API lists since `since` (ISO), following the Link header. */
async function listCalls(platform: PlatformProcess, since: string): Promise<CallView[]> {
  const calls: CallView[] = [];
  let url: string | null = `/v1/calls?limit=1000&since=${encodeURIComponent(since)}`;
  while (url) {
    const page: { status: number; json: CallView[]; link: string | null } = await platform.api<CallView[]>('GET', url);
    if (page.status !== 200) throw new Error(`GET /v1/calls: ${page.status} ${JSON.stringify(page.json)}`);
    calls.push(...page.json);
    url = /<([^>]+)>;\s*rel="next"/.exec(page.link ?? '')?.[1] ?? null;
  }
  return calls;
}

/**
 * Waits (up to 30 s) until the step's CDRs are written and billed: as many
 * completed calls with a price as SIPp counted successful, or no change for
 * 3 s. Everything else is tallied by status/hangup cause.
 */
async function checkCdrs(platform: PlatformProcess, since: string, successful: number): Promise<NonNullable<FullPathStep['cdrs']>> {
  const t0 = performance.now();
  let previous = '';
  let stableSince = performance.now();
  for (;;) {
    const calls = await listCalls(platform, since);
    const completedPriced = calls.filter((c) => c.status === 'completed' && c.price !== null).length;
    const other: Record<string, number> = {};
    const causes: Record<string, number> = {};
    for (const c of calls) {
      // Who ended the call and why: after the say, the app's hangup; anything else is worth seeing.
      const cause = `${c.hangup_by ?? '?'}/${c.hangup_cause ?? '?'}`;
      causes[cause] = (causes[cause] ?? 0) + 1;
      if (c.status === 'completed' && c.price !== null) continue;
      const label = `${c.status}${c.price === null ? ' unpriced' : ''}${c.hangup_cause ? ` (${c.hangup_cause})` : ''}`;
      other[label] = (other[label] ?? 0) + 1;
    }
    const signature = `${calls.length}/${completedPriced}`;
    if (signature !== previous) {
      previous = signature;
      stableSince = performance.now();
    }
    const waitedSeconds = (performance.now() - t0) / 1000;
    if ((completedPriced >= successful && Object.keys(other).length === 0) || performance.now() - stableSince > 3000 || waitedSeconds > 30) {
      return { total: calls.length, completedPriced, other, causes, waitedSeconds };
    }
    await sleep(500);
  }
}

function finishStep(uas: FullPathStep['uas'], rate: number, seconds: number, callSeconds: number, uac: UacStats, wallSeconds: number, cpuSeconds: number, rssBytes: number, load1: number): FullPathStep {
  const calls = rate * seconds;
  // The last call starts at `seconds` and lasts the call length; a platform that falls behind completes late.
  const onTime = wallSeconds <= (seconds + callSeconds) * 1.1 + 1;
  return {
    uas, rate, calls,
    successful: uac.successful, failed: uac.failed, retransmissions: uac.retransmissions,
    callLengthMs: uac.callLengthMs, answerMs: uac.answerMs,
    wallSeconds,
    uasCpu: cpuSeconds / wallSeconds,
    uasCpuPerCallUs: (cpuSeconds * 1e6) / calls,
    uasRssMiB: rssBytes / 1024 / 1024,
    load1, onTime,
    passed: uac.code === 0 && uac.failed === 0 && uac.successful === calls && onTime,
  };
}

async function platformStep(platform: PlatformProcess, webhookCount: () => number, dir: string, numbersFile: string, rate: number, seconds: number, callSeconds: number, recheck: boolean, name: string, warmUpSeconds = 0): Promise<FullPathStep> {
  const callPlatform = (label: string, forSeconds: number): Promise<UacStats> =>
    runUac(dir, label, `${platform.sip.host}:${platform.sip.port}`, rate, forSeconds, callSeconds, ['-sf', SCENARIO, '-inf', numbersFile]);
  let warmUp: FullPathStep['warmUp'];
  if (warmUpSeconds > 0) {
    const warm = await callPlatform(`${name}-warm-up`, warmUpSeconds);
    warmUp = { calls: rate * warmUpSeconds, successful: warm.successful, failed: warm.failed };
    // SIPp returns when its last call has ended; the pause keeps the warm-up's calls out of the CDR window below.
    await sleep(1500);
  }
  // CDR created_at has millisecond resolution; back off a second so clock rounding cannot drop the first calls.
  const since = new Date(Date.now() - 1000).toISOString();
  const load1 = os.loadavg()[0]!;
  const hooks0 = webhookCount();
  const cpu0 = procCpuSeconds(platform.pid);
  const t0 = performance.now();
  const uac = await callPlatform(name, seconds);
  const wallSeconds = (performance.now() - t0) / 1000;
  const cpu = procCpuSeconds(platform.pid) - cpu0;
  const rss = procRssBytes(platform.pid);
  const step = finishStep('sautikit', rate, seconds, callSeconds, uac, wallSeconds, cpu, rss, load1);
  step.webhooks = webhookCount() - hooks0;
  step.cdrs = await checkCdrs(platform, since, uac.successful);
  // The app's hangup after the say ends a call with normal_clearing; any other cause (insufficient_funds,
  // time_limit, …) means the call did not run the app's script, even though SIPp saw it succeed.
  const abnormal = Object.keys(step.cdrs.causes).some((cause) => !cause.endsWith('/normal_clearing'));
  step.passed &&= step.cdrs.completedPriced === uac.successful && Object.keys(step.cdrs.other).length === 0 && !abnormal;
  if (warmUp) {
    step.warmUp = warmUp;
    // A warm-up that lost calls leaves the platform busy with them: the run counts as failed.
    step.passed &&= warmUp.failed === 0 && warmUp.successful === warmUp.calls;
  }
  if (recheck && Object.keys(step.cdrs.other).length > 0) {
    // Calls SIPp gave up on still show as live: look once more, later, to tell slow from stuck.
    await sleep(30_000);
    step.cdrsLater = await checkCdrs(platform, since, uac.successful);
  }
  return step;
}

async function referenceStep(dir: string, rate: number, seconds: number, holdMs: number, name: string, warmUpSeconds = 0): Promise<FullPathStep> {
  const port = await freePort();
  const callSipp = (label: string, forSeconds: number): Promise<UacStats> =>
    runUac(dir, label, `127.0.0.1:${port}`, rate, forSeconds, holdMs / 1000, ['-sn', 'uac', '-s', '254700000001', '-d', String(holdMs)]);
  const out = openSync(join(dir, `${name}-uas.out`), 'w');
  // No -m: it is killed after the step, so its closing timewait does not pad the step.
  const uas = spawn('sipp', ['-sn', 'uas', '-i', '127.0.0.1', '-p', String(port), '-t', 'u1', '-buff_size', String(SOCKET_BUFFER), '-nostdin', '-timeout', `${seconds + 60}s`], { stdio: ['ignore', out, out] });
  live.add(uas);
  try {
    await sleep(300);
    if (warmUpSeconds > 0) {
      await callSipp(`${name}-warm-up`, warmUpSeconds);
      await sleep(holdMs + 500);
    }
    const load1 = os.loadavg()[0]!;
    const cpu0 = procCpuSeconds(uas.pid!);
    const t0 = performance.now();
    const uac = await callSipp(name, seconds);
    const wallSeconds = (performance.now() - t0) / 1000;
    const cpu = procCpuSeconds(uas.pid!) - cpu0;
    return finishStep('sipp', rate, seconds, holdMs / 1000, uac, wallSeconds, cpu, procRssBytes(uas.pid!), load1);
  } finally {
    uas.kill('SIGKILL');
    live.delete(uas);
    closeSync(out);
  }
}

/** Trunk from loopback, `count` numbers routed to the webhook app; answers the -inf file's lines. */
async function provision(platform: PlatformProcess, routingUrl: string, count: number): Promise<string[]> {
  const trunk = await platform.api('POST', '/v1/admin/trunks', {
    // Outbound goes nowhere here (port 9, discard): only inbound_addresses matters for this bench.
    name: 'bench-carrier', host: '127.0.0.1', port: 9, transport: 'udp', prefixes: ['+999'], inbound_addresses: ['127.0.0.1'],
  }, platform.adminKey);
  if (trunk.status !== 201) throw new Error(`POST /v1/admin/trunks: ${trunk.status} ${JSON.stringify(trunk.json)}`);
  const numbers: string[] = [];
  for (let i = 0; i < count; i++) {
    const claimed = await platform.api<{ number: string }>('POST', '/v1/numbers', { prefix: '+254', routing_url: routingUrl });
    if (claimed.status !== 201) throw new Error(`POST /v1/numbers: ${claimed.status} ${JSON.stringify(claimed.json)}`);
    // Carriers send the Request-URI without the +; the platform accepts both.
    numbers.push(claimed.json.number.replace(/^\+/, ''));
  }
  return numbers;
}

/** Retransmissions per call above which a ladder step, even one that passed, ends the ladder. */
const LADDER_RETRANSMISSIONS = 0.01;

/** The share of a core, in a ladder step, up to which a rate is a candidate for the confirmation runs. */
const CONFIRM_START_CPU = 0.7;

/** Confirmation runs allowed beyond `confirmRuns`, to replace runs that failed and stepped the rate down. */
const CONFIRM_EXTRA_RUNS = 2;

/** Mean INVITE → 200 time above which a ladder step, even one that passed, ends the ladder: the core is saturated. */
const LADDER_ANSWER_MS = 100;

/** The call length to budget for before the first step measured it: the say plus signalling. */
const FIRST_GUESS_CALL_SECONDS = 3;

/**
 * The default run, about 3 to 4 minutes: a ladder of short steps (platform
 * only) finds the highest rate with 0 failed calls; then confirmation runs,
 * each clean one followed by SIPp uac → SIPp uas at the same rate, so every
 * figure has its reference under the same host load, until `confirmRuns`
 * runs in a row are clean at one rate. Each confirmation run has a fresh
 * platform process, warmed up by `warmUpSeconds` of calls at the rate before
 * it is measured (the SIPp reference likewise); one that fails moves the rate
 * one ladder rung down.
 */
export async function runFullPathBench(options: FullPathOptions = {}): Promise<FullPathResults> {
  const rates = options.rates ?? [100, 200, 300, 350, 400, 450, 500];
  const seconds = options.seconds ?? 5;
  const confirmRuns = options.confirmRuns ?? 3;
  const confirmSeconds = options.confirmSeconds ?? 15;
  const warmUpSeconds = options.warmUpSeconds ?? 5;
  const count = options.numbers ?? 20;
  const holdMs = options.referenceHoldMs ?? 2000;
  const recheck = options.recheckFailed ?? false;
  const log = options.log ?? (() => undefined);
  const started = new Date().toISOString();
  const dir = mkdtempSync(join(os.tmpdir(), 'full-path-cps-'));
  const steps: FullPathStep[] = [];
  const confirm: FullPathResults['confirm'] = [];
  let platform: PlatformProcess | undefined;
  let numbers: string[] = [];
  const numbersFile = join(dir, 'numbers.csv');
  const app = await startWebhookApp();
  /** A platform process of its own, provisioned (trunk, numbers routed to the app) and idle. */
  const startFresh = async (): Promise<PlatformProcess> => {
    await platform?.close();
    platform = await startPlatformProcess(options.initialCredit, undefined, options.platformNodeArgs);
    log(`platform pid ${platform.pid}, api ${platform.apiUrl}, sip ${platform.sip.host}:${platform.sip.port}`);
    numbers = await provision(platform, app.url, count);
    writeFileSync(numbersFile, `SEQUENTIAL\n${numbers.map((n) => `${n};`).join('\n')}\n`);
    log(`trunk from 127.0.0.1, ${numbers.length} numbers routed to ${app.url}`);
    return platform;
  };
  try {
    let current = await startFresh();
    let callSeconds = FIRST_GUESS_CALL_SECONDS;
    const passed: number[] = [];
    for (const rate of rates) {
      const step = await platformStep(current, app.requests, dir, numbersFile, rate, seconds, callSeconds, recheck, `ladder-${rate}`);
      steps.push(step);
      log(describeStep(step));
      // Budget later steps' -l and on-time check by what this one measured (a healthy call, not a timed-out one).
      if (step.passed && Number.isFinite(step.callLengthMs)) callSeconds = Math.max(callSeconds, step.callLengthMs / 1000);
      if (!step.passed) {
        log(errorsTail(dir, `ladder-${rate}`));
        break;
      }
      // A step that passed only thanks to SIPp's retransmissions, or with the platform answering
      // late (its core saturated), is where a longer run fails: it ends the ladder and is not confirmed.
      if (step.retransmissions > step.calls * LADDER_RETRANSMISSIONS || step.answerMs > LADDER_ANSWER_MS) {
        log(`ladder stops at ${rate} cps: ${step.retransmissions} retransmissions for ${step.calls} calls, answer ${step.answerMs.toFixed(0)} ms`);
        break;
      }
      passed.push(rate);
    }
    // A 5 s step under-reads what a longer run costs (memory and GC grow with the calls a run has
    // handled): confirmations start at the highest passing rate that used at most
    // CONFIRM_START_CPU of a core, and step one rung down after each failure.
    const light = passed.filter((rate) => steps.find((st) => st.rate === rate)!.uasCpu <= CONFIRM_START_CPU);
    let rung = light.length > 0 ? passed.indexOf(light.at(-1)!) : 0;
    if (passed.length === 0) rung = -1;
    let cleanAtRung = 0;
    for (let run = 1; run <= confirmRuns + CONFIRM_EXTRA_RUNS && rung >= 0 && cleanAtRung < confirmRuns; run++) {
      // Each confirmation run starts on a fresh, idle platform: one that has just failed is still
      // finishing the calls SIPp gave up on, and would fail the next run for that alone.
      current = await startFresh();
      const rate = passed[rung]!;
      const step = await platformStep(current, app.requests, dir, numbersFile, rate, confirmSeconds, callSeconds, recheck, `confirm-${run}-${rate}`, warmUpSeconds);
      log(`confirm ${run}: ${describeStep(step)}`);
      if (!step.passed) log(errorsTail(dir, `confirm-${run}-${rate}`));
      const pair: FullPathResults['confirm'][number] = { platform: step };
      // The reference runs beside every clean run (the figures quoted); a failed run is shown alone.
      if (step.passed && (options.reference ?? true)) {
        pair.reference = await referenceStep(dir, rate, confirmSeconds, holdMs, `reference-${run}-${rate}`, warmUpSeconds);
        log(`confirm ${run}: ${describeStep(pair.reference)}`);
      }
      confirm.push(pair);
      if (step.passed) {
        cleanAtRung++;
      } else {
        rung--;
        cleanAtRung = 0;
      }
    }
    return { seconds, confirmSeconds, warmUpSeconds, confirm, numbers: numbers.length, referenceHoldMs: holdMs, started, steps, platformStderr: current.stderr() };
  } finally {
    killAll();
    await platform?.close();
    await app.close();
    if (options.keepFiles) log(`sipp files kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

/** The first few distinct lines of SIPp's error file, for the log of a failing step. */
function errorsTail(dir: string, name: string): string {
  const file = join(dir, `${name}.errors`);
  if (!existsSync(file)) return `${name}: no sipp error file`;
  const lines = [...new Set(readFileSync(file, 'utf8').split('\n').map((l) => l.replace(/^[\d\-: .]+\t?/, '').trim()).filter(Boolean))];
  return `${name} sipp errors (distinct, first 8):\n  ${lines.slice(0, 8).join('\n  ')}`;
}

const pct = (share: number): string => `${(share * 100).toFixed(0)} %`;

function describeStep(s: FullPathStep): string {
  const cdrs = s.cdrs ? `, CDRs ${s.cdrs.completedPriced} completed+priced of ${s.cdrs.total}${Object.keys(s.cdrs.other).length ? ` other ${JSON.stringify(s.cdrs.other)}` : ''} (${s.cdrs.waitedSeconds.toFixed(1)} s), ended ${JSON.stringify(s.cdrs.causes)}, webhooks ${s.webhooks}${s.cdrsLater ? `; 30 s later: ${s.cdrsLater.completedPriced} completed+priced, other ${JSON.stringify(s.cdrsLater.other)}, ended ${JSON.stringify(s.cdrsLater.causes)}` : ''}` : '';
  return `${s.uas}, ${s.rate} cps: ${s.successful}/${s.calls} ok, ${s.failed} failed, ${s.retransmissions} retrans, call ${s.callLengthMs.toFixed(0)} ms, answer ${s.answerMs.toFixed(0)} ms, ${s.wallSeconds.toFixed(1)} s, cpu ${pct(s.uasCpu)} (${s.uasCpuPerCallUs.toFixed(0)} µs/call), rss ${s.uasRssMiB.toFixed(0)} MiB${cdrs}${s.warmUp ? `, after a warm-up of ${s.warmUp.successful}/${s.warmUp.calls} ok` : ''}, load ${s.load1.toFixed(2)}${s.passed ? '' : ' ✗'}`;
}

const f0 = (n: number): string => (Number.isFinite(n) ? n.toFixed(0) : '—');
const thousands = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');

function countsCell(s: FullPathStep): string {
  return `${s.successful} / ${s.failed} (${s.retransmissions})${s.passed ? '' : s.onTime ? ' ✗' : ' ✗ late'}`;
}

function cdrCell(s: FullPathStep): string {
  const odd = Object.entries(s.cdrs!.causes).filter(([k]) => !k.endsWith('/normal_clearing') && k !== '?/?');
  return `${s.cdrs!.completedPriced}${Object.keys(s.cdrs!.other).length ? ` + ${Object.entries(s.cdrs!.other).map(([k, v]) => `${v} ${k}`).join(', ')}` : ''}${odd.length ? `; ended by ${odd.map(([k, v]) => `${v} ${k}`).join(', ')}` : ''}${s.cdrsLater ? `; 30 s later ${s.cdrsLater.completedPriced} completed + priced` : ''}`;
}

/** Platform CPU per call ÷ SIPp uas's in the same run (the issue's goal: ≤ 12×). */
function cpuRatio(platform: FullPathStep, reference: FullPathStep): number {
  return platform.uasCpuPerCallUs / reference.uasCpuPerCallUs;
}

function ratioText(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio < 10 ? ratio.toFixed(1) : ratio.toFixed(0)}×` : '—';
}

/** The median of each confirmation run's own ratio (platform ÷ the reference that followed it). */
function medianRatio(runs: FullPathResults['confirm']): number {
  return median(runs.flatMap((c) => (c.reference ? [cpuRatio(c.platform, c.reference)] : [])));
}

/**
 * Markdown for bench/README.md: the confirmation runs (platform beside SIPp,
 * with their medians) and the headline, then the ladder that chose the rate.
 */
export function formatFullPathResults(results: FullPathResults): string {
  const lines: string[] = [];
  const confirm = results.confirm;
  const clean = confirm.filter((c) => c.platform.passed);
  const rates = [...new Set(confirm.map((c) => c.platform.rate))];
  if (confirm.length > 0) {
    lines.push(
      `Confirmation runs, ${results.confirmSeconds} s each, platform then SIPp uac → SIPp uas at the same rate (calls held ${results.referenceHoldMs} ms)${results.warmUpSeconds > 0 ? `; each measured after ${results.warmUpSeconds} s of calls at that rate on the same process (a warmed-up process, as in service; the ladder below is measured cold)` : ''}:`,
      '',
      '| run | rate (cps) | calls | platform: ok / failed (retrans.) | CDRs completed + priced | platform CPU, % of a core (µs/call) | platform RSS, MiB | answer / call length, ms | SIPp uas: ok / failed (retrans.) | SIPp uas CPU, % of a core (µs/call) | platform ÷ SIPp uas, CPU per call | load avg 1 min |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    confirm.forEach(({ platform: p, reference: r }, i) => {
      lines.push(`| ${i + 1} | ${p.rate} | ${p.calls} | ${countsCell(p)} | ${cdrCell(p)} | ${f0(p.uasCpu * 100)} (${thousands(p.uasCpuPerCallUs)}) | ${f0(p.uasRssMiB)} | ${f0(p.answerMs)} / ${f0(p.callLengthMs)} | ${r ? countsCell(r) : '—'} | ${r ? `${f0(r.uasCpu * 100)} (${thousands(r.uasCpuPerCallUs)})` : '—'} | ${r ? ratioText(cpuRatio(p, r)) : '—'} | ${p.load1.toFixed(2)} |`);
    });
    for (const rate of rates) {
      const at = confirm.filter((c) => c.platform.rate === rate);
      const refs = at.flatMap((c) => (c.reference ? [c.reference] : []));
      lines.push(`| median of ${at.length} | ${rate} | | ${at.filter((c) => c.platform.passed).length} of ${at.length} clean | | ${f0(median(at.map((c) => c.platform.uasCpu * 100)))} (${thousands(median(at.map((c) => c.platform.uasCpuPerCallUs)))}) | ${f0(median(at.map((c) => c.platform.uasRssMiB)))} | ${f0(median(at.map((c) => c.platform.answerMs)))} / ${f0(median(at.map((c) => c.platform.callLengthMs)))} | ${refs.length ? `${refs.filter((r) => r.passed).length} of ${refs.length} clean` : '—'} | ${refs.length ? `${f0(median(refs.map((r) => r.uasCpu * 100)))} (${thousands(median(refs.map((r) => r.uasCpuPerCallUs)))})` : '—'} | ${ratioText(medianRatio(at))} | |`);
    }
    const top = clean.length ? Math.max(...clean.map((c) => c.platform.rate)) : undefined;
    const atTop = confirm.filter((c) => c.platform.rate === top);
    const seconds = atTop.filter((c) => c.platform.passed).length * results.confirmSeconds;
    lines.push('', top === undefined
      ? '**No confirmation run was clean.**'
      : `**Highest rate with 0 failed calls, every CDR completed, priced and normal_clearing: ${top} cps** (${atTop.filter((c) => c.platform.passed).length} of ${atTop.length} runs clean, ${seconds} s of calls at that rate in all), using a median ${f0(median(atTop.map((c) => c.platform.uasCpu * 100)))} % of one core, ${thousands(median(atTop.map((c) => c.platform.uasCpuPerCallUs)))} µs of CPU per call, ${ratioText(medianRatio(atTop))} SIPp uas's in the same runs (goal ≤ 12×). SIPp uas at the same rate: ${f0(median(atTop.flatMap((c) => (c.reference ? [c.reference.uasCpu * 100] : []))))} % of a core.`);
    lines.push('');
  }
  lines.push(
    `Ladder, ${results.seconds} s per rate, platform only, up to the first step that failed or needed more than ${LADDER_RETRANSMISSIONS * 100} % retransmissions (${results.numbers} numbers, UDP on 127.0.0.1):`,
    '',
    '| rate (cps) | calls | ok / failed (retrans.) | CDRs completed + priced | CPU, % of a core (µs/call) | RSS, MiB | answer / call length, ms | wall time, s | load avg 1 min |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const s of results.steps) {
    const behind = s.passed && s.retransmissions > s.calls * LADDER_RETRANSMISSIONS ? ' (ends the ladder)' : '';
    lines.push(`| ${s.rate} | ${s.calls} | ${countsCell(s)}${behind} | ${cdrCell(s)} | ${f0(s.uasCpu * 100)} (${thousands(s.uasCpuPerCallUs)}) | ${f0(s.uasRssMiB)} | ${f0(s.answerMs)} / ${f0(s.callLengthMs)} | ${s.wallSeconds.toFixed(1)} | ${s.load1.toFixed(2)} |`);
  }
  if (results.platformStderr.trim()) lines.push('', `Platform stderr (tail): ${results.platformStderr.trim().slice(-500)}`);
  return lines.join('\n');
}

/** The summary row: the highest rate confirmed clean, beside SIPp at that rate. */
export function fullPathHeadline(results: FullPathResults): Headline {
  const clean = results.confirm.filter((c) => c.platform.passed);
  const top = clean.length ? Math.max(...clean.map((c) => c.platform.rate)) : undefined;
  const atTop = clean.filter((c) => c.platform.rate === top);
  const refs = atTop.flatMap((c) => (c.reference ? [c.reference] : []));
  return {
    id: 'full-path-cps',
    what: `Calls per second, full path (SIPp trunk → INVITE → routing_url → say → hangup → CDR billed), 0 failed, runs of ${results.confirmSeconds} s`,
    value: top === undefined
      ? 'no clean confirmation run'
      : `${top} cps (${atTop.length} of ${results.confirm.filter((c) => c.platform.rate === top).length} runs clean; ${f0(median(atTop.map((c) => c.platform.uasCpu * 100)))} % of a core, ${thousands(median(atTop.map((c) => c.platform.uasCpuPerCallUs)))} µs CPU per call${refs.length ? `, ${ratioText(medianRatio(atTop))} SIPp uas's` : ''})`,
    reference: refs.length
      ? `SIPp uac → SIPp uas at ${top} cps: ${refs.filter((r) => r.passed).length} of ${refs.length} clean, ${f0(median(refs.map((r) => r.uasCpu * 100)))} % of a core (${thousands(median(refs.map((r) => r.uasCpuPerCallUs)))} µs per call)`
      : '–',
    goal: '≥ 500 cps with 0 failures for 60 s; CPU per call ≤ 12× SIPp uas\'s',
    section: 'calls-per-second-full-path',
  };
}

/**
 * FULL_PATH_RATES=50,100 FULL_PATH_SECONDS=5 (ladder) FULL_PATH_CONFIRM_RUNS=3 FULL_PATH_CONFIRM_SECONDS=15 FULL_PATH_WARM_UP_SECONDS=5
 * FULL_PATH_NUMBERS=20 FULL_PATH_REFERENCE=0 FULL_PATH_REFERENCE_HOLD_MS=2000 FULL_PATH_RECHECK=1 FULL_PATH_KEEP=1
 * FULL_PATH_CREDIT=15000.00 FULL_PATH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): FullPathOptions {
  const options: FullPathOptions = {};
  if (env.FULL_PATH_RATES) options.rates = env.FULL_PATH_RATES.split(',').map(Number).filter((n) => n > 0);
  if (env.FULL_PATH_SECONDS) options.seconds = Number(env.FULL_PATH_SECONDS);
  if (env.FULL_PATH_CONFIRM_RUNS) options.confirmRuns = Number(env.FULL_PATH_CONFIRM_RUNS);
  if (env.FULL_PATH_CONFIRM_SECONDS) options.confirmSeconds = Number(env.FULL_PATH_CONFIRM_SECONDS);
  if (env.FULL_PATH_WARM_UP_SECONDS) options.warmUpSeconds = Number(env.FULL_PATH_WARM_UP_SECONDS);
  if (env.FULL_PATH_RECHECK === '1') options.recheckFailed = true;
  if (env.FULL_PATH_NUMBERS) options.numbers = Number(env.FULL_PATH_NUMBERS);
  if (env.FULL_PATH_REFERENCE === '0') options.reference = false;
  if (env.FULL_PATH_CREDIT) options.initialCredit = env.FULL_PATH_CREDIT;
  if (env.FULL_PATH_KEEP === '1') options.keepFiles = true;
  if (env.FULL_PATH_NODE_ARGS) options.platformNodeArgs = env.FULL_PATH_NODE_ARGS.split(' ').filter(Boolean);
  if (env.FULL_PATH_REFERENCE_HOLD_MS) options.referenceHoldMs = Number(env.FULL_PATH_REFERENCE_HOLD_MS);
  return options;
}

/** Entry point for the plain-Node run. */
export async function main(): Promise<void> {
  const results = await runFullPathBench({ ...optionsFromEnv(), log: (line) => console.log(line) });
  console.log(`\n${formatFullPathResults(results)}`);
}

// Run directly (`node full-path-cps-core.js`) as well as imported.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  void main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
