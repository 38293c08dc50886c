/**
 * L16 (RFC 3551 §4.5.11): signed 16-bit linear PCM in network byte order.
 */

/** Encode `count` samples into big-endian bytes in `out` at `outOffset`. Returns bytes written. */
export function encodeL16(pcm: Int16Array, out: Uint8Array, outOffset = 0, count = pcm.length): number {
  for (let i = 0; i < count; i++) {
    const s = pcm[i] ?? 0;
    out[outOffset + 2 * i] = (s >> 8) & 0xff;
    out[outOffset + 2 * i + 1] = s & 0xff;
  }
  return count * 2;
}

/** Decode big-endian L16 bytes into `out`. Returns samples written. */
export function decodeL16(src: Uint8Array, out: Int16Array, srcOffset = 0, byteCount = src.length - srcOffset): number {
  const n = Math.min(byteCount >> 1, out.length);
  for (let i = 0; i < n; i++) {
    const v = ((src[srcOffset + 2 * i] ?? 0) << 8) | (src[srcOffset + 2 * i + 1] ?? 0);
    out[i] = (v << 16) >> 16;
  }
  return n;
}
