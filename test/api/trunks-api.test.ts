import { expect, it } from 'vitest';
import { describeApiOnEachDialect } from '../helpers/each-dialect.js';

describeApiOnEachDialect('admin trunks API', (testApi) => {
  it('creates, lists, updates and deletes a trunk; the password is never shown', async () => {
    const api = testApi();
    const admin = api.credentials.admin_key;
    const created = await api.call('POST', '/v1/admin/trunks', { key: admin, body: {
      name: 'safaricom', host: 'sip.carrier.example.com', port: 5060, transport: 'udp', username: 'acme', password: 's3cret',
      prefixes: ['+254'], inbound_addresses: ['198.51.100.7', '10.0.0.0/24'],
    } });
    expect(created.statusCode).toBe(201);
    const trunk = created.json();
    expect(trunk).toMatchObject({ id: expect.stringMatching(/^trk_/), name: 'safaricom', port: 5060, transport: 'udp', username: 'acme', password_set: true, prefixes: ['+254'], inbound_addresses: ['198.51.100.7', '10.0.0.0/24'] });
    expect(JSON.stringify(trunk)).not.toContain('s3cret');
    expect((await api.call('POST', '/v1/admin/trunks', { key: admin, body: { name: 'safaricom', host: 'x.example.com' } })).json().error.code).toBe('already_exists');
    const patched = await api.call('PATCH', `/v1/admin/trunks/${trunk.id}`, { key: admin, body: { prefixes: ['+25471', '+25472'], transport: 'tcp' } });
    expect(patched.json()).toMatchObject({ prefixes: ['+25471', '+25472'], transport: 'tcp', host: 'sip.carrier.example.com' });
    expect((await api.call('GET', '/v1/admin/trunks', { key: admin })).json()).toHaveLength(1);
    expect((await api.call('GET', `/v1/admin/trunks/${trunk.id}`)).statusCode).toBe(403);
    expect((await api.call('DELETE', `/v1/admin/trunks/${trunk.id}`, { key: admin })).statusCode).toBe(204);
    // SIP over TLS (SPEC §13) defaults to port 5061 (RFC 3261 §26.2).
    const tls = await api.call('POST', '/v1/admin/trunks', { key: admin, body: { name: 'tls-carrier', host: 'sip.carrier.example.com', transport: 'tls' } });
    expect(tls.json()).toMatchObject({ transport: 'tls', port: 5061 });
    expect((await api.call('GET', `/v1/admin/trunks/${trunk.id}`, { key: admin })).statusCode).toBe(404);
  });

  it('validates every field', async () => {
    const api = testApi();
    const admin = api.credentials.admin_key;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ host: 'x.example.com' }, 'name'],
      [{ name: 'a', host: 'bad host!' }, 'host'],
      [{ name: 'a', host: 'x.example.com', port: 70000 }, 'port'],
      [{ name: 'a', host: 'x.example.com', transport: 'sctp' }, 'transport'],
      [{ name: 'a', host: 'x.example.com', prefixes: ['254'] }, 'prefixes'],
      [{ name: 'a', host: 'x.example.com', inbound_addresses: ['10.0.0.0/33'] }, 'inbound_addresses'],
      [{ name: 'a', host: 'x.example.com', username: 'u' }, 'password'],
    ];
    for (const [body, field] of cases) {
      const res = await api.call('POST', '/v1/admin/trunks', { key: admin, body });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'validation_failed', field });
    }
  });
});
