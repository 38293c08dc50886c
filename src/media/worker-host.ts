/**
 * Runs CPU-heavy media work (TTS synthesis, MP3 decoding) on a worker thread
 * with a request/response protocol. The worker's code is a JavaScript string
 * run with `eval: true` because the media sources ship as TypeScript in
 * development and JavaScript in production: a string works in both, and the
 * worker reaches its npm package through a resolved file URL.
 *
 * The worker starts lazily, is unref'd while idle (never keeps the process
 * alive), and is restarted on the next request if it crashes; a crash
 * rejects the requests in flight.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../shared/log.js';
import { silentLogger } from '../shared/log.js';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/**
 * The worker side's protocol, for the code strings: messages arrive as
 * `{id, ...request}` and the code must reply `{id, ok: true, result}` or
 * `{id, ok: false, error: string}`.
 */
export class WorkerHost<Req extends object, Res> {
  readonly #name: string;
  readonly #code: string;
  readonly #workerData: unknown;
  readonly #logger: Logger;
  readonly #pending = new Map<number, Pending>();
  #worker: Worker | undefined;
  #nextId = 1;
  #closed = false;

  constructor(name: string, code: string, workerData: unknown, logger: Logger = silentLogger) {
    this.#name = name;
    this.#code = code;
    this.#workerData = workerData;
    this.#logger = logger;
  }

  /** Send a request; resolves with the worker's result. Abort stops waiting (the worker finishes its job regardless). */
  request(message: Req, signal?: AbortSignal, transfer: ArrayBuffer[] = []): Promise<Res> {
    if (this.#closed) return Promise.reject(new Error(`${this.#name} worker is closed`));
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    const worker = this.#ensure();
    const id = this.#nextId++;
    return new Promise<Res>((resolve, reject) => {
      const onAbort = (): void => {
        this.#settle(id);
        reject(signal?.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, {
        resolve: (value) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(value as Res);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      });
      worker.ref();
      worker.postMessage({ id, ...message }, transfer);
    });
  }

  /** Terminate the worker and reject anything pending. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#failAll(new Error(`${this.#name} worker closed`));
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker) await worker.terminate();
  }

  #ensure(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(this.#code, { eval: true, workerData: this.#workerData });
    worker.unref();
    worker.on('message', (msg: { id: number; ok: boolean; result?: unknown; error?: string }) => {
      const pending = this.#settle(msg.id);
      if (!pending) return;
      if (msg.ok) pending.resolve(msg.result);
      else pending.reject(new Error(msg.error ?? `${this.#name} worker failed`));
    });
    worker.on('error', (error) => {
      this.#logger.error({ err: error, worker: this.#name }, 'media worker crashed');
      if (this.#worker === worker) this.#worker = undefined;
      this.#failAll(error);
    });
    worker.on('exit', () => {
      // After a crash 'error' already failed this worker's requests and a new
      // worker may be serving newer ones: only an unexpected exit of the current worker counts.
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      this.#failAll(new Error(`${this.#name} worker exited`));
    });
    this.#worker = worker;
    return worker;
  }

  #settle(id: number): Pending | undefined {
    const pending = this.#pending.get(id);
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#worker?.unref();
    return pending;
  }

  #failAll(error: Error): void {
    const all = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of all) p.reject(error);
  }
}
