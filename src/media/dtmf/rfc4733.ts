/**
 * RFC 4733 telephone-event: receive and send.
 *
 * Receive: one digit per event timestamp. The digit is reported when the end
 * bit arrives; the end packet is normally sent three times and we report it
 * once (de-duplicated by timestamp). If every end packet is lost, the digit is
 * still reported when the next event starts or when `flush` finds it stale.
 *
 * Send: a queue of digits played out at the 20 ms cadence: the first packet
 * with the marker bit, updates with growing duration, then the end packet
 * three times, then a short gap before the next digit.
 */
import { digitToEvent, EVENT_DIGITS, type DtmfDigit, type DtmfEvent } from './digits.js';

/** Options for `Rfc4733Receiver`. */
export interface Rfc4733ReceiverOptions {
  /** An event with no packet for this long is reported as ended. Default 500 ms. */
  staleMs?: number;
}

export class Rfc4733Receiver {
  readonly #onDigit: (event: DtmfEvent) => void;
  readonly #staleMs: number;
  // Timestamps of recently reported events, so retransmitted end packets are ignored.
  readonly #reported = new Float64Array(8).fill(-1);
  #reportedIndex = 0;
  #currentTs = -1;
  #currentEvent = -1;
  #currentDuration = 0;
  #lastPacketAt = 0;

  constructor(onDigit: (event: DtmfEvent) => void, options: Rfc4733ReceiverOptions = {}) {
    this.#onDigit = onDigit;
    this.#staleMs = options.staleMs ?? 500;
  }

  /** Feed one telephone-event payload. `now` is a monotonic ms clock. */
  receive(payload: Uint8Array, offset: number, length: number, timestamp: number, now: number): void {
    if (length < 4) return;
    const event = payload[offset] ?? 255;
    const flags = payload[offset + 1] ?? 0;
    const end = (flags & 0x80) !== 0;
    const duration = ((payload[offset + 2] ?? 0) << 8) | (payload[offset + 3] ?? 0);
    if (event > 15) return; // not a DTMF digit (flash, tones)
    if (this.#wasReported(timestamp)) return;
    if (this.#currentTs !== -1 && this.#currentTs !== timestamp) {
      // A new event started before we saw the previous one end.
      this.#report(this.#currentTs, this.#currentEvent, this.#currentDuration);
    }
    this.#currentTs = timestamp;
    this.#currentEvent = event;
    this.#currentDuration = Math.max(this.#currentDuration, duration);
    this.#lastPacketAt = now;
    if (end) this.#report(timestamp, event, this.#currentDuration);
  }

  /** Report an event whose end packets were all lost. Call periodically. */
  flush(now: number): void {
    if (this.#currentTs !== -1 && now - this.#lastPacketAt >= this.#staleMs) {
      this.#report(this.#currentTs, this.#currentEvent, this.#currentDuration);
    }
  }

  #wasReported(timestamp: number): boolean {
    return this.#reported.includes(timestamp);
  }

  #report(timestamp: number, event: number, duration: number): void {
    this.#reported[this.#reportedIndex] = timestamp;
    this.#reportedIndex = (this.#reportedIndex + 1) % this.#reported.length;
    this.#currentTs = -1;
    this.#currentEvent = -1;
    this.#currentDuration = 0;
    const digit = EVENT_DIGITS[event];
    if (digit) this.#onDigit({ digit, source: 'rfc4733', durationMs: Math.round(duration / 8) });
  }
}

/** Options for `Rfc4733Sender`. */
export interface Rfc4733SenderOptions {
  /** Tone length per digit. Default 100 ms. */
  durationMs?: number;
  /** Silence between digits. Default 60 ms. */
  gapMs?: number;
  /** Volume, dBm0 below zero (0-63). Default 10. */
  volume?: number;
}

/** What `next` produced for this tick. */
export type SendStep = 'event' | 'gap' | 'idle';

/** Builds the telephone-event packets of queued digits, one per 20 ms tick. */
export class Rfc4733Sender {
  readonly #durationSamples: number;
  readonly #gapTicks: number;
  readonly #volume: number;
  readonly #queue: DtmfDigit[] = [];
  #waiters: (() => void)[] = [];
  #event = -1;
  #sentSamples = 0;
  #endsSent = 0;
  #gapLeft = 0;
  /** RTP timestamp of the current event (set on its first packet). */
  eventTimestamp = 0;
  /** True for the first packet of an event (RTP marker bit). */
  marker = false;

  constructor(options: Rfc4733SenderOptions = {}) {
    this.#durationSamples = Math.max(160, Math.round(((options.durationMs ?? 100) * 8) / 160) * 160);
    this.#gapTicks = Math.max(1, Math.round((options.gapMs ?? 60) / 20));
    this.#volume = options.volume ?? 10;
  }

  get busy(): boolean {
    return this.#event !== -1 || this.#queue.length > 0 || this.#gapLeft > 0;
  }

  /** Queue digits; resolves when the last one has been sent. Invalid characters are skipped ('w' = 500 ms pause). */
  enqueue(digits: string): Promise<void> {
    for (const ch of digits) if (digitToEvent(ch) >= 0) this.#queue.push(ch.toUpperCase() as DtmfDigit);
    return new Promise((resolve) => {
      if (!this.busy) resolve();
      else this.#waiters.push(resolve);
    });
  }

  /** Drop queued digits (the current one still ends cleanly). */
  cancel(): void {
    this.#queue.length = 0;
    if (!this.busy) this.#settle();
  }

  /** Stop at once and settle every pending `enqueue` (the leg is closing). */
  dispose(): void {
    this.#queue.length = 0;
    this.#event = -1;
    this.#gapLeft = 0;
    this.#settle();
  }

  /**
   * Produce this tick's packet payload (4 bytes at `offset`) for audio
   * timestamp `timestamp`. Returns 'event' when a packet was written.
   */
  next(out: Uint8Array, offset: number, timestamp: number): SendStep {
    if (this.#event === -1) {
      if (this.#gapLeft > 0) {
        this.#gapLeft--;
        if (this.#gapLeft === 0 && this.#queue.length === 0) this.#settle();
        return 'gap';
      }
      const digit = this.#queue.shift();
      if (digit === undefined) return 'idle';
      this.#event = digitToEvent(digit);
      this.eventTimestamp = timestamp;
      this.#sentSamples = 0;
      this.#endsSent = 0;
      this.marker = true;
    } else {
      this.marker = false;
    }
    this.#sentSamples = Math.min(this.#durationSamples, this.#sentSamples + 160);
    const ending = this.#sentSamples >= this.#durationSamples;
    out[offset] = this.#event;
    out[offset + 1] = (ending ? 0x80 : 0) | (this.#volume & 0x3f);
    out[offset + 2] = (this.#sentSamples >> 8) & 0xff;
    out[offset + 3] = this.#sentSamples & 0xff;
    if (ending && ++this.#endsSent >= 3) {
      this.#event = -1;
      this.#gapLeft = this.#gapTicks;
    }
    return 'event';
  }

  #settle(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}
