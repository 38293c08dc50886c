/**
 * Band-limited resampling between the rates telephony meets: 8, 16, 22.05,
 * 24 and 48 kHz (any pair works). A windowed-sinc interpolator with a
 * precomputed kernel table; when downsampling the cutoff follows the target
 * Nyquist so speech synthesized at 22.05 kHz does not alias into the 8 kHz band.
 *
 * This runs on whole files/utterances, never per 20 ms frame; `resampleAsync`
 * yields to the event loop between slices so a long file does not stall the
 * media clock.
 */

/** Zero crossings on each side of the kernel centre. */
const ZERO_CROSSINGS = 10;
/** Table entries per zero crossing. */
const RESOLUTION = 512;
const KERNEL = buildKernel();

function buildKernel(): Float32Array {
  const n = ZERO_CROSSINGS * RESOLUTION + 1;
  const k = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const x = i / RESOLUTION;
    const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    // Blackman window over [-Z, Z].
    const w = 0.42 + 0.5 * Math.cos((Math.PI * x) / ZERO_CROSSINGS) + 0.08 * Math.cos((2 * Math.PI * x) / ZERO_CROSSINGS);
    k[i] = sinc * w;
  }
  return k;
}

type Samples = Int16Array | Float32Array;

/** Output length for a given input length and rate pair. */
export function resampledLength(inputLength: number, fromRate: number, toRate: number): number {
  return Math.floor((inputLength * toRate) / fromRate);
}

/**
 * Compute output samples [start, end) of `input` resampled from `fromRate` to
 * `toRate` into `out`. Float input is taken as -1..1, int16 as is.
 */
function resampleRange(input: Samples, fromRate: number, toRate: number, out: Int16Array, start: number, end: number): void {
  const scale = input instanceof Float32Array ? 32767 : 1;
  const step = fromRate / toRate;
  // Cutoff relative to the input Nyquist; slightly below to keep the transition band inside.
  const fc = toRate < fromRate ? (toRate / fromRate) * 0.94 : 1;
  const halfWidth = ZERO_CROSSINGS / fc;
  const last = input.length - 1;
  for (let i = start; i < end; i++) {
    const t = i * step;
    const lo = Math.max(0, Math.ceil(t - halfWidth));
    const hi = Math.min(last, Math.floor(t + halfWidth));
    let acc = 0;
    let norm = 0;
    for (let k = lo; k <= hi; k++) {
      const idx = Math.round(Math.abs(t - k) * fc * RESOLUTION);
      const w = KERNEL[idx] ?? 0;
      acc += (input[k] ?? 0) * w;
      norm += w;
    }
    let v = norm !== 0 ? (acc / norm) * scale : 0;
    if (v > 32767) v = 32767;
    else if (v < -32768) v = -32768;
    out[i] = Math.round(v);
  }
}

/** Resample a whole buffer synchronously. Same rate returns a copy. */
export function resample(input: Samples, fromRate: number, toRate: number): Int16Array {
  const out = new Int16Array(resampledLength(input.length, fromRate, toRate));
  if (fromRate === toRate && input instanceof Int16Array) {
    out.set(input);
    return out;
  }
  resampleRange(input, fromRate, toRate, out, 0, out.length);
  return out;
}

/**
 * Resample in slices of `sliceSamples` output samples, yielding to the event
 * loop between slices. Rejects with the signal's reason when aborted.
 */
export async function resampleAsync(
  input: Samples,
  fromRate: number,
  toRate: number,
  signal?: AbortSignal,
  sliceSamples = 4000,
): Promise<Int16Array> {
  const out = new Int16Array(resampledLength(input.length, fromRate, toRate));
  if (fromRate === toRate && input instanceof Int16Array) {
    out.set(input);
    return out;
  }
  for (let start = 0; start < out.length; start += sliceSamples) {
    signal?.throwIfAborted();
    resampleRange(input, fromRate, toRate, out, start, Math.min(out.length, start + sliceSamples));
    if (start + sliceSamples < out.length) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return out;
}
