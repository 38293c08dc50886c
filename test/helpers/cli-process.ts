import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import path from 'node:path';

export const binPath = path.resolve('dist/cli/bin.js');

/** A TCP port that is free right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** Whether `port` can be bound on 127.0.0.1 right now, over TCP or UDP. */
async function canBind(port: number, protocol: 'tcp' | 'udp'): Promise<boolean> {
  return new Promise((resolve) => {
    if (protocol === 'udp') {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
      return;
    }
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A port for baresip's `sip_listen`: baresip binds it for UDP and TCP and the
 * next one for TLS, so all three must be free (a free port alone let TLS fail
 * with "Address already in use" when its neighbour was taken).
 */
export async function freeSipListenPort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await freePort();
    if (port < 65535 && (await canBind(port, 'udp')) && (await canBind(port + 1, 'tcp'))) return port;
  }
  throw new Error('no port P with P (UDP, TCP) and P+1 (TCP) free on 127.0.0.1');
}

export interface RunningServer {
  child: ChildProcess;
  baseUrl: string;
  output: () => string;
  /** Sends SIGTERM and answers the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `sautikit start` as a user would and waits until /healthz answers 200. */
export async function startCli(args: string[], env: Record<string, string> = {}): Promise<RunningServer> {
  const port = await freePort();
  // Tests share the machine: unless told otherwise, SIP takes a free port.
  const sip = args.includes('--sip-port') ? [] : ['--sip-port', '0'];
  const child = spawn(process.execPath, [binPath, 'start', '--http-port', String(port), '--log-level', 'warn', ...sip, ...args], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // A server bound to another loopback address (--host 127.0.0.2: several nodes on one machine) is reached there.
  const host = args.includes('--host') ? args[args.indexOf('--host') + 1]! : '127.0.0.1';
  const baseUrl = `http://${host}:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sautikit exited with ${child.exitCode}:\n${out}`);
    try {
      const res = await fetch(`${baseUrl}/healthz`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`sautikit did not become healthy:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child, baseUrl, output: () => out,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs the CLI to completion and answers its exit code and output. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [binPath, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
