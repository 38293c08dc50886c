import { randomBytes } from 'node:crypto';
import { randomChars } from './random-pool.js';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
let lastTime = 0;
let sequence = 0;

/**
 * A sortable, prefixed identifier: `<prefix>_<time><sequence><random>`.
 * Time first and a per-process sequence within one millisecond, so ids made
 * later sort later (cursor paging and event order rely on it).
 */
export function newId(prefix: string): string {
  const now = Date.now();
  if (now > lastTime) {
    lastTime = now;
    sequence = 0;
  } else {
    sequence += 1;
  }
  const time = lastTime.toString(36).padStart(9, '0');
  const seq = sequence.toString(36).padStart(4, '0');
  // A call makes a dozen ids: the random part comes from the shared pool, not one crypto call per id.
  return `${prefix}_${time}${seq}${randomChars(8, ALPHABET)}`;
}

/** A random secret of `bytes` bytes, hex encoded, with a readable prefix. */
export function newSecret(prefix: string, bytes = 24): string {
  return `${prefix}_${randomBytes(bytes).toString('hex')}`;
}
