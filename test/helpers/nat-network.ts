import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { publicTestHostUnavailable } from './public-test-host.js';

/**
 * A small Internet in network namespaces, for a platform behind NAT:
 *
 * ```
 *  test (this namespace) 198.18.n.1 ──veth── 198.18.n.2  platform ns  10.77.0.2 ──veth── 10.77.0.1  router ns  198.51.100.1 ──veth── 198.51.100.2  carrier ns
 *   (HTTP API, webhooks)                                  default via 10.77.0.1         MASQUERADE out, DNAT SIP + RTP in
 * ```
 *
 * The router masquerades what the platform sends out and forwards (DNAT)
 * the SIP port and the RTP range of its outside address to the platform, as
 * a cloud VM's or an office's NAT does; it does not hairpin. The carrier
 * sees only the router's outside address. The test reaches the platform's
 * HTTP API (and the platform the test's webhook server) over a veth of its
 * own, with addresses from 198.18.0.0/15 (RFC 2544 benchmarking) in a /30
 * no interface here uses yet. `close()` kills what was spawned in the
 * namespaces and removes them (their links go with them).
 */
export interface NatNetwork {
  readonly namespaces: { platform: string; router: string; carrier: string };
  /** The platform's private address (its SIP/RTP next hop is the router). */
  readonly platform: string;
  /** The router's outside address: the platform's `--external-address`. */
  readonly external: string;
  readonly carrier: string;
  /** This namespace's end of the test veth (webhook servers listen here). */
  readonly testSide: string;
  /** The platform's end of the test veth (its HTTP API is reached here). */
  readonly platformFromTest: string;
  /** Runs a command in a namespace to completion; answers its stdout. */
  exec(ns: string, command: string, args: string[]): string;
  /** Starts a long-running command in a namespace; `close()` kills it if still running. */
  spawn(ns: string, command: string, args: string[], options?: SpawnOptions): ChildProcess;
  /** Counts packets arriving in `ns` that match `match` (iptables syntax), under `name`. */
  countPackets(ns: string, name: string, match: string[]): void;
  packets(ns: string, name: string): number;
  close(): Promise<void>;
}

