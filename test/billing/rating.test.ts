import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { billableSeconds, formatCents, parseAmountToCents, priceCents } from '../../src/billing/rating.js';

describe('rating', () => {
  it('priceCents() is ceil(seconds × rate / 60) to the cent', () => {
    expect(priceCents(0, 350)).toBe(0);
    expect(priceCents(1, 350)).toBe(6); // 5.83 cents rounds up
    expect(priceCents(60, 350)).toBe(350);
    expect(priceCents(61, 350)).toBe(356);
    expect(priceCents(90, 300)).toBe(450);
    fc.assert(fc.property(fc.integer({ min: 0, max: 86_400 * 7 }), fc.integer({ min: 0, max: 1_000_000 }), (s, r) => {
      const exact = (BigInt(s) * BigInt(r) + 59n) / 60n;
      expect(priceCents(s, r)).toBe(Number(exact));
    }));
  });

  it('priceCents() never charges less than the exact price and less than a cent more', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 100_000 }), (s, r) => {
      const price = priceCents(s, r);
      expect(price * 60).toBeGreaterThanOrEqual(s * r);
      expect(price * 60 - s * r).toBeLessThan(60);
    }));
  });

  it('priceCents() is monotonic in seconds', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 10_000 }), (s, r) => {
      expect(priceCents(s + 1, r)).toBeGreaterThanOrEqual(priceCents(s, r));
    }));
  });

  it('priceCents() refuses fractional or negative input', () => {
    expect(() => priceCents(1.5, 100)).toThrow(RangeError);
    expect(() => priceCents(1, -1)).toThrow(RangeError);
  });

  it('billableSeconds() rounds answered time up to whole seconds and is 0 unanswered', () => {
    const t = new Date('2026-01-01T00:00:00.000Z');
    expect(billableSeconds(null, t)).toBe(0);
    expect(billableSeconds(t, new Date(t.getTime() + 1))).toBe(1);
    expect(billableSeconds(t, new Date(t.getTime() + 90_000))).toBe(90);
    expect(billableSeconds(t, new Date(t.getTime() + 90_001))).toBe(91);
  });

  it('formatCents() and parseAmountToCents() round-trip', () => {
    expect(formatCents(1250)).toBe('12.50');
    expect(formatCents(5)).toBe('0.05');
    expect(formatCents(-5)).toBe('-0.05');
    expect(parseAmountToCents('12.5')).toBe(1250);
    expect(parseAmountToCents(12.5)).toBe(1250);
    expect(parseAmountToCents('12.505')).toBeUndefined();
    expect(parseAmountToCents('abc')).toBeUndefined();
    fc.assert(fc.property(fc.integer({ min: -1e12, max: 1e12 }), (c) => {
      expect(parseAmountToCents(formatCents(c))).toBe(c);
    }));
  });
});
