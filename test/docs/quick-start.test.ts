import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startCli, type RunningServer } from '../helpers/cli-process.js';
import { until } from '../helpers/until.js';

/**
 * A newcomer follows docs/quick-start.md to the letter: the blocks marked
 * `<!-- quick-start: KIND -->` run in order, as written, changing only what a
 * reader on a shared machine changes (the ports and the data folder), and
 * what they print must match the output block shown after them.
 */
interface Block { kind: 'start' | 'run' | 'app' | 'output'; code: string; line: number }

const repoRoot = path.resolve('.');
const page = readFileSync(path.join(repoRoot, 'docs/quick-start.md'), 'utf8');

function markedBlocks(markdown: string): Block[] {
  return [...markdown.matchAll(/<!-- quick-start: (\w+) -->\n```\w*\n([\s\S]*?)```/g)].map((m) => ({
    kind: m[1] as Block['kind'], code: m[2]!, line: markdown.slice(0, m.index).split('\n').length + 1,
  }));
}

/** The steps: each command block with the output block that follows it, if any. */
function steps(blocks: Block[]): Array<{ block: Block; output?: Block }> {
  const out: Array<{ block: Block; output?: Block }> = [];
  for (const block of blocks) {
    if (block.kind !== 'output') out.push({ block });
    else if (out.length && !out[out.length - 1]!.output) out[out.length - 1]!.output = block;
    else throw new Error(`docs/quick-start.md:${block.line}: an output block with no command before it`);
  }
  return out;
}

/**
 * Each expected line must appear in `actual`, in order, `…` standing for any text within a line.
 * Answers the first expected line that is missing (with what was there), or undefined.
 */
function missingLine(expected: string, actual: string): string | undefined {
  const lines = actual.split('\n');
  let at = 0;
  for (const want of expected.split('\n').filter((l) => l.trim() !== '')) {
    const pattern = new RegExp(`^\\s*${want.trim().split('…').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*?')}\\s*$`);
    const found = lines.findIndex((line, i) => i >= at && pattern.test(line));
    if (found === -1) return want;
    at = found + 1;
  }
  return undefined;
}

/** A terminal: one bash whose state (exported variables) carries from block to block. */
class Terminal {
  readonly #child: ChildProcess;
  #out = '';
  #count = 0;

  constructor(env: NodeJS.ProcessEnv) {
    this.#child = spawn('bash', ['--noprofile', '--norc'], { cwd: repoRoot, env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child.stdout!.on('data', (d: Buffer) => { this.#out += d.toString(); });
    this.#child.stderr!.on('data', (d: Buffer) => { this.#out += d.toString(); });
  }

