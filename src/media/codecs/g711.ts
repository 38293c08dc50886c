/**
 * G.711 PCMU (mu-law) and PCMA (a-law), ITU-T G.711. Encoding and decoding go
 * through lookup tables built once at module load, so the 20 ms path is one
 * array read per sample and never allocates.
 */

const MULAW_BIAS = 0x84;
const MULAW_CLIP = 32635;

function linearToMulaw(sample: number): number {
  let s = sample;
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > MULAW_CLIP) s = MULAW_CLIP;
  s += MULAW_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

function mulawToLinear(code: number): number {
  const u = ~code & 0xff;
  const sign = u & 0x80;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + MULAW_BIAS) << exponent) - MULAW_BIAS;
  return sign ? -magnitude : magnitude;
}

function linearToAlaw(sample: number): number {
  let s = sample;
  let mask: number;
  if (s >= 0) {
    mask = 0xd5;
  } else {
    mask = 0x55;
    s = -s - 1;
  }
  if (s > 32767) s = 32767;
  let code: number;
  if (s < 256) {
    code = s >> 4;
  } else {
    let exponent = 7;
    for (let m = 0x4000; (s & m) === 0 && exponent > 1; m >>= 1) exponent--;
    code = (exponent << 4) | ((s >> (exponent + 3)) & 0x0f);
  }
  return (code ^ mask) & 0xff;
}

function alawToLinear(code: number): number {
  const a = code ^ 0x55;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  let magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  if ((a & 0x80) === 0) magnitude = -magnitude;
  return magnitude;
}

/** Decode tables: code byte -> linear int16. */
export const MULAW_DECODE = new Int16Array(256);
export const ALAW_DECODE = new Int16Array(256);
/** Encode tables indexed by (int16 + 32768) >> 2; 14-bit precision is all G.711 keeps. */
const MULAW_ENCODE = new Uint8Array(16384);
const ALAW_ENCODE = new Uint8Array(16384);

for (let i = 0; i < 256; i++) {
  MULAW_DECODE[i] = mulawToLinear(i);
  ALAW_DECODE[i] = alawToLinear(i);
}
for (let i = 0; i < 16384; i++) {
  const sample = (i << 2) - 32768 + 2;
  MULAW_ENCODE[i] = linearToMulaw(sample);
  ALAW_ENCODE[i] = linearToAlaw(sample);
}

/** Encode one linear sample to mu-law. */
export function mulawEncodeSample(sample: number): number {
  return MULAW_ENCODE[(sample + 32768) >> 2] ?? 0xff;
}

/** Encode one linear sample to a-law. */
export function alawEncodeSample(sample: number): number {
  return ALAW_ENCODE[(sample + 32768) >> 2] ?? 0xd5;
}

/** Encode `count` samples of `pcm` into `out` starting at `outOffset`. Returns bytes written. */
export function encodePcmu(pcm: Int16Array, out: Uint8Array, outOffset = 0, count = pcm.length): number {
  for (let i = 0; i < count; i++) out[outOffset + i] = MULAW_ENCODE[((pcm[i] ?? 0) + 32768) >> 2] ?? 0xff;
  return count;
}

/** Decode `count` mu-law bytes from `src` (at `srcOffset`) into `out`. Returns samples written. */
export function decodePcmu(src: Uint8Array, out: Int16Array, srcOffset = 0, count = src.length - srcOffset): number {
  const n = Math.min(count, out.length);
  for (let i = 0; i < n; i++) out[i] = MULAW_DECODE[src[srcOffset + i] ?? 0xff] ?? 0;
  return n;
}

/** Encode `count` samples of `pcm` into `out` as a-law. Returns bytes written. */
export function encodePcma(pcm: Int16Array, out: Uint8Array, outOffset = 0, count = pcm.length): number {
  for (let i = 0; i < count; i++) out[outOffset + i] = ALAW_ENCODE[((pcm[i] ?? 0) + 32768) >> 2] ?? 0xd5;
  return count;
}

/** Decode `count` a-law bytes from `src` (at `srcOffset`) into `out`. Returns samples written. */
export function decodePcma(src: Uint8Array, out: Int16Array, srcOffset = 0, count = src.length - srcOffset): number {
  const n = Math.min(count, out.length);
  for (let i = 0; i < n; i++) out[i] = ALAW_DECODE[src[srcOffset + i] ?? 0xd5] ?? 0;
  return n;
}