/** Why the NAT network cannot be built here (not root, no `ip netns`, no iptables), or undefined. */
export function natNetworkUnavailable(): string | undefined {
  const noNetns = publicTestHostUnavailable();
  if (noNetns) return noNetns;
  try {
    execFileSync('iptables', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'needs iptables (apt-get install iptables) for the router namespace';
  }
}

function freeTestSubnet(addresses: string): number {
  const used = new Set([...addresses.matchAll(/inet 198\.18\.(\d+)\.(\d+)\//g)].map((m) => Number(m[1]) * 256 + (Number(m[2]) & ~3)));
  for (let i = 0; i < 1000; i++) {
    const base = 4 * ((process.pid + i) % 16_000) + 4; // 198.18.0.4 … 198.18.250.x
    if (!used.has(base)) return base;
  }
  throw new Error('no free /30 in 198.18.0.0/16');
}

export async function startNatNetwork(options: { sipPort: number; rtpPorts: { min: number; max: number } }): Promise<NatNetwork> {
  const tag = String(process.pid % 10_000_000);
  const ns = { platform: `sknat-p-${tag}`, router: `sknat-r-${tag}`, carrier: `sknat-c-${tag}` };
  const links = { test: `skn${tag}t`, testPeer: `skn${tag}u`, lan: `skn${tag}l`, lanPeer: `skn${tag}m`, wan: `skn${tag}w`, wanPeer: `skn${tag}x` };
  const run = (command: string, args: string[]): string => execFileSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString('utf8');
  const ip = (...args: string[]): string => run('ip', args);
  const inNs = (name: string, command: string, args: string[]): string => run('ip', ['netns', 'exec', name, command, ...args]);
  const children = new Set<ChildProcess>();
  const removeAll = (): void => {
    try { ip('link', 'del', links.test); } catch { /* gone with the namespace, or never made */ }
    for (const name of Object.values(ns)) {
      try { ip('netns', 'del', name); } catch { /* never made */ }
    }
  };
  removeAll(); // a run killed before its afterAll may have left them

  const base = freeTestSubnet(ip('-4', '-o', 'addr', 'show'));
  const testSide = `198.18.${Math.floor(base / 256)}.${(base % 256) + 1}`;
  const platformFromTest = `198.18.${Math.floor(base / 256)}.${(base % 256) + 2}`;
  const addresses = { platform: '10.77.0.2', routerInside: '10.77.0.1', external: '198.51.100.1', carrier: '198.51.100.2' };
  try {
    for (const name of Object.values(ns)) {
      ip('netns', 'add', name);
      inNs(name, 'ip', ['link', 'set', 'lo', 'up']);
    }
    const pair = (a: string, aNs: string | undefined, aAddr: string, b: string, bNs: string, bAddr: string, prefix: number): void => {
      ip('link', 'add', a, 'type', 'veth', 'peer', 'name', b);
      if (aNs) ip('link', 'set', a, 'netns', aNs);
      ip('link', 'set', b, 'netns', bNs);
      const onA = (args: string[]): string => (aNs ? inNs(aNs, 'ip', args) : ip(...args));
      onA(['addr', 'add', `${aAddr}/${prefix}`, 'dev', a]);
      onA(['link', 'set', a, 'up']);
      inNs(bNs, 'ip', ['addr', 'add', `${bAddr}/${prefix}`, 'dev', b]);
      inNs(bNs, 'ip', ['link', 'set', b, 'up']);
    };
    pair(links.test, undefined, testSide, links.testPeer, ns.platform, platformFromTest, 30);
    pair(links.lan, ns.router, addresses.routerInside, links.lanPeer, ns.platform, addresses.platform, 24);
    pair(links.wan, ns.router, addresses.external, links.wanPeer, ns.carrier, addresses.carrier, 24);
    inNs(ns.platform, 'ip', ['route', 'add', 'default', 'via', addresses.routerInside]);
    inNs(ns.router, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    // Out: the platform's packets leave with the router's address. In: SIP and the RTP range go to the platform.
    const nat = (args: string[]): string => inNs(ns.router, 'iptables', ['-t', 'nat', ...args]);
    nat(['-A', 'POSTROUTING', '-o', links.wan, '-j', 'MASQUERADE']);
    for (const proto of ['udp', 'tcp']) {
      nat(['-A', 'PREROUTING', '-i', links.wan, '-p', proto, '--dport', String(options.sipPort), '-j', 'DNAT', '--to-destination', `${addresses.platform}:${options.sipPort}`]);
    }
    nat(['-A', 'PREROUTING', '-i', links.wan, '-p', 'udp', '--dport', `${options.rtpPorts.min}:${options.rtpPorts.max}`, '-j', 'DNAT', '--to-destination', addresses.platform]);
  } catch (error) {
    removeAll();
    throw error;
  }

  return {
    namespaces: ns, platform: addresses.platform, external: addresses.external, carrier: addresses.carrier, testSide, platformFromTest,
    exec: inNs,
    spawn: (name, command, args, spawnOptions = {}) => {
      // `ip netns exec` execs the command in the namespace, so the child's pid is the command's.
      const child = spawn('ip', ['netns', 'exec', name, command, ...args], spawnOptions);
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    countPackets: (name, counter, match) => {
      inNs(name, 'iptables', ['-A', 'INPUT', ...match, '-m', 'comment', '--comment', counter]);
    },
    packets: (name, counter) => {
      const line = inNs(name, 'iptables', ['-L', 'INPUT', '-v', '-x', '-n']).split('\n').find((l) => l.includes(`/* ${counter} */`));
      if (!line) throw new Error(`no packet counter ${counter} in ${name}`);
      return Number(line.trim().split(/\s+/)[0]);
    },
    close: async () => {
      await Promise.all([...children].map((child) => new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      })));
      removeAll();
    },
  };
}
