/**
 * The whole platform in its own plain-Node process, for the full-path
 * calls-per-second bench: `src/cli/bin.ts` is compiled with the repo's
 * TypeScript into a temporary directory (bench/lib/media-build.ts) and run as
 * `node bin.js start …`, exactly as an operator starts it. Its own process
 * means its own event loop: SIPp, the webhook app and the harness cannot
 * slow it down, and /proc/<pid>/stat gives its CPU alone.
 *
 * Also the tiny webhook app the claimed numbers route to, and the few API
 * calls the bench needs (trunk, numbers, CDR count).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { buildChildren, PLATFORM_ENTRIES, type BenchBuild } from './media-build.js';

/** Linux reports /proc CPU times in clock ticks; 100 on every kernel this runs on. */
const CLK_TCK = 100;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A port free for both UDP and TCP right now (SIPp has no `-p 0`, and SIP listens on both). */
export async function freePort(): Promise<number> {
  for (;;) {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const port = socket.address().port;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    // Stay clear of the platform's RTP range, where a media port could take it first.
    if (port >= 20000 && port <= 29999) continue;
    const server = createServer();
    const tcpFree = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (tcpFree) return port;
  }
}

/** CPU seconds (user + system) a live process has used so far. */
export function procCpuSeconds(pid: number): number {
  // Fields after the command name (which may contain spaces) start at ")".
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Resident set size of a live process, bytes. */
export function procRssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

export interface PlatformProcess {
  pid: number;
  apiUrl: string;
  sip: { host: string; port: number };
  adminKey: string;
  apiKey: string;
  /** What the platform wrote to stderr (log level silent: crashes only). */
  stderr(): string;
  /** JSON API call with the workspace key unless `key` says otherwise. */
  api<T = unknown>(method: string, url: string, body?: unknown, key?: string): Promise<{ status: number; json: T; link: string | null }>;
  close(): Promise<void>;
}

const key = (): string => `bench_${randomBytes(16).toString('hex')}`;

/**
 * Compiles and starts the platform: SQLite in a temp data folder, sandbox
 * off, log level silent, HTTP and SIP on free loopback ports. The keys are
 * fixed on first start through SAUTIKIT_ADMIN_KEY / SAUTIKIT_API_KEY. The
 * wallet gets 15,000 KES: ample for every call here, and below the balance
 * at which src/engine/spend-guard.ts asks setTimeout for more than 2^31-1 ms
 * (Node then fires after 1 ms and cuts every call as insufficient_funds; see
 * bench/README.md, "Calls per second, full path").
 */
export async function startPlatformProcess(initialCredit = '15000.00', rtpPorts = '20000-29999', nodeArgs: string[] = []): Promise<PlatformProcess> {
  const build: BenchBuild = await buildChildren(PLATFORM_ENTRIES);
  const bin = build.js('src/cli/bin.ts');
  // The compiled tree is outside the repo, so it needs its own marker to load as ESM.
  writeFileSync(path.join(path.dirname(build.js('x.ts')), 'package.json'), '{"type":"module"}\n');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sautikit-full-path-'));
  const [httpPort, sipPort] = [await freePort(), await freePort()];
  const adminKey = key();
  const apiKey = key();
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, bin, 'start',
    '--data', dataDir, '--host', '127.0.0.1', '--http-port', String(httpPort), '--sip-port', String(sipPort), '--rtp-ports', rtpPorts,
    '--sandbox', 'false', '--log-level', 'silent', '--initial-credit', initialCredit, '--shutdown-grace', '1',
  ], {
    // Only the variables it needs: a SAUTIKIT_* or DATABASE_URL in the caller's environment must not leak in.
    env: {
      PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(), SAUTIKIT_ADMIN_KEY: adminKey, SAUTIKIT_API_KEY: apiKey,
      // BENCH_MEDIA_WORKERS=auto (or N) benches the platform with call media on worker threads; off by default, as in `start`.
      SAUTIKIT_MEDIA_WORKERS: process.env.BENCH_MEDIA_WORKERS ?? '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
  const cleanup = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const exited = await Promise.race([new Promise<boolean>((resolve) => child.once('exit', () => resolve(true))), sleep(5000).then(() => false)]);
      if (!exited) child.kill('SIGKILL');
    }
    rmSync(dataDir, { recursive: true, force: true });
    await build.remove();
  };
  try {
    const deadline = Date.now() + 30_000;
    while (!stdout.includes('Sautikit is running')) {
      if (child.exitCode !== null || stdout.includes('could not start')) throw new Error(`platform did not start: ${stdout}${stderr}`);
      if (Date.now() > deadline) throw new Error(`platform did not start in 30 s: ${stdout}${stderr}`);
      await sleep(100);
    }
  } catch (error) {
    await cleanup();
    throw error;
  }
  const apiUrl = `http://127.0.0.1:${httpPort}`;
  return {
    pid: child.pid!,
    apiUrl,
    sip: { host: '127.0.0.1', port: sipPort },
    adminKey,
    apiKey,
    stderr: () => stderr,
    api: async <T>(method: string, url: string, body?: unknown, useKey = apiKey) => {
      const response = await fetch(url.startsWith('http') ? url : `${apiUrl}${url}`, {
        method,
        headers: { authorization: `Bearer ${useKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, json: (text ? JSON.parse(text) : null) as T, link: response.headers.get('link') };
    },
    close: cleanup,
  };
}

export interface WebhookApp {
  url: string;
  /** Requests answered so far. */
  requests(): number;
  close(): Promise<void>;
}

/** The routing_url of every claimed number: say one sentence, then hang up. */
export async function startWebhookApp(): Promise<WebhookApp> {
  const body = JSON.stringify([{ say: { text: 'Thank you for calling.' } }, { hangup: {} }]);
  let count = 0;
  const server: Server = createHttpServer((req, res) => {
    count++;
    // Drain the form/JSON body the platform posts, then answer; keep-alive keeps it to one socket or a few.
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/answer`,
    requests: () => count,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
