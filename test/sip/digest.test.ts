import { describe, expect, it } from 'vitest';
import { answerChallenge, DigestServer, digestResponse, parseChallenge, parseDatagram, type SipRequest } from '../../src/sip/index.js';

function register(authorization?: string): SipRequest {
  return parseDatagram(
    Buffer.from(
      [
        'REGISTER sip:sautikit.test SIP/2.0',
        'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKd1',
        'Max-Forwards: 70',
        'To: <sip:alice@sautikit.test>',
        'From: <sip:alice@sautikit.test>;tag=1',
        'Call-ID: digest-1',
        'CSeq: 1 REGISTER',
        ...(authorization ? [`Authorization: ${authorization}`] : []),
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    ),
  ) as SipRequest;
}

const lookup = async (user: string): Promise<string | undefined> => (user === 'alice' ? 'wonderland' : undefined);

describe('digest', () => {
  it('computes the RFC 2617 §3.5 MD5 example', () => {
    expect(
      digestResponse({
        algorithm: 'MD5', username: 'Mufasa', realm: 'testrealm@host.com', password: 'Circle Of Life',
        nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', cnonce: '0a4f113b', nc: '00000001', qop: 'auth',
        method: 'GET', uri: '/dir/index.html', body: Buffer.alloc(0),
      }),
    ).toBe('6629fae49393a05397450978507c4ef1');
  });

  it('computes the RFC 7616 §3.9.1 SHA-256 example', () => {
    expect(
      digestResponse({
        algorithm: 'SHA-256', username: 'Mufasa', realm: 'http-auth@example.org', password: 'Circle of Life',
        nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v', cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
        nc: '00000001', qop: 'auth', method: 'GET', uri: '/dir/index.html', body: Buffer.alloc(0),
      }),
    ).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it.each(['SHA-256', 'MD5'] as const)('accepts a correct %s answer and refuses its replay', async (algorithm) => {
    const server = new DigestServer({ realm: 'sautikit.test', algorithms: [algorithm] });
    const [header] = server.challenge();
    const challenge = parseChallenge(header!)!;
    expect(challenge).toMatchObject({ realm: 'sautikit.test', algorithm, qop: ['auth'], stale: false });
    const answered = register(answerChallenge(challenge, { username: 'alice', password: 'wonderland' }, register(), 'sip:sautikit.test', 1));
    expect(await server.verify(answered, lookup)).toEqual({ ok: true, username: 'alice' });
    expect(await server.verify(answered, lookup)).toMatchObject({ ok: false, reason: 'replay' });
    const next = register(answerChallenge(challenge, { username: 'alice', password: 'wonderland' }, register(), 'sip:sautikit.test', 2));
    expect(await server.verify(next, lookup)).toEqual({ ok: true, username: 'alice' });
  });

  it('refuses wrong passwords, unknown users, forged nonces and missing credentials', async () => {
    const server = new DigestServer({ realm: 'sautikit.test' });
    const challenge = parseChallenge(server.challenge()[0]!)!;
    const wrong = register(answerChallenge(challenge, { username: 'alice', password: 'nope' }, register(), 'sip:sautikit.test'));
    expect(await server.verify(wrong, lookup)).toMatchObject({ ok: false, reason: 'bad-response' });
    const unknown = register(answerChallenge(challenge, { username: 'mallory', password: 'x' }, register(), 'sip:sautikit.test'));
    expect(await server.verify(unknown, lookup)).toMatchObject({ ok: false, reason: 'unknown-user' });
    const forged = register(answerChallenge({ ...challenge, nonce: Buffer.from('1:abc').toString('base64url') }, { username: 'alice', password: 'wonderland' }, register(), 'sip:sautikit.test'));
    expect(await server.verify(forged, lookup)).toMatchObject({ ok: false, reason: 'bad-nonce' });
    expect(await server.verify(register(), lookup)).toMatchObject({ ok: false, reason: 'missing' });
    expect(await server.verify(register('NoOneKnowsThisScheme opaque-data=here'), lookup)).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('marks a correct answer to an expired nonce as stale', async () => {
    let now = 1_000_000;
    const server = new DigestServer({ realm: 'sautikit.test', nonceTtlMs: 1000, now: () => now });
    const challenge = parseChallenge(server.challenge()[0]!)!;
    now += 5000;
    const late = register(answerChallenge(challenge, { username: 'alice', password: 'wonderland' }, register(), 'sip:sautikit.test'));
    expect(await server.verify(late, lookup)).toEqual({ ok: false, stale: true, reason: 'bad-nonce' });
    expect(server.challenge(true)[0]).toContain('stale=true');
  });

  it('offers SHA-256 before MD5 (RFC 8760 §2.4)', () => {
    const values = new DigestServer({ realm: 'r' }).challenge();
    expect(values.map((v) => parseChallenge(v)!.algorithm)).toEqual(['SHA-256', 'MD5']);
  });
});
