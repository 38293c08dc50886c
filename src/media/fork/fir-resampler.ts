/**
 * Streaming integer-ratio resamplers for the audio stream: 8 kHz media frames
 * up to 16/24 kHz for the socket, and the socket's 16/24 kHz PCM down to
 * 8 kHz for the caller (and 48 kHz Opus for browser legs, both ways). Unlike `codecs/resample.ts` (whole buffers, off the
 * tick) these keep filter history across calls, so consecutive 20 ms frames
 * join without clicks, and they allocate nothing after construction.
 *
 * Both are polyphase FIRs over one windowed-sinc low-pass (Blackman window,
 * cutoff a little under 4 kHz: the band a narrowband call carries).
 */

/** 16 and 24 kHz for the audio stream; 48 kHz for Opus (browser legs, media/webrtc/). */
export type ResampleFactor = 1 | 2 | 3 | 6;

/** Taps per polyphase branch: 24 gives > 60 dB image rejection at a few µs per frame. */
const TAPS_PER_PHASE = 24;
/** Cutoff in Hz: just below the 4 kHz Nyquist of the 8 kHz side, leaving room for the transition band. */
const CUTOFF_HZ = 3700;

/** A low-pass prototype for `factor` × 8 kHz, normalised to a DC gain of `gain`. */
function lowPass(factor: number, gain: number): Float64Array {
  const n = factor * TAPS_PER_PHASE;
  const fc = CUTOFF_HZ / (8000 * factor); // cycles per sample at the high rate
  const centre = (n - 1) / 2;
  const h = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const x = i - centre;
    const sinc = x === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * x) / (Math.PI * x);
    const w = 0.42 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1)) + 0.08 * Math.cos((4 * Math.PI * i) / (n - 1));
    h[i] = sinc * w;
    sum += sinc * w;
  }
  for (let i = 0; i < n; i++) h[i] = ((h[i] ?? 0) * gain) / sum;
  return h;
}

function clamp16(v: number): number {
  const r = Math.round(v);
  return r > 32767 ? 32767 : r < -32768 ? -32768 : r;
}

/**
 * 8 kHz → `factor` × 8 kHz, one fixed-size frame at a time (the media tick's
 * 160 samples). `factor` 1 is a plain copy.
 */
export class FrameUpsampler {
  readonly factor: number;
  readonly #frame: number;
  readonly #h: Float64Array;
  /** History (TAPS_PER_PHASE - 1 samples) followed by the current frame. */
  readonly #work: Float64Array;

  constructor(factor: ResampleFactor, frameSamples: number) {
    this.factor = factor;
    this.#frame = frameSamples;
    // Gain L makes up for zero stuffing. Stored branch by branch (h[p], h[p+L], …) so the inner loop reads sequentially.
    const h = factor === 1 ? new Float64Array(0) : lowPass(factor, factor);
    this.#h = new Float64Array(h.length);
    for (let p = 0; p < factor; p++) for (let k = 0; k < TAPS_PER_PHASE; k++) this.#h[p * TAPS_PER_PHASE + k] = h[p + k * factor] ?? 0;
    this.#work = new Float64Array(TAPS_PER_PHASE - 1 + frameSamples);
  }

  /** Resample `input` (frameSamples long) into `out` at index `offset` with `stride` (2 interleaves stereo). */
  process(input: Int16Array, out: Int16Array, offset = 0, stride = 1): void {
    const L = this.factor;
    const frame = this.#frame;
    if (L === 1) {
      for (let i = 0; i < frame; i++) out[offset + i * stride] = input[i] ?? 0;
      return;
    }
    const work = this.#work;
    const hist = TAPS_PER_PHASE - 1;
    work.copyWithin(0, frame, frame + hist);
    for (let i = 0; i < frame; i++) work[hist + i] = input[i] ?? 0;
    const h = this.#h;
    let o = offset;
    for (let n = 0; n < frame; n++) {
      const base = hist + n;
      for (let p = 0, hp = 0; p < L; p++, hp += TAPS_PER_PHASE) {
        // y[nL + p] = Σ_k h[p + kL] · x[n − k]
        let acc = 0;
        for (let k = 0; k < TAPS_PER_PHASE; k++) acc += (h[hp + k] ?? 0) * (work[base - k] ?? 0);
        out[o] = clamp16(acc);
        o += stride;
      }
    }
  }

  reset(): void {
    this.#work.fill(0);
  }
}

/**
 * `factor` × 8 kHz → 8 kHz over chunks of any length. The count of output
 * samples is exact (one per `factor` inputs, carried across chunks); the
 * waveform lags by the filter's group delay (under 2 ms).
 */
export class StreamDownsampler {
  readonly factor: number;
  readonly #h: Float64Array;
  readonly #n: number;
  /** Each sample is stored twice (at i and i + n) so the filter window is always contiguous. */
  readonly #ring: Float64Array;
  #write = 0;
  #phase = 0;

  /** `factor`: the input rate over 8 kHz, a whole number (1–6: 8 to 48 kHz). */
  constructor(factor: number) {
    if (!Number.isInteger(factor) || factor < 1) throw new RangeError(`downsampling factor must be a whole number, got ${factor}`);
    this.factor = factor;
    this.#h = factor === 1 ? new Float64Array(0) : lowPass(factor, 1);
    this.#n = this.#h.length;
    this.#ring = new Float64Array(this.#n * 2);
  }

  /** Output samples that `inputLength` more input samples will produce (an upper bound). */
  outputLength(inputLength: number): number {
    return Math.ceil((inputLength + this.#phase) / this.factor) + 1;
  }

  /** Resample `input` into `out` (at least `outputLength(input.length)` long); returns samples written. */
  process(input: Int16Array, out: Int16Array): number {
    const M = this.factor;
    if (M === 1) {
      out.set(input);
      return input.length;
    }
    const h = this.#h;
    const n = this.#n;
    const ring = this.#ring;
    let written = 0;
    for (let i = 0; i < input.length; i++) {
      const s = input[i] ?? 0;
      this.#write = this.#write === 0 ? n - 1 : this.#write - 1;
      ring[this.#write] = s;
      ring[this.#write + n] = s;
      if (this.#phase === 0) {
        // Newest sample at #write, older ones after it: y = Σ h[i] · x[m − i]
        let acc = 0;
        const w = this.#write;
        for (let k = 0; k < n; k++) acc += (h[k] ?? 0) * (ring[w + k] ?? 0);
        out[written++] = clamp16(acc);
      }
      this.#phase = this.#phase + 1 === M ? 0 : this.#phase + 1;
    }
    return written;
  }

  reset(): void {
    this.#ring.fill(0);
    this.#write = 0;
    this.#phase = 0;
  }
}
