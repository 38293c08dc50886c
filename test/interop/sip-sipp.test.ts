/**
 * Interop with SIPp (Debian package sip-tester): its built-in uac and uas
 * scenarios against our user agent, over UDP and TCP, a REGISTER with
 * digest authentication from an XML scenario, and a few hundred calls each
 * way counted from SIPp's own statistics file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DigestServer, Registrar, SipUserAgent, type SipSession } from '../../src/sip/index.js';

const SCENARIOS = fileURLToPath(new URL('./scenarios/', import.meta.url));
const TIMERS = { t1: 100, t2: 800, t4: 1000 };
const SDP = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');

const children: ChildProcess[] = [];
const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** A port free for both UDP and TCP right now (SIPp binds it next). */
async function freePort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** True once something holds the port (SIPp is listening). */
function portTaken(port: number, protocol: 'udp' | 'tcp'): Promise<boolean> {
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

interface SippRun {
  exit: Promise<{ code: number | null; output: string }>;
}

/** Cumulative counters from the last line of SIPp's `-trace_stat` CSV. */
interface SippStats {
  created: number;
  successful: number;
  failed: number;
  retransmissions: number;
  unexpected: number;
}

interface SippVolumeRun {
  exit: Promise<{ code: number | null; output: string; stats: SippStats; errors: string }>;
}

function sipp(args: string[], calls = 1, timeout = '20s'): SippRun {
  const child = spawn('sipp', [...args, '-nostdin', '-timeout', timeout, '-timeout_error', '-m', String(calls), '-i', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return { exit: new Promise((resolve) => child.on('exit', (code) => resolve({ code, output: output.slice(-3000) }))) };
}

/**
 * Reads SIPp's statistics CSV (`;`-separated, one header line, one line per
 * dump; the last one is written at exit) by column name, so a SIPp version
 * that adds columns does not shift what we read.
 */
function readSippStats(file: string): SippStats {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const names = lines[0]!.split(';');
  const last = lines[lines.length - 1]!.split(';');
  const field = (name: string): number => {
    const index = names.indexOf(name);
    if (index < 0) throw new Error(`no ${name} column in ${file}`);
    return Number(last[index]);
  };
  return {
    created: field('TotalCallCreated'),
    successful: field('SuccessfulCall(C)'),
    failed: field('FailedCall(C)'),
    retransmissions: field('Retransmissions(C)'),
    unexpected: field('FailedUnexpectedMessage(C)'),
  };
}

/** `sipp()` with a statistics file and an error trace, read back once SIPp exits. */
function sippVolume(args: string[], calls: number): SippVolumeRun {
  const dir = mkdtempSync(join(tmpdir(), 'sipp-volume-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const statFile = join(dir, 'stats.csv');
  const errorFile = join(dir, 'errors.log');
  // -fd 60: only the final dump matters; the test stays well under a minute.
  const run = sipp([...args, '-trace_stat', '-stf', statFile, '-fd', '60', '-trace_err', '-error_file', errorFile], calls, '45s');
  return {
    exit: run.exit.then((result) => {
      let errors = '';
      try {
        errors = readFileSync(errorFile, 'utf8').slice(-3000);
      } catch {
        // SIPp only creates the error file when something unexpected happened.
      }
      return { ...result, stats: readSippStats(statFile), errors };
    }),
  };
}

/** Polls until `predicate` holds; the deadline is a safety net, not a timing assertion. */
async function until(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/** Waits until SIPp holds its port, so the first INVITE is not sent into the void. */
async function waitForPort(port: number, protocol: 'udp' | 'tcp'): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await portTaken(port, protocol))) {
    if (Date.now() > deadline) throw new Error('sipp did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function agent(options: ConstructorParameters<typeof SipUserAgent>[0] = {}): Promise<SipUserAgent> {
  const ua = new SipUserAgent({
    listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }, { protocol: 'tcp', host: '127.0.0.1', port: 0 }],
    timers: TIMERS,
    ...options,
  });
  await ua.start();
  cleanups.push(() => ua.close());
  return ua;
}

describe('sipp interop', () => {
  it.each([
    ['udp', 'u1'],
    ['tcp', 't1'],
  ] as const)('answers the sipp uac scenario and takes its BYE (%s)', async (protocol, mode) => {
    const ua = await agent();
    const ended = new Promise<string>((resolve) =>
      ua.on('invite', (call) => {
        call.ring();
        const session: SipSession = call.answer(SDP);
        session.once('ended', (end) => resolve(end.by));
      }),
    );
    const port = await freePort();
    const run = sipp(['-sn', 'uac', `127.0.0.1:${ua.localAddress(protocol).port}`, '-s', 'bob', '-t', mode, '-p', String(port)]);
    const result = await run.exit;
    expect(result.code, result.output).toBe(0);
    expect(await ended).toBe('remote');
  });

  it('answers 20 sipp calls, 10 at a time, and leaves no session behind', async () => {
    const ua = await agent();
    let ended = 0;
    ua.on('invite', (call) => {
      call.ring();
      call.answer(SDP).once('ended', () => ended++);
    });
    const port = await freePort();
    const run = sipp(['-sn', 'uac', `127.0.0.1:${ua.localAddress('udp').port}`, '-s', 'bob', '-l', '10', '-r', '50', '-p', String(port)], 20);
    const result = await run.exit;
    expect(result.code, result.output).toBe(0);
    expect(ended).toBe(20);
    expect(ua.sessions.size).toBe(0);
  });

  it.each([
    ['udp', 'u1'],
    ['tcp', 't1'],
  ] as const)('calls the sipp uas scenario and hangs up (%s)', async (protocol, mode) => {
    const ua = await agent();
    const port = await freePort();
    const run = sipp(['-sn', 'uas', '-t', mode, '-p', String(port)]);
    await waitForPort(port, protocol);
    const provisional: number[] = [];
    const call = ua.invite(`sip:service@127.0.0.1:${port}${protocol === 'tcp' ? ';transport=tcp' : ''}`, { sdp: SDP, from: 'sip:sautikit@127.0.0.1' });
    call.on('provisional', (p) => provisional.push(p.status));
    const session = await call.wait();
    expect(provisional).toContain(180);
    await session.bye();
    const result = await run.exit;
    expect(result.code, result.output).toBe(0);
  });

  it.each([
    ['MD5', 'u1'],
    ['MD5', 't1'],
    // SIPp 3.6 answers only MD5 (and takes the first challenge), so this registrar offers MD5 alone.
  ] as const)('registers a sipp client with %s digest authentication (%s)', async (algorithm, mode) => {
    const registrar = new Registrar({
      realm: 'sautikit.test',
      credentials: async (user) => (user === 'alice' ? 'wonderland' : undefined),
      digest: new DigestServer({ realm: 'sautikit.test', algorithms: [algorithm] }),
    });
    const registered: string[] = [];
    registrar.on('registered', (b) => registered.push(b.aor));
    const ua = await agent({ registrar });
    const port = await freePort();
    const target = `127.0.0.1:${ua.localAddress(mode === 't1' ? 'tcp' : 'udp').port}`;
    const run = sipp(['-sf', `${SCENARIOS}register-digest.xml`, target, '-t', mode, '-p', String(port)]);
    const result = await run.exit;
    expect(result.code, result.output).toBe(0);
    expect(registered).toEqual(['sip:alice@sautikit.test']);
    expect(registrar.lookup('sip:alice@sautikit.test')).toHaveLength(0);
  });

  // A few hundred calls each way over UDP and TCP: 50 cps, at most 50 at once. Only counts are
  // asserted (SIPp's own success/failure counters and ours), never durations or rates.
  const VOLUME = 300;

  it.each([
    ['udp', 'u1'],
    ['tcp', 't1'],
  ] as const)(`answers ${VOLUME} calls of the sipp uac scenario with 0 failed calls (%s)`, async (protocol, mode) => {
    // Default timers (T1 = 500 ms): a 2xx retransmission on a busy host is then as rare as on a real server.
    const ua = await agent({ timers: {} });
    let answered = 0;
    let ended = 0;
    const endedBy = new Set<string>();
    ua.on('invite', (call) => {
      answered++;
      call.answer(SDP).once('ended', (end) => {
        ended++;
        endedBy.add(end.by);
      });
    });
    const port = await freePort();
    const target = `127.0.0.1:${ua.localAddress(protocol).port}`;
    const run = sippVolume(['-sn', 'uac', target, '-s', 'bob', '-t', mode, '-p', String(port), '-r', '50', '-l', '50'], VOLUME);
    const result = await run.exit;
    expect(result.code, `${result.output}\n${result.errors}`).toBe(0);
    expect(result.stats, result.errors).toMatchObject({ created: VOLUME, successful: VOLUME, failed: 0, unexpected: 0 });
    await until(() => ended === VOLUME && ua.sessions.size === 0);
    expect(answered).toBe(VOLUME);
    expect(ended).toBe(VOLUME);
    expect([...endedBy]).toEqual(['remote']);
    expect(ua.sessions.size).toBe(0);
  });

  it.each([
    ['udp', 'u1'],
    ['tcp', 't1'],
  ] as const)(`places ${VOLUME} calls on the sipp uas scenario with 0 failed calls (%s)`, async (protocol, mode) => {
    const ua = await agent({ timers: {} });
    const port = await freePort();
    const run = sippVolume(['-sn', 'uas', '-t', mode, '-p', String(port)], VOLUME);
    await waitForPort(port, protocol);
    const uri = `sip:service@127.0.0.1:${port}${protocol === 'tcp' ? ';transport=tcp' : ''}`;
    let next = 0;
    let answered = 0;
    const failures: string[] = [];
    // 50 callers, each placing calls back to back (the same concurrency as the uac test's -l 50).
    const caller = async (): Promise<void> => {
      while (next < VOLUME) {
        next++;
        try {
          const session = await ua.invite(uri, { sdp: SDP, from: 'sip:sautikit@127.0.0.1' }).wait();
          answered++;
          await session.bye();
        } catch (error) {
          failures.push(String(error));
        }
      }
    };
    await Promise.all(Array.from({ length: 50 }, caller));
    expect(failures).toEqual([]);
    expect(answered).toBe(VOLUME);
    const result = await run.exit;
    expect(result.code, `${result.output}\n${result.errors}`).toBe(0);
    expect(result.stats, result.errors).toMatchObject({ created: VOLUME, successful: VOLUME, failed: 0, unexpected: 0 });
    expect(ua.sessions.size).toBe(0);
  });
});
