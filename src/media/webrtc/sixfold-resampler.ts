/**
 * Streaming 48 kHz ⇄ 8 kHz conversion for one 20 ms frame at a time (Opus
 * runs at 48 kHz, the engine at 8 kHz). A windowed-sinc low-pass FIR
 * (cut-off 3.6 kHz) used as a polyphase filter: downsampling computes every
 * sixth output of the filtered signal, upsampling filters the zero-stuffed
 * signal one phase per output sample. History and scratch are allocated
 * once, so a call's media path allocates nothing per frame here.
 * (`codecs/resample.ts` is the whole-file resampler; this one keeps state
 * across frames.)
 */

/** 48000 / 8000. */
const FACTOR = 6;
/** Filter taps: 8 per phase. */
const TAPS = FACTOR * 8;
const KERNEL = buildKernel();

function buildKernel(): Float32Array {
  const kernel = new Float32Array(TAPS);
  const cutoff = 3600 / 48000;
  const centre = (TAPS - 1) / 2;
  let sum = 0;
  for (let i = 0; i < TAPS; i++) {
    const x = i - centre;
    const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
    // Blackman window.
    const w = 0.42 - 0.5 * Math.cos((2 * Math.PI * i) / (TAPS - 1)) + 0.08 * Math.cos((4 * Math.PI * i) / (TAPS - 1));
    kernel[i] = sinc * w;
    sum += kernel[i]!;
  }
  for (let i = 0; i < TAPS; i++) kernel[i]! /= sum;
  return kernel;
}

function clamp16(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : Math.round(v);
}

/** 48 kHz → 8 kHz. */
export class Downsampler48To8 {
  /** The last TAPS - 1 input samples, then the new frame. */
  #buf = new Float32Array(0);

  /** `input`: 48 kHz samples (a multiple of 6); writes input.length / 6 samples to `out`; returns that count. */
  process(input: Int16Array, out: Int16Array): number {
    const history = TAPS - 1;
    const needed = history + input.length;
    if (this.#buf.length < needed) {
      // Grows once to the largest frame seen (20 ms: 960 samples), then stays.
      const grown = new Float32Array(needed);
      grown.set(this.#buf.subarray(0, Math.min(history, this.#buf.length)));
      this.#buf = grown;
    }
    const buf = this.#buf;
    for (let i = 0; i < input.length; i++) buf[history + i] = input[i]!;
    const count = Math.floor(input.length / FACTOR);
    for (let n = 0; n < count; n++) {
      const end = history + (n + 1) * FACTOR - 1;
      let acc = 0;
      for (let k = 0; k < TAPS; k++) acc += KERNEL[k]! * buf[end - k]!;
      out[n] = clamp16(acc);
    }
    buf.copyWithin(0, input.length, input.length + history);
    return count;
  }
}

/** 8 kHz → 48 kHz. */
export class Upsampler8To48 {
  static readonly #PER_PHASE = TAPS / FACTOR;
  readonly #history = new Float32Array(Upsampler8To48.#PER_PHASE);

  /** Writes input.length * 6 samples to `out`; returns that count. */
  process(input: Int16Array, out: Int16Array): number {
    const per = Upsampler8To48.#PER_PHASE;
    const h = this.#history;
    for (let n = 0; n < input.length; n++) {
      // Shift the last `per` input samples (newest first at h[0]).
      for (let j = per - 1; j > 0; j--) h[j] = h[j - 1]!;
      h[0] = input[n]!;
      for (let phase = 0; phase < FACTOR; phase++) {
        let acc = 0;
        for (let j = 0; j < per; j++) acc += KERNEL[phase + j * FACTOR]! * h[j]!;
        out[n * FACTOR + phase] = clamp16(acc * FACTOR);
      }
    }
    return input.length * FACTOR;
  }
}
