/**
 * In-band DTMF detection for carriers that send tones in the audio instead of
 * RFC 4733 events. Each 20 ms frame (160 samples at 8 kHz) is one Goertzel
 * block over the eight keypad frequencies. A block counts as a digit when:
 *  - the strongest row and column tones are both above an absolute level,
 *  - the twist (level difference between them) is within limits,
 *  - each is clearly stronger than the other tones of its group, and
 *  - the two tones carry most of the block's energy (rejects speech/music).
 * A digit is reported after two consecutive matching blocks (40 ms) and
 * re-armed after a block without it. Fixed state, no allocation per frame;
 * the eight filters run four at a time in one pass over the frame.
 */
import { DTMF_COLS, DTMF_ROWS, keypadDigit, type DtmfDigit, type DtmfEvent } from './digits.js';

/** Options for `InbandDtmfDetector`. */
export interface InbandDtmfOptions {
  /** Sample rate. Default 8000. */
  sampleRate?: number;
  /** Minimum tone amplitude (int16 peak) of each of the two tones. Default 400 (about -35 dBm0; 0 dBm0 is a peak of about 22000). */
  minAmplitude?: number;
  /** Max dB the column tone may exceed the row tone. Default 8. */
  normalTwistDb?: number;
  /** Max dB the row tone may exceed the column tone. Default 8. */
  reverseTwistDb?: number;
  /** Min dB between the strongest tone and the next in its group. Default 6. */
  relativePeakDb?: number;
  /** Min share of block energy in the two tones. Default 0.6. */
  minToneRatio?: number;
  /** Consecutive blocks required. Default 2. */
  blocks?: number;
}

const FREQS = [...DTMF_ROWS, ...DTMF_COLS];

export class InbandDtmfDetector {
  readonly #coeffs: Float64Array;
  readonly #power = new Float64Array(8);
  readonly #onDigit: (event: DtmfEvent) => void;
  readonly #minAmplitude: number;
  readonly #normalTwist: number;
  readonly #reverseTwist: number;
  readonly #relativePeak: number;
  readonly #minToneRatio: number;
  readonly #blocksNeeded: number;
  #candidate: DtmfDigit | undefined;
  #count = 0;
  #reported = false;

  constructor(onDigit: (event: DtmfEvent) => void, options: InbandDtmfOptions = {}) {
    const rate = options.sampleRate ?? 8000;
    this.#coeffs = Float64Array.from(FREQS, (f) => 2 * Math.cos((2 * Math.PI * f) / rate));
    this.#onDigit = onDigit;
    this.#minAmplitude = options.minAmplitude ?? 400;
    this.#normalTwist = 10 ** ((options.normalTwistDb ?? 8) / 10);
    this.#reverseTwist = 10 ** ((options.reverseTwistDb ?? 8) / 10);
    this.#relativePeak = 10 ** ((options.relativePeakDb ?? 6) / 10);
    this.#minToneRatio = options.minToneRatio ?? 0.6;
    this.#blocksNeeded = options.blocks ?? 2;
  }

  /** Analyse one frame. */
  process(frame: Int16Array, length = frame.length): void {
    const digit = this.#analyse(frame, length);
    if (digit !== undefined && digit === this.#candidate) {
      this.#count++;
    } else {
      this.#candidate = digit;
      this.#count = digit === undefined ? 0 : 1;
      this.#reported = false;
    }
    if (digit !== undefined && !this.#reported && this.#count >= this.#blocksNeeded) {
      this.#reported = true;
      this.#onDigit({ digit, source: 'inband', durationMs: this.#count * Math.round((length / 8000) * 1000) });
    }
  }

  reset(): void {
    this.#candidate = undefined;
    this.#count = 0;
    this.#reported = false;
  }

