/**
 * A ring buffer of 8 kHz PCM that producers push into at any rate (e.g. audio
 * arriving over a WebSocket media stream) and the media tick reads 20 ms at a
 * time. Pushing copies; when full, the oldest audio is dropped so latency stays
 * bounded.
 */
import type { AudioSource } from './audio-source.js';

export class PcmQueue implements AudioSource {
  readonly #ring: Int16Array;
  #read = 0;
  #size = 0;
  /** Samples dropped because the queue was full. */
  overflowed = 0;

  /** `capacity` in samples. Default 30 s. */
  constructor(capacity = 8000 * 30) {
    this.#ring = new Int16Array(capacity);
  }

  /** Samples queued. */
  get size(): number {
    return this.#size;
  }

  push(pcm: Int16Array): void {
    const cap = this.#ring.length;
    let src = pcm;
    if (src.length > cap) {
      this.overflowed += src.length - cap;
      src = src.subarray(src.length - cap);
    }
    const excess = this.#size + src.length - cap;
    if (excess > 0) {
      this.overflowed += excess;
      this.#read = (this.#read + excess) % cap;
      this.#size -= excess;
    }
    let write = (this.#read + this.#size) % cap;
    let offset = 0;
    while (offset < src.length) {
      const n = Math.min(src.length - offset, cap - write);
      this.#ring.set(src.subarray(offset, offset + n), write);
      offset += n;
      write = (write + n) % cap;
    }
    this.#size += src.length;
  }

  /** Fill `out` from the queue; false when empty. A partial frame is zero-padded. */
  read(out: Int16Array): boolean {
    if (this.#size === 0) return false;
    const cap = this.#ring.length;
    const want = Math.min(out.length, this.#size);
    let done = 0;
    while (done < want) {
      const n = Math.min(want - done, cap - this.#read);
      out.set(this.#ring.subarray(this.#read, this.#read + n), done);
      done += n;
      this.#read = (this.#read + n) % cap;
    }
    this.#size -= want;
    if (want < out.length) out.fill(0, want);
    return true;
  }

  clear(): void {
    this.#read = 0;
    this.#size = 0;
  }
}