  /** Types `code` and answers what it printed and its exit status, once it is done. */
  async run(code: string, timeoutMs: number): Promise<{ output: string; status: number }> {
    const marker = `__quick_start_done_${(this.#count += 1)}__`;
    const from = this.#out.length;
    this.#child.stdin!.write(`${code}\nprintf '\\n${marker} %s\\n' "$?"\n`);
    const done = await until(async () => new RegExp(`${marker} (\\d+)\\n`).exec(this.#out.slice(from)) ?? undefined, timeoutMs, 50);
    return { output: this.#out.slice(from, from + done.index), status: Number(done[1]) };
  }

  close(): void {
    this.#child.stdin!.end();
    if (this.#child.exitCode === null) this.#child.kill('SIGKILL');
  }
}

/** The environment of a fresh terminal: none of the test run's own Sautikit settings. */
function freshEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('SAUTIKIT_') && key !== 'NODE_OPTIONS') env[key] = value;
  return env;
}

const hasJq = spawnSync('jq', ['--version']).status === 0;
if (!hasJq && process.env['CI']) throw new Error('jq is needed in CI: docs/quick-start.md pipes GET /v1/calls into it');

/**
 * `npm start` as the reader types it (plus the ports and data folder of a shared machine), in
 * its own process group; answers what it printed once /healthz answers, and stops it.
 */
async function npmStartOnce(dataDir: string): Promise<{ output: string; ms: number }> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn('npm', ['start', '--', '--data', dataDir, '--http-port', String(port), '--sip-port', '0'], {
    cwd: repoRoot, env: freshEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await until(async () => {
      if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${output}`);
      try {
        return (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200;
      } catch {
        return false;
      }
    }, 180_000, 100);
    return { output, ms: performance.now() - started };
  } finally {
    try { process.kill(-child.pid!, 'SIGTERM'); } catch { /* already gone */ }
    await exited;
  }
}

describe('docs/quick-start.md, followed by a newcomer', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'newcomer-'));
  const dataDir = path.join(dir, '.sautikit');
  const plan = steps(markedBlocks(page));
  let server: RunningServer | undefined;
  let app: ChildProcess | undefined;
  let appOutput = '';
  let terminal: Terminal | undefined;
  let appPort = 0;

  /** What the reader changes: the API's port, the app's port, the data folder. */
  const adapt = (text: string): string => text
    .replaceAll('http://127.0.0.1:8080', server!.baseUrl)
    .replace(/(?<=[:=])3000\b/g, String(appPort))
    .replaceAll('./.sautikit/', `${dataDir}/`);

  beforeAll(async () => {
    appPort = await freePort();
  });
  afterAll(async () => {
    terminal?.close();
    // The app runs in its own process group (bash and node): end that group only.
    if (app?.pid && app.exitCode === null) {
      try { process.kill(-app.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('marks its steps in order: start, the terminal commands, the app, and an output after each', () => {
    expect(plan.map((s) => s.block.kind)).toEqual(['start', 'run', 'run', 'run', 'app', 'run', 'run', 'run', 'run']);
    expect(plan.every((s) => s.output), 'every step shows what it prints').toBe(true);
  });

  it('a second `npm start` with nothing changed does not build again', async () => {
    // The first may build (sources newer than dist/); the second finds dist/ up to date.
    await npmStartOnce(path.join(dir, 'npm-start'));
    const built = statSync(path.join(repoRoot, 'dist/cli/bin.js')).mtimeMs;
    const second = await npmStartOnce(path.join(dir, 'npm-start'));
    console.log(`second npm start: healthy after ${Math.round(second.ms)} ms`);
    expect(second.output).not.toMatch(/building dist/);
    expect(statSync(path.join(repoRoot, 'dist/cli/bin.js')).mtimeMs, 'dist/ was not rewritten').toBe(built);
  }, 400_000);

  it('reaches a sandbox call through the IVR example, seeing what the page shows at every step', async () => {
    // 1. `npm install && npm start`: npm start is `sautikit start` on the built dist/ (the suite builds it first).
    const [start, ...rest] = plan;
    expect(start!.block.code.trim()).toBe('npm install && npm start');
    const scripts = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).scripts;
    expect(scripts).toMatchObject({ prepare: 'node tools/build.js --if-stale', prestart: 'node tools/build.js --if-stale', start: 'node dist/cli/bin.js start' });
    server = await startCli(['--data', dataDir]);
    expect(missingLine(start!.output!.code, server.output()), `docs/quick-start.md:${start!.output!.line} (start-up output)\n${server.output()}`).toBeUndefined();

    terminal = new Terminal(freshEnv());
    for (const { block, output } of rest) {
      const where = `docs/quick-start.md:${block.line}`;
      if (block.kind === 'app') {
        // Its own terminal, left running: bash and the app in a process group of their own.
        app = spawn('bash', ['-c', adapt(block.code)], { cwd: repoRoot, env: freshEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
        app.stdout!.on('data', (d: Buffer) => { appOutput += d.toString(); });
        app.stderr!.on('data', (d: Buffer) => { appOutput += d.toString(); });
        await until(async () => {
          if (app!.exitCode !== null) throw new Error(`${where}: the app exited with ${app!.exitCode}:\n${appOutput}`);
          return missingLine(adapt(output!.code), appOutput) === undefined;
        }, 180_000, 200);
        continue;
      }
      if (!hasJq && /\bjq\b/.test(block.code)) continue;
      const { output: printed, status } = await terminal.run(adapt(block.code), 90_000);
      expect(status, `${where} exited with ${status}:\n${printed}`).toBe(0);
      expect(missingLine(adapt(output!.code), printed), `${where} printed:\n${printed}`).toBeUndefined();
    }

    // Behind the output: the IVR answered, took 2 then 1, and dialled billing; no webhook or action failed.
    const key = JSON.parse(readFileSync(path.join(dataDir, 'credentials.json'), 'utf8')).api_key as string;
    const get = async (p: string): Promise<any> => (await fetch(`${server!.baseUrl}${p}`, { headers: { Authorization: `Bearer ${key}` } })).json();
    const [leg, inbound] = await get('/v1/calls?limit=2');
    expect(inbound).toMatchObject({ direction: 'inbound', to: '+254700000001', status: 'completed' });
    expect(leg).toMatchObject({ direction: 'outbound', to: '+254720000002', parent_call_id: inbound.id, status: 'completed', hangup_by: 'callee' });
    expect((await get(`/v1/calls/${inbound.id}`)).errors).toEqual([]);
  }, 300_000);
});
