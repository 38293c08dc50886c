import { describe, expect, it } from 'vitest';
import { normaliseDialledNumber } from '../../src/shared/phone-number.js';

describe('normaliseDialledNumber (numbers as carriers send them in INVITEs)', () => {
  it('turns every Kenyan format into one E.164 number', () => {
    for (const sent of ['+254712345678', '254712345678', '0712345678', '712345678', '00254712345678', '0712 345-678']) {
      expect(normaliseDialledNumber(sent), sent).toBe('+254712345678');
    }
    expect(normaliseDialledNumber('0200000001')).toBe('+254200000001');
  });

  it('keeps other countries\' numbers and takes another country code', () => {
    expect(normaliseDialledNumber('447700900123')).toBe('+447700900123');
    expect(normaliseDialledNumber('0044 7700 900123')).toBe('+447700900123');
    expect(normaliseDialledNumber('0772123456', '256')).toBe('+256772123456');
  });

  it('refuses what is not a number', () => {
    for (const sent of ['', 'anonymous', 'alice', '+0712345678', '12ab']) expect(normaliseDialledNumber(sent), sent).toBeUndefined();
  });
});
