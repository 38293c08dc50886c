import { expect, it, describe } from 'vitest';
import { randomBytes } from 'node:crypto';
import { internalLegMaxSkewMs, loadInternalLegKey, signInternalLeg, verifyInternalLeg, type InternalLegFields } from '../../src/engine/internal-leg-auth.js';
import { describeOnEachDialect } from '../helpers/each-dialect.js';

const now = new Date('2026-12-03T10:00:00.000Z');
const fields: InternalLegFields = { workspaceId: 'ws_1', room: 'standup: team\nA', callId: 'CA123', joinOptions: JSON.stringify({ muted: true, beep: false }) };
const lookup = (headers: Record<string, string>) => (name: string) =>
  Object.entries(headers).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];

describe('internal leg authentication', () => {
  const key = randomBytes(32);

  it('a signed INVITE passes and gives back the fields, whatever the header name case', () => {
    const headers = Object.fromEntries(Object.entries(signInternalLeg(key, fields, now)).map(([k, v]) => [k.toLowerCase(), v]));
    expect(verifyInternalLeg(key, lookup(headers), new Date(now.getTime() + 1000))).toEqual({ ok: true, fields });
  });

  it('changing any signed header, or signing with another key, fails the signature', () => {
    const headers = signInternalLeg(key, fields, now);
    for (const name of ['X-Sautikit-Workspace', 'X-Sautikit-Room', 'X-Sautikit-Call-Id', 'X-Sautikit-Join', 'X-Sautikit-Time']) {
      const forged = { ...headers, [name]: name === 'X-Sautikit-Time' ? String(now.getTime() + 1) : `${headers[name]}x` };
      expect(verifyInternalLeg(key, lookup(forged), now)).toEqual({ ok: false, reason: 'bad signature' });
    }
    expect(verifyInternalLeg(randomBytes(32), lookup(headers), now)).toEqual({ ok: false, reason: 'bad signature' });
  });

  it('a stale or missing time, a missing header or bad encoding is refused with its reason', () => {
    const headers = signInternalLeg(key, fields, now);
    expect(verifyInternalLeg(key, lookup(headers), new Date(now.getTime() + internalLegMaxSkewMs + 1))).toMatchObject({ ok: false, reason: expect.stringContaining('away from now') });
    const { 'X-Sautikit-Signature': _signature, ...unsigned } = headers;
    expect(verifyInternalLeg(key, lookup(unsigned), now)).toEqual({ ok: false, reason: 'missing X-Sautikit-Signature' });
    expect(verifyInternalLeg(key, lookup({ ...headers, 'X-Sautikit-Time': 'soon' }), now)).toMatchObject({ ok: false, reason: expect.stringContaining('not a number') });
    expect(verifyInternalLeg(key, lookup({ ...headers, 'X-Sautikit-Room': '%E0%A4%A' }), now)).toEqual({ ok: false, reason: 'a header is not valid percent-encoding' });
  });
});

describeOnEachDialect('internal leg key', (testStore) => {
  it('nodes loading the key at once all get the one created first', async () => {
    const store = testStore();
    const keys = await Promise.all(Array.from({ length: 4 }, () => loadInternalLegKey(store.systemState)));
    expect(keys[0]).toHaveLength(32);
    expect(new Set(keys.map((k) => k.toString('hex'))).size).toBe(1);
    expect((await loadInternalLegKey(store.systemState)).equals(keys[0]!)).toBe(true);
  });
});
