/**
 * Third-party SIP peers for the interop tests, run as their users run them:
 * SIPp with a scenario, Kamailio with a config file (loopback only).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Runs SIPp to the end (40 s at most) and answers its exit code and the tail of its output. */
export function sipp(args: string[], options: { cwd?: string } = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('sipp', [...args, '-nostdin', '-timeout', '40s', '-timeout_error'], { stdio: ['ignore', 'pipe', 'pipe'], ...(options.cwd ? { cwd: options.cwd } : {}) });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code) => resolve({ code, output: output.slice(-3000) }));
  });
}

/** Kills a softphone's process (SIGKILL: none of them needs a clean exit here) and waits until it is gone. */
export async function killPeer(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

export interface RunningKamailio {
  /** Every line Kamailio logged so far (stderr, `-E`). */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts Kamailio in the foreground on `cfgTemplate` with `@NAME@` placeholders
 * filled from `values` (and `args` added, e.g. `-A NAME=value` defines), and
 * waits until it listens.
 */
export async function startKamailio(cfgTemplate: string, values: Record<string, string | number>, args: string[] = []): Promise<RunningKamailio> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sautikit-kamailio-'));
  let cfg = readFileSync(cfgTemplate, 'utf8');
  for (const [name, value] of Object.entries(values)) cfg = cfg.replaceAll(`@${name}@`, String(value));
  const file = path.join(dir, 'kamailio.cfg');
  writeFileSync(file, cfg);
  const child: ChildProcess = spawn('kamailio', ['-f', file, '-DD', '-E', '-Y', dir, '-m', '32', '-M', '8', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 15_000;
  while (!/SO_RCVBUF is finally/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`kamailio did not start:\n${output.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    log: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
