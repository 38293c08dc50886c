import { afterEach, describe, expect, it } from 'vitest';
import { DigestServer, isSipUri, parseDatagram, Registrar, SipUserAgent, type SipRequest } from '../../src/sip/index.js';
import { FAST_TIMERS } from './helpers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const lookup = async (user: string): Promise<string | undefined> => ({ alice: 'wonderland', bob: 'builder' })[user];

function register(contact: string, extra: string[] = [], cseq = 1, callId = 'reg-1'): SipRequest {
  return parseDatagram(
    Buffer.from(
      [
        'REGISTER sip:sautikit.test SIP/2.0',
        'Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKreg' + cseq,
        'Max-Forwards: 70',
        'To: <sip:alice@sautikit.test>',
        'From: <sip:alice@sautikit.test>;tag=1',
        `Call-ID: ${callId}`,
        `CSeq: ${cseq} REGISTER`,
        ...(contact ? [`Contact: ${contact}`] : []),
        ...extra,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    ),
  ) as SipRequest;
}

const SOURCE = { address: '198.51.100.7', port: 40123 };

describe('registrar', () => {
  it('stores several contacts per AOR with their expiry and lists them in the 200', async () => {
    let now = 1_000_000;
    const registrar = new Registrar({ realm: 'sautikit.test', now: () => now });
    const first = await registrar.handle(register('<sip:alice@198.51.100.7:40123>;expires=120'), SOURCE, 'udp');
    expect(first.status).toBe(200);
    const second = await registrar.handle(register('<sip:alice@198.51.100.7:40999>', ['Expires: 600'], 2), SOURCE, 'udp');
    expect(second.headers.getAll('Contact')).toHaveLength(2);
    expect(registrar.lookup('sip:alice@sautikit.test').map((b) => isSipUri(b.contact) && b.contact.port)).toEqual([40123, 40999]);
    now += 121_000;
    expect(registrar.lookup('sip:alice@sautikit.test')).toHaveLength(1);
  });

  it('routes to the source address when the contact is private (NAT)', async () => {
    const registrar = new Registrar({ realm: 'sautikit.test' });
    await registrar.handle(register('<sip:alice@10.0.0.5:5060;ob>'), SOURCE, 'udp');
    const [binding] = registrar.lookup('sip:alice@sautikit.test');
    expect(binding!.target).toMatchObject({ host: '198.51.100.7', port: 40123, user: 'alice' });
    expect(binding!.contact).toMatchObject({ host: '10.0.0.5', port: 5060 });
  });

  it('removes one binding with expires=0 and all with * and Expires: 0', async () => {
    const registrar = new Registrar({ realm: 'sautikit.test' });
    await registrar.handle(register('<sip:alice@198.51.100.7:1>, <sip:alice@198.51.100.7:2>'), SOURCE, 'udp');
    await registrar.handle(register('<sip:alice@198.51.100.7:1>;expires=0', [], 2), SOURCE, 'udp');
    expect(registrar.lookup('sip:alice@sautikit.test')).toHaveLength(1);
    expect((await registrar.handle(register('*', [], 3), SOURCE, 'udp')).status).toBe(400); // * needs Expires: 0
    expect((await registrar.handle(register('*', ['Expires: 0'], 4), SOURCE, 'udp')).status).toBe(200);
    expect(registrar.lookup('sip:alice@sautikit.test')).toHaveLength(0);
  });

  it('hands each change to persist() before answering, and restore() brings bindings back without events', async () => {
    const written: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const registrar = new Registrar({
      realm: 'sautikit.test',
      persist: async (changes) => {
        await gate;
        written.push(...changes.map((c) => (c.kind === 'cleared' ? `cleared ${c.aor}` : `${c.kind} ${c.binding.callId}/${c.binding.cseq}`)));
      },
    });
    let answered = false;
    const pending = registrar.handle(register('<sip:alice@198.51.100.7:1>, <sip:alice@198.51.100.7:2>'), SOURCE, 'udp').then((r) => { answered = true; return r; });
    await new Promise((r) => setImmediate(r));
    expect(answered).toBe(false);
    release();
    expect((await pending).status).toBe(200);
    await registrar.handle(register('<sip:alice@198.51.100.7:1>;expires=0', [], 2), SOURCE, 'udp');
    const saved = registrar.lookup('sip:alice@sautikit.test');
    await registrar.handle(register('*', ['Expires: 0'], 3), SOURCE, 'udp');
    expect(written).toEqual(['registered reg-1/1', 'registered reg-1/1', 'unregistered reg-1/1', 'cleared sip:alice@sautikit.test']);

    const restored = new Registrar({ realm: 'sautikit.test' });
    const events: string[] = [];
    restored.on('registered', () => events.push('registered'));
    const expired = { ...saved[0]!, contact: { ...saved[0]!.contact }, expiresAt: Date.now() - 1 };
    if (isSipUri(expired.contact)) expired.contact.port = 3;
    restored.restore([...saved, expired]);
    expect(restored.lookup('sip:alice@sautikit.test')).toEqual(saved);
    expect(events).toEqual([]);
  });

  it('refuses too brief registrations with 423 and out-of-order ones with 500', async () => {
    const registrar = new Registrar({ realm: 'sautikit.test', minExpires: 60 });
    const brief = await registrar.handle(register('<sip:alice@198.51.100.7:1>;expires=10'), SOURCE, 'udp');
    expect(brief.status).toBe(423);
    expect(brief.headers.get('Min-Expires')).toBe('60');
    await registrar.handle(register('<sip:alice@198.51.100.7:1>', [], 5), SOURCE, 'udp');
    expect((await registrar.handle(register('<sip:alice@198.51.100.7:1>', [], 4), SOURCE, 'udp')).status).toBe(500);
  });

  it('answers a query (no Contact) with the current bindings', async () => {
    const registrar = new Registrar({ realm: 'sautikit.test' });
    await registrar.handle(register('<sip:alice@198.51.100.7:1>'), SOURCE, 'udp');
    const query = await registrar.handle(register('', [], 2), SOURCE, 'udp');
    expect(query.status).toBe(200);
    expect(query.headers.getAll('Contact')).toHaveLength(1);
  });

  it('challenges, then registers a user through SipUserAgent.register over UDP and TCP', async () => {
    const registrar = new Registrar({ realm: 'sautikit.test', credentials: lookup });
    const server = new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }, { protocol: 'tcp', host: '127.0.0.1', port: 0 }], registrar, timers: FAST_TIMERS });
    const phone = new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }, { protocol: 'tcp', host: '127.0.0.1', port: 0 }], timers: FAST_TIMERS });
    await server.start();
    await phone.start();
    cleanups.push(() => server.close(), () => phone.close());
    const udp = `sip:127.0.0.1:${server.localAddress('udp').port}`;
    const tcp = `sip:127.0.0.1:${server.localAddress('tcp').port};transport=tcp`;
    await expect(phone.register({ registrar: udp, aor: 'sip:alice@sautikit.test' })).rejects.toMatchObject({ status: 401 });
    await expect(phone.register({ registrar: udp, aor: 'sip:alice@sautikit.test', auth: { username: 'bob', password: 'builder' } })).rejects.toMatchObject({ status: 403 });
    const result = await phone.register({ registrar: udp, aor: 'sip:alice@sautikit.test', auth: { username: 'alice', password: 'wonderland' }, expires: 300 });
    expect(result.expires).toBe(300);
    const [binding] = registrar.lookup('sip:alice@sautikit.test');
    expect(binding!.source.port).toBe(phone.localAddress('udp').port);
    await phone.register({ registrar: tcp, aor: 'sip:alice@sautikit.test', auth: { username: 'alice', password: 'wonderland' }, expires: 0 });
    expect(registrar.lookup('sip:alice@sautikit.test')).toHaveLength(1); // the UDP contact remains; the TCP one was never there
    await phone.register({ registrar: udp, aor: 'sip:alice@sautikit.test', auth: { username: 'alice', password: 'wonderland' }, expires: 0 });
    expect(registrar.lookup('sip:alice@sautikit.test')).toHaveLength(0);
  });

  it('retries once more when the server calls the nonce stale (RFC 2617 §3.2.1)', async () => {
    let calls = 0;
    // The clock jumps past the nonce lifetime after the first challenge, once.
    const now = (): number => (calls++ === 0 ? 1_000_000 : 1_100_000);
    const registrar = new Registrar({ realm: 'sautikit.test', credentials: lookup, digest: new DigestServer({ realm: 'sautikit.test', nonceTtlMs: 1000, now }) });
    const server = new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], registrar, timers: FAST_TIMERS });
    const phone = new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], timers: FAST_TIMERS });
    await server.start();
    await phone.start();
    cleanups.push(() => server.close(), () => phone.close());
    const result = await phone.register({ registrar: `sip:127.0.0.1:${server.localAddress().port}`, aor: 'sip:alice@sautikit.test', auth: { username: 'alice', password: 'wonderland' } });
    expect(result.response.status).toBe(200);
    expect(result.response.cseq.seq).toBe(3);
  });
});
