/**
 * The caller-bound side of an audio stream: 8 kHz PCM from the server waits
 * here and is handed to the endpoint one 20 ms frame per tick, so we always
 * know how much has actually been played. Marks live beside the audio as
 * sample positions (never inside the samples): a mark placed after N samples
 * were queued is due once N samples have been played, and is "cleared" if
 * `clear()` (killAudio) drops the audio before it.
 *
 * Playback starts once `prebufferSamples` are queued (a little cushion
 * against network jitter), or after `maxHoldTicks` ticks with something
 * queued, so a short final chunk is not held back forever.
 */
import { FRAME_SAMPLES } from '../sources/audio-source.js';

export type MarkEvent = 'playout' | 'cleared';

/** Options for `PlayoutQueue`. */
export interface PlayoutQueueOptions {
  /** Most samples waiting; audio beyond it is dropped (and counted). Default 30 s at 8 kHz. */
  capacitySamples?: number;
  /** Start playing once this much is queued. Default 320 (40 ms). */
  prebufferSamples?: number;
  /** …or after this many ticks with audio waiting. Default 3 (60 ms). */
  maxHoldTicks?: number;
  /** Most marks waiting; further marks are answered 'cleared' at once. Default 1000. */
  maxMarks?: number;
  /** Called when a mark is played out or cleared. */
  onMark: (name: string, event: MarkEvent) => void;
}

interface Mark {
  name: string;
  /** Total samples pushed when the mark arrived. */
  position: number;
}

export class PlayoutQueue {
  readonly #capacity: number;
  readonly #prebuffer: number;
  readonly #maxHoldTicks: number;
  readonly #maxMarks: number;
  readonly #onMark: (name: string, event: MarkEvent) => void;
  /** Allocated on first push, so listen-only streams hold no playback memory. */
  #ring: Int16Array | undefined;
  #read = 0;
  #size = 0;
  /** Samples ever pushed (accepted) and ever played: marks compare against these. */
  #pushedTotal = 0;
  #playedTotal = 0;
  #marks: Mark[] = [];
  #playing = false;
  #heldTicks = 0;
  /** Samples refused because the queue was full. */
  overflowed = 0;

  constructor(options: PlayoutQueueOptions) {
    this.#capacity = options.capacitySamples ?? 8000 * 30;
    this.#prebuffer = options.prebufferSamples ?? 320;
    this.#maxHoldTicks = options.maxHoldTicks ?? 3;
    this.#maxMarks = options.maxMarks ?? 1000;
    this.#onMark = options.onMark;
  }

  /** Samples waiting to be played. */
  get size(): number {
    return this.#size;
  }

  get pendingMarks(): number {
    return this.#marks.length;
  }

  /** Queue 8 kHz PCM (copied). What does not fit is dropped: playback memory stays bounded. */
  push(pcm: Int16Array): void {
    if (pcm.length === 0) return;
    this.#ring ??= new Int16Array(this.#capacity);
    const ring = this.#ring;
    const cap = ring.length;
    const n = Math.min(pcm.length, cap - this.#size);
    this.overflowed += pcm.length - n;
    let write = (this.#read + this.#size) % cap;
    let offset = 0;
    while (offset < n) {
      const chunk = Math.min(n - offset, cap - write);
      ring.set(pcm.subarray(offset, offset + chunk), write);
      offset += chunk;
      write = (write + chunk) % cap;
    }
    this.#size += n;
    this.#pushedTotal += n;
  }

  /** Place a mark after everything queued so far; with nothing queued it is played out at once. */
  mark(name: string): void {
    if (this.#pushedTotal <= this.#playedTotal) {
      this.#onMark(name, 'playout');
      return;
    }
    if (this.#marks.length >= this.#maxMarks) {
      this.#onMark(name, 'cleared');
      return;
    }
    this.#marks.push({ name, position: this.#pushedTotal });
  }

  /** Drop everything queued (barge-in): pending marks are reported 'cleared'. */
  clear(): void {
    this.#read = 0;
    this.#size = 0;
    this.#playedTotal = this.#pushedTotal;
    this.#playing = false;
    this.#heldTicks = 0;
    const marks = this.#marks;
    this.#marks = [];
    for (const m of marks) this.#onMark(m.name, 'cleared');
  }

  /**
   * On the tick: copy the next frame to play into `out` (zero-padded) without
   * consuming it; returns the samples copied (0: nothing to play yet). Call
   * `commit(n)` once the frame was actually played. Allocates nothing.
   */
  peek(out: Int16Array): number {
    if (this.#size === 0) {
      this.#playing = false;
      this.#heldTicks = 0;
      return 0;
    }
    if (!this.#playing) {
      if (this.#size < this.#prebuffer && ++this.#heldTicks < this.#maxHoldTicks) return 0;
      this.#playing = true;
    }
    const ring = this.#ring;
    if (!ring) return 0;
    const cap = ring.length;
    const want = Math.min(FRAME_SAMPLES, this.#size, out.length);
    // Index loop rather than subarray(): a view object per frame is an allocation on the tick.
    let r = this.#read;
    for (let i = 0; i < want; i++) {
      out[i] = ring[r] ?? 0;
      r = r + 1 === cap ? 0 : r + 1;
    }
    if (want < out.length) out.fill(0, want);
    return want;
  }

  /** `n` samples handed out by `peek` were played: advance, and report marks now due. */
  commit(n: number): void {
    const ring = this.#ring;
    if (!ring || n <= 0) return;
    const done = Math.min(n, this.#size);
    this.#read = (this.#read + done) % ring.length;
    this.#size -= done;
    this.#playedTotal += done;
    while (this.#marks.length > 0) {
      const m = this.#marks[0];
      if (!m || m.position > this.#playedTotal) break;
      this.#marks.shift();
      this.#onMark(m.name, 'playout');
    }
  }
}
