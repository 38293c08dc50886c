/**
 * What a leg can play: anything that fills 20 ms frames of 8 kHz 16-bit PCM
 * (160 samples) into a caller-provided buffer. `read` runs on the media tick,
 * so implementations must not allocate or wait: asynchronous work (fetching,
 * decoding, synthesis) happens before a source is handed to a leg.
 */
import type { Codec } from '../codecs/codec.js';

export const SAMPLE_RATE = 8000;
export const FRAME_SAMPLES = 160;

export interface AudioSource {
  /**
   * Fill `out` (FRAME_SAMPLES long) with the next frame. Returns false when
   * the source has ended; `out` is then left untouched. A short final frame
   * is zero-padded.
   */
  read(out: Int16Array): boolean;
  /**
   * Optional, for sources whose frame exists already encoded (a bridged
   * leg's packet as it arrived) or is heard by many legs (a conference mix,
   * encoded once): right after a `read` that returned true, write that
   * frame as `codec` payload into `out` at `offset` and return its length,
   * or 0 when there are no such bytes and the leg must encode it itself.
   */
  encodeInto?(codec: Codec, out: Uint8Array, offset: number): number;
  /** Release anything held. Optional; must be idempotent. */
  close?(): void;
}

/**
 * For `encodeInto`: the first `length` bytes of `payload` into `out` at
 * `offset`, and their length; 0 (the leg encodes itself) when they do not
 * fit. A loop, not `out.set(payload.subarray(…))`: no view allocated per frame.
 */
export function copyPayload(payload: Uint8Array, length: number, out: Uint8Array, offset: number): number {
  if (offset + length > out.length) return 0;
  for (let i = 0; i < length; i++) out[offset + i] = payload[i] ?? 0;
  return length;
}

/** Options for `PcmSource`. */
export interface PcmSourceOptions {
  /** Play again from the start when done. Default false. */
  loop?: boolean;
  /** With `loop`, how many times to play in total (0 = forever). Default 0. */
  times?: number;
}

/** Plays an in-memory 8 kHz PCM buffer. */
export class PcmSource implements AudioSource {
  readonly #pcm: Int16Array;
  readonly #loop: boolean;
  readonly #times: number;
  #pos = 0;
  #played = 0;

  constructor(pcm: Int16Array, options: PcmSourceOptions = {}) {
    this.#pcm = pcm;
    this.#loop = options.loop ?? false;
    this.#times = options.times ?? 0;
  }

  read(out: Int16Array): boolean {
    const pcm = this.#pcm;
    if (pcm.length === 0) return false;
    let written = 0;
    while (written < out.length) {
      if (this.#pos >= pcm.length) {
        this.#played++;
        const again = this.#loop && (this.#times === 0 || this.#played < this.#times);
        if (!again) break;
        this.#pos = 0;
      }
      const n = Math.min(out.length - written, pcm.length - this.#pos);
      out.set(pcm.subarray(this.#pos, this.#pos + n), written);
      written += n;
      this.#pos += n;
    }
    if (written === 0) return false;
    if (written < out.length) out.fill(0, written);
    return true;
  }
}

/** Silence for a fixed time (e.g. Twilio's <Pause>). */
export class SilenceSource implements AudioSource {
  #frames: number;

  constructor(durationMs: number) {
    this.#frames = Math.ceil(durationMs / 20);
  }

  read(out: Int16Array): boolean {
    if (this.#frames <= 0) return false;
    this.#frames--;
    out.fill(0);
    return true;
  }
}

/** Plays several sources one after another (e.g. the segments of one <Say>). */
export class SequenceSource implements AudioSource {
  readonly #sources: AudioSource[];
  #index = 0;

  constructor(sources: AudioSource[]) {
    this.#sources = sources;
  }

  read(out: Int16Array): boolean {
    while (this.#index < this.#sources.length) {
      if (this.#sources[this.#index]?.read(out)) return true;
      this.#sources[this.#index]?.close?.();
      this.#index++;
    }
    return false;
  }

  close(): void {
    for (const s of this.#sources) s.close?.();
  }
}
