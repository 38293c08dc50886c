import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What the host answers for `"<METHOD> <path>"` (or just `"<path>"`, any method). */
export interface PublicRoute {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** A customer's server at an address the fetch policy counts as public, on this machine. */
export interface PublicTestHost {
  /** `http://203.0.113.x:8080` */
  url: string;
  /** `"<METHOD> <path>"` of every request the host received, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

/** Why `startPublicTestHost` cannot run here, or undefined when it can (root with `ip netns`). */
export function publicTestHostUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'needs root for `ip netns` (a network namespace with a veth pair)';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return '`ip netns` is not usable here';
  }
}

const SERVER = `
const http = require('node:http');
const [address, routes] = [process.argv[2], JSON.parse(process.argv[3])];
http.createServer((req, res) => {
  const path = req.url.split('?')[0];
  console.log(JSON.stringify(req.method + ' ' + path));
  const route = routes[req.method + ' ' + path] ?? routes[path] ?? { status: 404 };
  req.resume();
  res.writeHead(route.status, route.headers ?? {});
  res.end(route.body ?? '');
}).listen(8080, address, () => console.log('"ready"'));
`;

/** A /30 of 203.0.113.0/24 no interface here uses (another test run's), tried from one picked by process id. */
function freeSubnet(addresses: string): number {
  const used = new Set([...addresses.matchAll(/inet 203\.0\.113\.(\d+)\//g)].map((m) => Number(m[1]) & ~3));
  for (let i = 0; i < 62; i++) {
    const base = 4 * ((process.pid + i) % 62) + 4; // 203.0.113.4 … 203.0.113.248
    if (!used.has(base)) return base;
  }
  throw new Error('no free /30 in 203.0.113.0/24');
}

/**
 * Starts a tiny HTTP server inside a network namespace of its own, reached
 * from this one over a veth pair whose two ends have addresses from
 * TEST-NET-3 (203.0.113.0/24): public to the fetch policy, yet no packet
 * leaves the machine (nothing routes there but the veth). The /30 is one no
 * interface uses yet, so parallel test runs on one machine do not collide.
 * `close()` kills the server and removes the namespace and the link.
 */
export async function startPublicTestHost(routes: Record<string, PublicRoute>): Promise<PublicTestHost> {
  const tag = String(process.pid % 10_000_000);
  const ns = `skfp-${tag}`;
  const outer = `skfp${tag}a`;
  const inner = `skfp${tag}b`;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString('utf8');
  const cleanup = () => {
    try { ip('link', 'del', outer); } catch { /* gone with the namespace, or never made */ }
    try { ip('netns', 'del', ns); } catch { /* never made */ }
  };
  cleanup(); // a run killed before its afterAll may have left them
  const base = freeSubnet(ip('-4', '-o', 'addr', 'show'));
  const [hostSide, nsSide] = [`203.0.113.${base + 1}`, `203.0.113.${base + 2}`];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sautikit-public-host-'));
  let child: ChildProcess | undefined;
  try {
    ip('netns', 'add', ns);
    ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', inner);
    ip('link', 'set', inner, 'netns', ns);
    ip('addr', 'add', `${hostSide}/30`, 'dev', outer);
    ip('link', 'set', outer, 'up');
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${nsSide}/30`, 'dev', inner);
    ip('netns', 'exec', ns, 'ip', 'link', 'set', inner, 'up');
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    const script = path.join(dir, 'server.cjs');
    writeFileSync(script, SERVER);
    // `ip netns exec` execs node in the namespace, so this pid is the server's.
    child = spawn('ip', ['netns', 'exec', ns, process.execPath, script, nsSide, JSON.stringify(routes)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const requests: string[] = [];
    await new Promise<void>((resolve, reject) => {
      let buffered = '';
      child!.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
          const line = JSON.parse(buffered.slice(0, nl)) as string;
          buffered = buffered.slice(nl + 1);
          if (line === 'ready') resolve();
          else requests.push(line);
        }
      });
      child!.once('exit', (code) => reject(new Error(`the public test host exited (${code})`)));
      setTimeout(() => reject(new Error('the public test host did not start within 10 s')), 10_000).unref();
    });
    const running = child;
    return {
      url: `http://${nsSide}:8080`,
      requests,
      close: async () => {
        if (running.exitCode === null && running.signalCode === null) {
          const exited = new Promise((resolve) => running.once('exit', resolve));
          running.kill();
          await exited;
        }
        cleanup();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    child?.kill();
    cleanup();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
