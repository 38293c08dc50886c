import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import type { Store } from '../store/store.js';

export interface CallLivenessOptions {
  /**
   * Between beats. Default 5 000 ms: a call a crash leaves behind is billed at
   * most this much short (SPEC §18 allows 60 s), and a node misses three
   * heartbeats before peers call it dead (15 s, SPEC §16).
   */
  intervalMs?: number;
  /** This node's heartbeat in the `nodes` table, written in the same tick (after the calls' beat). */
  node?: { beat(): Promise<void> };
  clock: Clock;
  logger: Logger;
}

/**
 * The heartbeat of this process's live calls: every `intervalMs` it writes
 * the time to `calls.alive_at` of every call the engine holds, in one
 * statement (per 1024 calls), never one write or one timer per call. If the
 * process dies without hanging up, the next start bills each answered call up
 * to its last beat (`recoverCalls`), and if the node dies a peer does so
 * (`reapDeadNodes`); the node's own heartbeat rides on the same tick. A beat that fails is logged and the next
 * one tries again; nothing is thrown into the event loop.
 */
export class CallLiveness {
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(
    private readonly store: Store,
    /** The ids of the calls live in this process (the engine's registry). */
    private readonly liveCallIds: () => Iterable<string>,
    private readonly options: CallLivenessOptions,
  ) {
    this.#intervalMs = options.intervalMs ?? 5_000;
  }

  start(): void {
    this.#schedule();
  }

  /** Writes one beat now; answers how many calls it covered (0 when it failed). */
  async beat(): Promise<number> {
    const ids = [...this.liveCallIds()];
    if (ids.length === 0) return 0;
    try {
      await this.store.calls.markAlive(ids, this.options.clock.now());
      return ids.length;
    } catch (error) {
      this.options.logger.warn({ err: error, calls: ids.length }, 'could not record that live calls are alive');
      return 0;
    }
  }

  /** Stops the beats (the one running finishes). Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** The next beat is timed from the end of the last, so a slow database never stacks them. */
  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#running = this.beat().then(() => this.options.node?.beat()).then(() => {
        this.#running = undefined;
        this.#schedule();
      });
    }, this.#intervalMs);
    this.#timer.unref();
  }
}
