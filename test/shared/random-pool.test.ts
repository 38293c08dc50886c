import { describe, expect, it } from 'vitest';
import { randomBase64url, randomChars, randomHex } from '../../src/shared/random-pool.js';

describe('random pool', () => {
  it('gives strings of the asked size and alphabet, none repeated, across many refills of the pool', () => {
    const seen = new Set<string>();
    // 3 × 12 bytes × 2000 = 72 KB: the 4 KiB pool is refilled about 17 times, at every offset.
    for (let i = 0; i < 2000; i++) {
      const hex = randomHex(12);
      const b64 = randomBase64url(12);
      const chars = randomChars(12, 'abc');
      expect(hex).toMatch(/^[0-9a-f]{24}$/);
      expect(b64).toMatch(/^[A-Za-z0-9_-]{16}$/);
      expect(chars).toMatch(/^[abc]{12}$/);
      for (const value of [hex, b64]) {
        expect(seen.has(value)).toBe(false);
        seen.add(value);
      }
    }
  });

  it('uses every value of a byte: each hex digit shows up about as often as the others', () => {
    const counts = new Map<string, number>();
    for (const digit of randomHex(4000)) counts.set(digit, (counts.get(digit) ?? 0) + 1);
    expect(counts.size).toBe(16);
    // 8000 digits, 500 expected each; a fair source stays far inside 350..650.
    for (const count of counts.values()) {
      expect(count).toBeGreaterThan(350);
      expect(count).toBeLessThan(650);
    }
  });

  it('refuses more bytes than the pool holds', () => {
    expect(() => randomHex(5000)).toThrow(RangeError);
  });
});
