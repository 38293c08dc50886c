import { encodeWav } from '../media/sources/wav.js';

/** At 8 kHz mono: 10 s per chunk; at most 5 minutes kept (about 4.8 MB). */
const chunkSamples = 80_000;
const maxChunks = 30;

/**
 * What a sandbox phone heard, kept to be played back (the console's sandbox
 * page, `GET /v1/sandbox/calls/{id}/audio`). Frames are copied into
 * fixed-size chunks allocated once per 10 s, never per frame; past 5 minutes
 * the rest is dropped.
 */
export class HeardAudio {
  readonly #chunks: Int16Array[] = [];
  #filled = 0;

  constructor(readonly sampleRate = 8000) {}

  append(frame: Int16Array): void {
    let offset = 0;
    while (offset < frame.length) {
      let chunk = this.#chunks[this.#chunks.length - 1];
      if (!chunk || this.#filled === chunk.length) {
        if (this.#chunks.length === maxChunks) return;
        chunk = new Int16Array(chunkSamples);
        this.#chunks.push(chunk);
        this.#filled = 0;
      }
      const n = Math.min(frame.length - offset, chunk.length - this.#filled);
      chunk.set(frame.subarray(offset, offset + n), this.#filled);
      this.#filled += n;
      offset += n;
    }
  }

  get samples(): number {
    return this.#chunks.length === 0 ? 0 : (this.#chunks.length - 1) * chunkSamples + this.#filled;
  }

  /** The audio so far as a 16-bit PCM WAV. */
  toWav(): Buffer {
    const pcm = new Int16Array(this.samples);
    this.#chunks.forEach((chunk, i) => pcm.set(i === this.#chunks.length - 1 ? chunk.subarray(0, this.#filled) : chunk, i * chunkSamples));
    return encodeWav(pcm, this.sampleRate);
  }
}
