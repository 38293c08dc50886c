import { describe, expect, it } from 'vitest';
import { formatNumber } from '../../src/engine/trunk-presentation.js';

describe('formatNumber() writes a dialled number as the trunk wants it (SPEC §13)', () => {
  it('e164 keeps the +, international drops it, national writes the trunk\'s own country with the trunk 0', () => {
    expect(formatNumber('+254712345678', 'e164', '254')).toBe('+254712345678');
    expect(formatNumber('+254712345678', 'international', '254')).toBe('254712345678');
    expect(formatNumber('+254712345678', 'national', '254')).toBe('0712345678');
    expect(formatNumber('+255712345678', 'national', '255')).toBe('0712345678');
  });

  it('a number of another country has no national form: it goes international', () => {
    expect(formatNumber('+442071838750', 'national', '254')).toBe('442071838750');
  });
});
