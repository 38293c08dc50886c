import type { Clock } from '../shared/clock.js';
import { silentLogger, type Logger } from '../shared/log.js';
import type { TimelineEntry, TimelineSink, TimelineType } from '../shared/timeline.js';
import type { TimelineRepo } from './repos/timeline-repo.js';

export interface TimelineWriterOptions {
  clock: Clock;
  logger?: Logger;
  /** A batch is written this long after its first entry at the latest. Default 250 ms. */
  flushIntervalMs?: number;
  /** Entries per INSERT; a full batch is written at once. Default 200. */
  batchSize?: number;
  /** Most entries held while the store does not take them; beyond, the oldest are dropped (counted, logged). Default 20 000. */
  maxQueued?: number;
  /** Entries older than this many days are purged. Default 30 (SPEC §14). */
  retentionDays?: number;
  /** How often the purge runs. Default one hour. */
  purgeIntervalMs?: number;
}

/** A failing store is reported at most this often. */
const warnEveryMs = 10_000;

/**
 * Writes call timelines off the call's path: `note` puts an entry in memory
 * and returns; entries go to the store in batches (one INSERT of up to
 * `batchSize`, at least every `flushIntervalMs`). A read flushes first
 * (`flush`), so it sees what just happened; `close` flushes what is left.
 * While the store refuses writes the entries wait, up to `maxQueued`; past
 * that the oldest are dropped, counted in `dropped` and logged at warn, so
 * memory stays bounded however long the store is down. Old entries are
 * purged on a timer (`retentionDays`).
 */
export class TimelineWriter implements TimelineSink {
  readonly #repo: TimelineRepo;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #intervalMs: number;
  readonly #batchSize: number;
  readonly #maxQueued: number;
  readonly #retentionDays: number;
  readonly #purgeIntervalMs: number;
  #queue: TimelineEntry[] = [];
  #lastSeq = 0;
  #timer: NodeJS.Timeout | undefined;
  #purgeTimer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;
  #lastWarnAt = 0;
  #closed = false;
  /** Entries dropped because the store did not take them in time (since start). */
  dropped = 0;

  constructor(repo: TimelineRepo, options: TimelineWriterOptions) {
    this.#repo = repo;
    this.#clock = options.clock;
    this.#log = options.logger ?? silentLogger;
    this.#intervalMs = options.flushIntervalMs ?? 250;
    this.#batchSize = options.batchSize ?? 200;
    this.#maxQueued = options.maxQueued ?? 20_000;
    this.#retentionDays = options.retentionDays ?? 30;
    this.#purgeIntervalMs = options.purgeIntervalMs ?? 3_600_000;
  }

  /** Entries waiting to be written. */
  get queued(): number {
    return this.#queue.length;
  }

  note(callId: string, type: TimelineType, data: Record<string, unknown>): void {
    // Microseconds since the epoch, strictly increasing: entries noted in the same millisecond keep their order.
    const seq = Math.max(this.#lastSeq + 1, Date.now() * 1000);
    this.#lastSeq = seq;
    this.#queue.push({ callId, seq, at: this.#clock.now().toISOString(), type, data });
    if (this.#queue.length > this.#maxQueued) this.#drop(this.#queue.length - this.#maxQueued);
    if (this.#closed) return;
    if (this.#queue.length >= this.#batchSize) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), this.#intervalMs).unref();
  }

  /**
   * Writes everything queued (and waits for a batch in flight): a read of
   * a timeline right after this sees every entry noted before. Never throws;
   * when the store fails the entries stay queued for the next try.
   */
  flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#writing ??= this.#drain().finally(() => {
      this.#writing = undefined;
    });
    return this.#writing;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#batchSize);
      try {
        await this.#repo.insertMany(batch.map((e) => ({ ...e, data: JSON.stringify(e.data) })));
      } catch (error) {
        // Back to the front, in order; tried again on the next interval (or the next read).
        this.#queue.unshift(...batch);
        if (this.#queue.length > this.#maxQueued) this.#drop(this.#queue.length - this.#maxQueued);
        this.#warn({ err: error, queued: this.#queue.length }, 'the call timeline could not be written; entries kept for the next try');
        if (!this.#closed) this.#timer ??= setTimeout(() => void this.flush(), this.#intervalMs).unref();
        return;
      }
    }
  }

  #drop(count: number): void {
    this.#queue.splice(0, count);
    this.dropped += count;
    this.#warn({ dropped: this.dropped, maxQueued: this.#maxQueued }, 'call timeline entries dropped: the store has not taken them for too long');
  }

  #warn(fields: Record<string, unknown>, message: string): void {
    const now = Date.now();
    if (now - this.#lastWarnAt < warnEveryMs) return;
    this.#lastWarnAt = now;
    this.#log.warn(fields, message);
  }

  /** Starts the retention purge: once now, then every `purgeIntervalMs`. */
  startPurging(): void {
    if (this.#closed || this.#purgeTimer) return;
    const run = (): void => {
      void this.purge().catch((error: unknown) => this.#log.warn({ err: error }, 'call timeline purge failed'));
    };
    this.#purgeTimer = setInterval(run, this.#purgeIntervalMs).unref();
    run();
  }

  /** Deletes entries older than the retention period; answers how many went. */
  async purge(): Promise<number> {
    const before = new Date(this.#clock.now().getTime() - this.#retentionDays * 86_400_000);
    const purged = await this.#repo.purgeBefore(before);
    if (purged > 0) this.#log.info({ purged, before: before.toISOString() }, 'old call timeline entries purged');
    return purged;
  }

  /** Stops the timers and writes what is queued. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#purgeTimer) clearInterval(this.#purgeTimer);
    this.#purgeTimer = undefined;
    await this.flush();
    if (this.#queue.length > 0) this.#log.warn({ lost: this.#queue.length }, 'call timeline entries not written at shutdown: the store refused them');
  }
}
