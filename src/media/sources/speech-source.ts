/**
 * Playing speech while it is still being synthesized: long text is split into
 * sentences, each synthesized (and cached) on its own, and playback starts as
 * soon as the first one is ready. If playback catches up with synthesis it
 * plays silence until the next sentence arrives; a sentence whose synthesis
 * failed is skipped.
 */
import type { AudioSource } from './audio-source.js';

/** Split text into sentence-sized parts of at most about `maxChars`, merging short ones. */
export function splitSentences(text: string, maxChars = 240): string[] {
  const sentences = text
    .split(/(?<=[.!?;:…。])\s+|\n+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const parts: string[] = [];
  let current = '';
  for (const sentence of sentences) {
    if (current !== '' && current.length + 1 + sentence.length > maxChars) {
      parts.push(current);
      current = '';
    }
    current = current === '' ? sentence : `${current} ${sentence}`;
  }
  if (current !== '') parts.push(current);
  return parts;
}

/** Options for `IncrementalSource`. */
export interface IncrementalSourceOptions {
  /** Times to play the whole sequence (0 = until stopped). Default 1. */
  times?: number;
  /** Called for a part that failed (it is skipped). */
  onPartError?: (error: unknown, index: number) => void;
}

/** Plays PCM parts in order as their promises resolve. */
export class IncrementalSource implements AudioSource {
  // undefined = not ready yet, null = failed (skip).
  readonly #ready: (Int16Array | null | undefined)[];
  readonly #times: number;
  #index = 0;
  #pos = 0;
  #played = 0;

  constructor(parts: Promise<Int16Array>[], options: IncrementalSourceOptions = {}) {
    this.#ready = parts.map(() => undefined);
    this.#times = options.times ?? 1;
    parts.forEach((part, i) => {
      part.then(
        (pcm) => {
          this.#ready[i] = pcm;
        },
        (error: unknown) => {
          this.#ready[i] = null;
          options.onPartError?.(error, i);
        },
      );
    });
  }

  read(out: Int16Array): boolean {
    let written = 0;
    while (written < out.length) {
      if (this.#index >= this.#ready.length) {
        this.#played++;
        if (this.#ready.length === 0 || (this.#times !== 0 && this.#played >= this.#times)) break;
        this.#index = 0;
        this.#pos = 0;
      }
      const part = this.#ready[this.#index];
      if (part === undefined) {
        // Synthesis is behind playback: wait in silence.
        out.fill(0, written);
        return true;
      }
      if (part === null || this.#pos >= part.length) {
        this.#index++;
        this.#pos = 0;
        continue;
      }
      const n = Math.min(out.length - written, part.length - this.#pos);
      out.set(part.subarray(this.#pos, this.#pos + n), written);
      written += n;
      this.#pos += n;
    }
    if (written === 0) return false;
    if (written < out.length) out.fill(0, written);
    return true;
  }
}