  #analyse(frame: Int16Array, n: number): DtmfDigit | undefined {
    let energy = 0;
    for (let i = 0; i < n; i++) {
      const x = frame[i] ?? 0;
      energy += x * x;
    }
    // A tone of amplitude A has energy n*A^2/2; both tones must reach minAmplitude.
    if (energy < n * this.#minAmplitude * this.#minAmplitude) return undefined;
    const power = this.#power;
    // Goertzel power of amplitude A over n samples is about (A*n/2)^2.
    const minPower = (this.#minAmplitude * n) / 2;
    // The row tones first: most frames with energy (speech, noise) fail on them alone, and the column pass is skipped.
    goertzel4(frame, n, this.#coeffs, 0, power);
    const row = argmax(power, 0);
    const rowPower = power[row] ?? 0;
    if (rowPower < minPower * minPower) return undefined;
    for (let f = 0; f < 4; f++) if (f !== row && (power[f] ?? 0) * this.#relativePeak > rowPower) return undefined;
    // The column tone can be at most normalTwist × the row's, so the two together at most (1 + normalTwist) × the
    // row's: short of the tone ratio even so, no column can pass the checks below (the margin absorbs rounding).
    if (rowPower * (1 + this.#normalTwist) * (1 + 1e-9) * 2 < this.#minToneRatio * energy * n) return undefined;
    goertzel4(frame, n, this.#coeffs, 4, power);
    const col = argmax(power, 4);
    const colPower = power[col] ?? 0;
    if (colPower < minPower * minPower) return undefined;
    if (colPower > rowPower * this.#normalTwist || rowPower > colPower * this.#reverseTwist) return undefined;
    for (let f = 4; f < 8; f++) if (f !== col && (power[f] ?? 0) * this.#relativePeak > colPower) return undefined;
    // (2/n) * power approximates the energy of that tone.
    if (((rowPower + colPower) * 2) / n < this.#minToneRatio * energy) return undefined;
    return keypadDigit(row, col - 4);
  }
}

/**
 * Goertzel power of four frequencies (`coeffs[from..from+3]`) over `frame`,
 * into `power[from..from+3]`. The four recurrences run side by side in one
 * pass: each is a chain where every step waits for the previous one, so one
 * filter at a time leaves the CPU idle most of each step; four independent
 * chains fill it (about 4× faster per frame, same arithmetic per filter, so
 * the same results). Four, not eight: eight chains need more registers than
 * the CPU has and spill.
 */
function goertzel4(frame: Int16Array, n: number, coeffs: Float64Array, from: number, power: Float64Array): void {
  const c0 = coeffs[from] ?? 0;
  const c1 = coeffs[from + 1] ?? 0;
  const c2 = coeffs[from + 2] ?? 0;
  const c3 = coeffs[from + 3] ?? 0;
  let a1 = 0;
  let a2 = 0;
  let b1 = 0;
  let b2 = 0;
  let d1 = 0;
  let d2 = 0;
  let e1 = 0;
  let e2 = 0;
  for (let i = 0; i < n; i++) {
    const x = frame[i] ?? 0;
    const a0 = x + c0 * a1 - a2;
    a2 = a1;
    a1 = a0;
    const b0 = x + c1 * b1 - b2;
    b2 = b1;
    b1 = b0;
    const d0 = x + c2 * d1 - d2;
    d2 = d1;
    d1 = d0;
    const e0 = x + c3 * e1 - e2;
    e2 = e1;
    e1 = e0;
  }
  power[from] = a1 * a1 + a2 * a2 - c0 * a1 * a2;
  power[from + 1] = b1 * b1 + b2 * b2 - c1 * b1 * b2;
  power[from + 2] = d1 * d1 + d2 * d2 - c2 * d1 * d2;
  power[from + 3] = e1 * e1 + e2 * e2 - c3 * e1 * e2;
}

function argmax(values: Float64Array, from: number): number {
  let best = from;
  for (let i = from + 1; i < from + 4; i++) if ((values[i] ?? 0) > (values[best] ?? 0)) best = i;
  return best;
}
