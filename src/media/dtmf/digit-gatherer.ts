/**
 * The keys of one `getDigits` (Twilio <Gather> semantics, SPEC §6), gathered
 * from the call's DTMF while its prompts play and after:
 *
 * ```
 *   prompting ──promptsOver()──► waiting ──key──► waiting (timer re-armed)
 *       │  key: counted, the prompts stop (barge-in)     │
 *       └──────────── numDigits / finishOnKey / timeout / abort ──► done
 * ```
 *
 * It owns its timers: none while the prompts play (a caller listening to a
 * long menu is not timed out), then `timeoutMs` for the first key, re-armed
 * after each key for the next one. Keys pressed during the prompts count.
 * Ends on `numDigits` keys, on a `finishOnKey` key (not included), on the
 * timeout, or when `signal` aborts (hang-up, redirect, live control).
 */
import type { Listenable } from '../call-media.js';
import type { KeyEvents } from './digits.js';

export interface DigitGathererOptions {
  /** Stop after this many keys; undefined: no limit (finishOnKey or the timeout end it). */
  numDigits: number | undefined;
  /** Wait for the first key once the prompts are over, and between keys. */
  timeoutMs: number;
  /** Keys that end the input, not included in the digits; '' for none. */
  finishOnKey: string;
}

export type GatherEnd = 'numDigits' | 'finishOnKey' | 'timeout' | 'aborted';

type GatherState = 'prompting' | 'waiting' | 'done';

export class DigitGatherer {
  /** The digits and why gathering ended. */
  readonly result: Promise<{ digits: string; reason: GatherEnd }>;
  readonly #options: DigitGathererOptions;
  readonly #source: Listenable<KeyEvents>;
  readonly #signal: AbortSignal;
  readonly #firstKey = new AbortController();
  #state: GatherState = 'prompting';
  #digits = '';
  #timer: NodeJS.Timeout | undefined;
  #resolve!: (result: { digits: string; reason: GatherEnd }) => void;

  constructor(source: Listenable<KeyEvents>, options: DigitGathererOptions, signal: AbortSignal) {
    this.#source = source;
    this.#options = options;
    this.#signal = signal;
    this.result = new Promise((resolve) => {
      this.#resolve = resolve;
    });
    if (signal.aborted) {
      this.#finish('aborted');
      return;
    }
    signal.addEventListener('abort', this.#onAbort, { once: true });
    source.on('dtmf', this.#onKey);
  }

  /** Aborts at the first key (or when gathering ends): the prompts' signal for barge-in. */
  get keyPressed(): AbortSignal {
    return this.#firstKey.signal;
  }

  /** The prompts are over: the wait for the (next) key starts now. */
  promptsOver(): void {
    if (this.#state !== 'prompting') return;
    this.#state = 'waiting';
    this.#arm();
  }

  readonly #onKey = (digit: string): void => {
    if (this.#state === 'done') return;
    this.#firstKey.abort();
    if (this.#options.finishOnKey !== '' && this.#options.finishOnKey.includes(digit)) return this.#finish('finishOnKey');
    this.#digits += digit;
    if (this.#options.numDigits !== undefined && this.#digits.length >= this.#options.numDigits) return this.#finish('numDigits');
    if (this.#state === 'waiting') this.#arm();
  };

  readonly #onAbort = (): void => this.#finish('aborted');

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#finish('timeout'), this.#options.timeoutMs);
  }

  #finish(reason: GatherEnd): void {
    if (this.#state === 'done') return;
    this.#state = 'done';
    clearTimeout(this.#timer);
    this.#firstKey.abort();
    this.#source.off('dtmf', this.#onKey);
    this.#signal.removeEventListener('abort', this.#onAbort);
    this.#resolve({ digits: this.#digits, reason });
  }
}
