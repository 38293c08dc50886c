import { describe, expect, it } from 'vitest';
import { addressList, isAddressOrCidr } from '../../src/shared/address-list.js';

describe('address lists', () => {
  it('accepts addresses and CIDR ranges of either family, and nothing else', () => {
    for (const ok of ['203.0.113.7', '10.0.0.0/8', 'fd00::/8', '::1', '0.0.0.0/0']) expect(isAddressOrCidr(ok), ok).toBe(true);
    for (const bad of ['carrier.example', '10.0.0.0/33', 'fd00::/129', '10.0.0.0/8/1', '10.0.0.0/x', '']) expect(isAddressOrCidr(bad), bad).toBe(false);
  });

  it('matches addresses, ranges, IPv4-mapped IPv6 and bracketed IPv6; names and garbage are not in it', () => {
    const list = addressList(['203.0.113.7', '10.0.0.0/8', 'fd00::/8']);
    expect(list.has('203.0.113.7')).toBe(true);
    expect(list.has('203.0.113.8')).toBe(false);
    expect(list.has('10.200.3.4')).toBe(true);
    expect(list.has('::ffff:10.1.1.1')).toBe(true);
    expect(list.has('[fd00::5]')).toBe(true);
    expect(list.has('fe80::1')).toBe(false);
    expect(list.has('carrier.example')).toBe(false);
    expect(list.has('')).toBe(false);
  });

  it('gives the same answers once it has forgotten what it kept (more distinct peers than it keeps)', () => {
    const list = addressList(['10.0.0.0/16']);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 5000; i++) {
        const inside = `10.0.${(i >> 8) & 0xff}.${i & 0xff}`;
        const outside = `10.1.${(i >> 8) & 0xff}.${i & 0xff}`;
        if (!list.has(inside) || list.has(outside)) throw new Error(`wrong answer for ${inside} or ${outside} in round ${round}`);
      }
    }
    expect(list.has('10.0.0.1')).toBe(true);
    expect(list.has('10.1.0.1')).toBe(false);
  });
});
