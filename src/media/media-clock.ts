/**
 * The one 20 ms clock of the media engine. Every endpoint, bridge and mixer
 * hangs off it in three phases per tick, so within one tick all legs first
 * pull their inbound frame, then mixers/bridges combine them, then all legs
 * send. A self-correcting setTimeout chain (targets computed from the start
 * time, not from the last wake-up) keeps the average period exact; after a
 * stall longer than `maxCatchUp` ticks the schedule is re-based instead of
 * bursting. The clock runs only while something is subscribed.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../shared/log.js';
import { silentLogger } from '../shared/log.js';

export type TickPhase = 'receive' | 'mix' | 'send';
export type TickHandler = (tick: number) => void;

/** Options for `MediaClock`. */
export interface MediaClockOptions {
  /** Tick period in ms. Default 20. */
  intervalMs?: number;
  /** Ticks run back to back after a stall before re-basing. Default 5. */
  maxCatchUp?: number;
  /** When false, ticks only run through `runTick()` (tests). Default true. */
  autoStart?: boolean;
  logger?: Logger;
}

const PHASES: readonly TickPhase[] = ['receive', 'mix', 'send'];
/** A tick starting later than this after its due time counts as late. */
const LATE_MS = 5;

export class MediaClock {
  readonly intervalMs: number;
  readonly #maxCatchUp: number;
  readonly #autoStart: boolean;
  readonly #logger: Logger;
  // Copy-on-write handler lists: iterating never allocates and a handler may unsubscribe mid-tick.
  #handlers: Record<TickPhase, readonly TickHandler[]> = { receive: [], mix: [], send: [] };
  #timer: NodeJS.Timeout | undefined;
  #startedAt = 0;
  #tick = 0;
  #scheduled = 0;
  /** Ticks skipped after stalls, for diagnostics. */
  skipped = 0;
  /**
   * Telemetry for operators, to see starvation before callers hear it:
   * ticks run, ticks that started more than 5 ms after their due time,
   * ticks run back to back to catch up, re-bases after a stall (each also
   * counted in `skipped`), and the longest a tick's handlers took (ms).
   */
  readonly stats = { ticks: 0, late: 0, catchUp: 0, rebases: 0, maxTickMs: 0 };

  constructor(options: MediaClockOptions = {}) {
    this.intervalMs = options.intervalMs ?? 20;
    this.#maxCatchUp = options.maxCatchUp ?? 5;
    this.#autoStart = options.autoStart ?? true;
    this.#logger = options.logger ?? silentLogger;
  }

  /** Ticks run so far. */
  get tick(): number {
    return this.#tick;
  }

  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Subscribe for a phase of every tick. Returns the unsubscribe function. */
  add(phase: TickPhase, handler: TickHandler): () => void {
    this.#handlers = { ...this.#handlers, [phase]: [...this.#handlers[phase], handler] };
    if (this.#autoStart && !this.#timer) this.#start();
    return () => {
      const list = this.#handlers[phase];
      if (!list.includes(handler)) return;
      this.#handlers = { ...this.#handlers, [phase]: list.filter((h) => h !== handler) };
      if (this.#count() === 0) this.stop();
    };
  }

  /** Run one tick now, all phases in order. */
  runTick(): void {
    const tick = this.#tick++;
    this.stats.ticks++;
    const handlers = this.#handlers;
    for (let p = 0; p < PHASES.length; p++) {
      const phase = PHASES[p] ?? 'receive';
      const list = handlers[phase];
      for (let i = 0; i < list.length; i++) {
        try {
          list[i]?.(tick);
        } catch (error) {
          // One broken leg must not silence every other call.
          this.#logger.error({ err: error, phase }, 'media tick handler threw');
        }
      }
    }
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #count(): number {
    return this.#handlers.receive.length + this.#handlers.mix.length + this.#handlers.send.length;
  }

  #start(): void {
    this.#startedAt = performance.now();
    this.#scheduled = 0;
    this.#schedule();
  }

  #schedule(): void {
    const target = this.#startedAt + (this.#scheduled + 1) * this.intervalMs;
    const delay = Math.max(0, target - performance.now());
    this.#timer = setTimeout(this.#onTimer, delay);
  }

  readonly #onTimer = (): void => {
    const now = performance.now();
    let due = Math.floor((now - this.#startedAt) / this.intervalMs) - this.#scheduled;
    if (now - (this.#startedAt + (this.#scheduled + 1) * this.intervalMs) > LATE_MS) this.stats.late++;
    if (due > this.#maxCatchUp) {
      this.stats.rebases++;
      this.skipped += due - 1;
      this.#logger.warn({ behindMs: due * this.intervalMs }, 'media clock stalled; re-basing');
      this.#scheduled += due - 1;
      due = 1;
    }
    if (due > 1) this.stats.catchUp += due - 1;
    for (let i = 0; i < Math.max(1, due); i++) {
      this.#scheduled++;
      const started = performance.now();
      this.runTick();
      const took = performance.now() - started;
      if (took > this.stats.maxTickMs) this.stats.maxTickMs = took;
      if (!this.#timer) return; // stopped by a handler
    }
    if (this.#timer) this.#schedule();
  };
}
