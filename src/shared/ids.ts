import { randomBytes, randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
let lastTime = 0;
let sequence = 0;

/** Random bytes drawn 4 KiB at a time: a call makes a dozen ids, and one crypto call per id cost more than the id. */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

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
  if (poolOffset + 8 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  let rand = '';
  for (let i = poolOffset; i < poolOffset + 8; i++) rand += ALPHABET[pool[i]! % 36];
  poolOffset += 8;
  return `${prefix}_${time}${seq}${rand}`;
}

/** A random secret of `bytes` bytes, hex encoded, with a readable prefix. */
export function newSecret(prefix: string, bytes = 24): string {
  return `${prefix}_${randomBytes(bytes).toString('hex')}`;
}
