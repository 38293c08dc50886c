import { describe, expect, it } from 'vitest';
import { SourceBans } from '../../src/sip/ua/source-bans.js';

describe('source bans (SPEC §13)', () => {
  it('bans a source at its 10th failure within 60 s, for 10 minutes, and lifts it on request', () => {
    let now = 1_000_000;
    const bans = new SourceBans({ now: () => now });
    for (let i = 0; i < 9; i++) {
      bans.failed('203.0.113.9');
      now += 5000;
    }
    expect(bans.isBanned('203.0.113.9')).toBe(false);
    bans.failed('::ffff:203.0.113.9'); // the same host, as a dual-stack socket spells it
    expect(bans.isBanned('203.0.113.9')).toBe(true);
    expect(bans.list()).toEqual([{ address: '203.0.113.9', bannedAt: now, expiresAt: now + 600_000, failures: 10 }]);
    expect(bans.isBanned('203.0.113.10')).toBe(false);

    now += 599_999;
    expect(bans.isBanned('203.0.113.9')).toBe(true);
    now += 1;
    expect(bans.isBanned('203.0.113.9')).toBe(false);
    expect(bans.list()).toEqual([]);

    for (let i = 0; i < 10; i++) bans.failed('203.0.113.9');
    expect(bans.lift('203.0.113.9')).toBe(true);
    expect(bans.isBanned('203.0.113.9')).toBe(false);
    expect(bans.lift('203.0.113.9')).toBe(false);
    // Lifting forgets the failures too: one more mistake does not ban again.
    bans.failed('203.0.113.9');
    expect(bans.isBanned('203.0.113.9')).toBe(false);
  });

  it('counts only failures within the window', () => {
    let now = 0;
    const bans = new SourceBans({ now: () => now });
    for (let i = 0; i < 30; i++) {
      bans.failed('198.51.100.1');
      now += 7000; // 9 per 63 s: never 10 within 60 s
    }
    expect(bans.isBanned('198.51.100.1')).toBe(false);
  });

  it('keeps at most maxSources addresses, forgetting the least recently seen', () => {
    const bans = new SourceBans({ maxSources: 3, threshold: 2 });
    for (const address of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']) bans.failed(address);
    bans.failed('10.0.0.1'); // its first failure was dropped with the cap: this is a first again
    expect(bans.isBanned('10.0.0.1')).toBe(false);
    bans.failed('10.0.0.4');
    expect(bans.isBanned('10.0.0.4')).toBe(true);
    for (const address of ['10.0.1.1', '10.0.1.2', '10.0.1.3']) {
      bans.failed(address);
      bans.failed(address);
    }
    expect(bans.list().map((b) => b.address)).toEqual(['10.0.1.1', '10.0.1.2', '10.0.1.3']);
  });
});
