/**
 * Random bytes for identifiers made on every call: SIP tags, branches and
 * Call-IDs, and record ids. Node's `randomBytes` costs about 7 µs per call
 * on the build box (a new buffer and a trip to the CSPRNG each time), and a
 * call makes a dozen identifiers; this draws from the same CSPRNG 4 KiB at a
 * time and slices, well under 1 µs. Keys and secrets (SRTP, digest secrets,
 * console sessions) keep calling `randomBytes` themselves, so no secret is
 * ever cut from a shared buffer.
 */
import { randomFillSync } from 'node:crypto';

const pool = Buffer.alloc(4096);
let offset = pool.length;

/** The start of `count` fresh bytes in `pool`, valid until the next draw. */
function draw(count: number): number {
  if (count > pool.length) throw new RangeError(`at most ${pool.length} random bytes at a time`);
  if (offset + count > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const start = offset;
  offset += count;
  return start;
}

/** `bytes` random bytes as hex (2 × `bytes` characters). */
export function randomHex(bytes: number): string {
  const start = draw(bytes);
  return pool.toString('hex', start, start + bytes);
}

/** `bytes` random bytes as base64url. */
export function randomBase64url(bytes: number): string {
  const start = draw(bytes);
  return pool.toString('base64url', start, start + bytes);
}

/** `length` characters of `alphabet`, one random byte each (a byte modulo the alphabet's length). */
export function randomChars(length: number, alphabet: string): string {
  const start = draw(length);
  let text = '';
  for (let i = start; i < start + length; i++) text += alphabet[pool[i]! % alphabet.length];
  return text;
}
