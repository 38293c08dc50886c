import { describe, expect, it } from 'vitest';
import { verifySautikitSignature } from '../../src/index.js';
import { computeSignature, signBody, signedHeaders } from '../../src/webhooks/signer.js';

describe('signatures', () => {
  const secret = 'whsec_test_secret';
  const body = '{"id":"evt_1","type":"call.answered","data":{"call_id":"call_1"}}';
  const now = new Date('2026-11-21T10:00:00Z');

  it('signs "<t>.<raw body>" with HMAC-SHA256 in the SPEC §9 header', () => {
    const header = signBody(body, [secret], now);
    const t = Math.floor(now.getTime() / 1000);
    expect(header).toBe(`t=${t},v1=${computeSignature(secret, t, body)}`);
    expect(computeSignature(secret, t, body)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('verifySautikitSignature() accepts the untouched body within 5 minutes', () => {
    const header = signBody(body, [secret], now);
    expect(verifySautikitSignature(body, header, secret, { now: new Date(now.getTime() + 299_000) })).toEqual({ ok: true, timestamp: now.getTime() / 1000 });
    expect(verifySautikitSignature(Buffer.from(body), header, secret, { now })).toMatchObject({ ok: true });
  });

  it('refuses a tampered body, an old timestamp, a wrong secret and a malformed header', () => {
    const header = signBody(body, [secret], now);
    expect(verifySautikitSignature(body.replace('call_1', 'call_2'), header, secret, { now })).toEqual({ ok: false, reason: 'signature_mismatch' });
    expect(verifySautikitSignature(body, header, secret, { now: new Date(now.getTime() + 301_000) })).toEqual({ ok: false, reason: 'timestamp_too_old' });
    expect(verifySautikitSignature(body, header, 'whsec_other', { now })).toEqual({ ok: false, reason: 'signature_mismatch' });
    expect(verifySautikitSignature(body, undefined, secret, { now })).toEqual({ ok: false, reason: 'missing_header' });
    expect(verifySautikitSignature(body, 't=abc,v1=zz', secret, { now })).toEqual({ ok: false, reason: 'malformed_header' });
    // A replayed header with a forged timestamp no longer matches the signature.
    const t = Math.floor(now.getTime() / 1000);
    const forged = header.replace(`t=${t}`, `t=${t + 600}`);
    expect(verifySautikitSignature(body, forged, secret, { now: new Date(now.getTime() + 600_000) })).toEqual({ ok: false, reason: 'signature_mismatch' });
  });

  it('during a rotation both the new and the old secret verify', () => {
    const header = signBody(body, ['whsec_new', 'whsec_old'], now);
    expect(header.split(',').filter((p) => p.startsWith('v1='))).toHaveLength(2);
    expect(verifySautikitSignature(body, header, 'whsec_new', { now }).ok).toBe(true);
    expect(verifySautikitSignature(body, header, 'whsec_old', { now }).ok).toBe(true);
    expect(verifySautikitSignature(body, header, ['whsec_x', 'whsec_old'], { now }).ok).toBe(true);
  });

  it('signedHeaders() carries the event id and the attempt number', () => {
    const headers = signedHeaders({ rawBody: body, secrets: [secret], eventId: 'evt_1', attempt: 3, now });
    expect(headers).toMatchObject({ 'sautikit-event-id': 'evt_1', 'sautikit-delivery-attempt': '3', 'content-type': 'application/json' });
  });
});
