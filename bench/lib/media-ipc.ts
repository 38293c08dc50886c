/**
 * Request/response over a child process's IPC channel, for the media
 * benchmarks: the orchestrator (a vitest bench file) drives a load generator
 * and a server (the media engine, or the raw UDP echo used as reference) that
 * each run in their own plain Node process, so none of them shares an event
 * loop, and `process.cpuUsage()` in each child is that child's CPU alone.
 */
import { fork, type ChildProcess } from 'node:child_process';

interface Request {
  id: number;
  cmd: string;
  arg: unknown;
}

interface Response {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

/** The orchestrator's handle on one child. */
export class BenchChild {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #next = 1;
  #exited = false;

  constructor(script: string, args: string[] = [], execArgv: string[] = []) {
    // Explicit execArgv: the vitest worker's own flags must not leak into the children.
    this.#child = fork(script, args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    this.#child.on('message', (msg: Response) => {
      const p = this.#pending.get(msg.id);
      if (!p) return;
      this.#pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(new Error(msg.error ?? 'child failed'));
    });
    this.#child.on('exit', (code, signal) => {
      this.#exited = true;
      for (const p of this.#pending.values()) p.reject(new Error(`bench child ${script} exited (${code ?? signal})`));
      this.#pending.clear();
    });
  }

  call<T>(cmd: string, arg: unknown = null): Promise<T> {
    if (this.#exited) return Promise.reject(new Error('bench child has exited'));
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#child.send({ id, cmd, arg } satisfies Request);
    });
  }

  /** Ask the child to exit; kill it if it does not within `ms`. */
  async close(ms = 5000): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.call('exit').catch(() => undefined);
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), ms);
    await exited;
    clearTimeout(timer);
  }
}

export type Handler = (arg: any) => unknown;

/** In a child: answer the orchestrator's requests with `handlers[cmd](arg)`. */
export function serve(handlers: Record<string, Handler>): void {
  const send = (r: Response): void => {
    process.send?.(r);
  };
  process.on('message', (msg: Request) => {
    if (msg.cmd === 'exit') {
      // Answer first, then leave: a bounded benchmark never leaves a process behind.
      send({ id: msg.id, ok: true, value: null });
      setTimeout(() => process.exit(0), 10);
      return;
    }
    const handler = handlers[msg.cmd];
    if (!handler) {
      send({ id: msg.id, ok: false, error: `unknown command ${msg.cmd}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(msg.arg))
      .then(
        (value) => send({ id: msg.id, ok: true, value }),
        (error: unknown) => send({ id: msg.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
      );
  });
  // The orchestrator going away (vitest killed) takes the child with it.
  process.on('disconnect', () => process.exit(0));
}

/** Median of a list (NaN when empty). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The `p`-quantile (0..1) of a list, nearest rank (NaN when empty). */
export function quantile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
}
