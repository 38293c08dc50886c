/**
 * Interop with SIPp (Debian package sip-tester): its built-in uac and uas
 * scenarios against our user agent, over UDP and TCP, and a REGISTER with
 * digest authentication from an XML scenario.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
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

function sipp(args: string[], calls = 1): SippRun {
  const child = spawn('sipp', [...args, '-nostdin', '-timeout', '20s', '-timeout_error', '-m', String(calls), '-i', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return { exit: new Promise((resolve) => child.on('exit', (code) => resolve({ code, output: output.slice(-3000) }))) };
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
    const deadline = Date.now() + 5000;
    while (!(await portTaken(port, protocol))) {
      if (Date.now() > deadline) throw new Error('sipp did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
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
});
