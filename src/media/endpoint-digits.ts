/**
 * One `collectDigits` call: Twilio <Gather> semantics over the leg's digit
 * events. Ends on `numDigits`, on `finishOnKey` (not included in the digits),
 * on `timeoutMs` without a digit (counted from the start and again after each
 * digit), on abort, or when the leg closes.
 */

/** Options for `MediaEndpoint.collectDigits`. */
export interface CollectDigitsOptions {
  /** Stop after this many digits. Default: no limit. */
  numDigits?: number;
  /** Max wait for the first digit and between digits. Default 5000 ms. */
  timeoutMs?: number;
  /** Key that ends input; '' for none. Default '#'. */
  finishOnKey?: string;
  signal?: AbortSignal;
}

export interface CollectDigitsResult {
  digits: string;
  reason: 'numDigits' | 'finishOnKey' | 'timeout' | 'aborted' | 'closed';
}

export class DigitCollector {
  readonly result: Promise<CollectDigitsResult>;
  readonly #numDigits: number;
  readonly #timeoutMs: number;
  readonly #finishOnKey: string;
  readonly #signal: AbortSignal | undefined;
  readonly #onDone: () => void;
  #digits = '';
  #timer: NodeJS.Timeout | undefined;
  #resolve!: (r: CollectDigitsResult) => void;
  #done = false;

  constructor(options: CollectDigitsOptions, onDone: () => void) {
    this.#numDigits = options.numDigits ?? Infinity;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#finishOnKey = options.finishOnKey ?? '#';
    this.#signal = options.signal;
    this.#onDone = onDone;
    this.result = new Promise((resolve) => {
      this.#resolve = resolve;
    });
    if (this.#signal?.aborted) {
      this.finish('aborted');
      return;
    }
    this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.#arm();
  }

  push(digit: string): void {
    if (this.#done) return;
    if (this.#finishOnKey !== '' && this.#finishOnKey.includes(digit)) {
      this.finish('finishOnKey');
      return;
    }
    this.#digits += digit;
    if (this.#digits.length >= this.#numDigits) this.finish('numDigits');
    else this.#arm();
  }

  finish(reason: CollectDigitsResult['reason']): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#timer);
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#onDone();
    this.#resolve({ digits: this.#digits, reason });
  }

  readonly #onAbort = (): void => this.finish('aborted');

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.finish('timeout'), this.#timeoutMs);
  }
}
