import { expect, it } from 'vitest';
import { describeApiOnEachDialect } from '../helpers/each-dialect.js';

describeApiOnEachDialect('admin trunks API', (testApi) => {
  it('creates, lists, updates and deletes a trunk; the password is never shown', async () => {
    const api = testApi();
    const admin = api.credentials.admin_key;
    const created = await api.call('POST', '/v1/admin/trunks', { key: admin, body: {
      name: 'safaricom', host: 'sip.carrier.example.com', port: 5060, transport: 'udp', username: 'acme', password: 's3cret',
      prefixes: ['+254'], inbound_addresses: ['198.51.100.7', '10.0.0.0/24'], options_ping: 0,
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
      [{ name: 'a', host: 'x.example.com', register: 'yes' }, 'register'],
      [{ name: 'a', host: 'x.example.com', register: true }, 'username'],
      [{ name: 'a', host: 'x.example.com', auth_username: 7 }, 'auth_username'],
      [{ name: 'a', host: 'x.example.com', realm: ['x'] }, 'realm'],
      [{ name: 'a', host: 'x.example.com', register_expires: 30 }, 'register_expires'],
      [{ name: 'a', host: 'x.example.com', priority: -1 }, 'priority'],
      [{ name: 'a', host: 'x.example.com', answer_timeout: 0 }, 'answer_timeout'],
      [{ name: 'a', host: 'x.example.com', options_ping: 1.5 }, 'options_ping'],
      [{ name: 'a', host: 'x.example.com', country_code: '0254' }, 'country_code'],
      [{ name: 'a', host: 'x.example.com', number_format: 'local' }, 'number_format'],
      [{ name: 'a', host: 'x.example.com', tech_prefix: '12 34' }, 'tech_prefix'],
      [{ name: 'a', host: 'x.example.com', from_domain: 'bad domain' }, 'from_domain'],
      [{ name: 'a', host: 'x.example.com', send_pai: 1 }, 'send_pai'],
    ];
    for (const [body, field] of cases) {
      const res = await api.call('POST', '/v1/admin/trunks', { key: admin, body });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'validation_failed', field });
    }
  });

  it('shows the carrier fields with their defaults, and registration and health live', async () => {
    const api = testApi();
    const admin = api.credentials.admin_key;
    // Port 9 (discard) on loopback: nothing answers there, and nothing leaves the machine.
    const plain = (await api.call('POST', '/v1/admin/trunks', { key: admin, body: { name: 'plain', host: '127.0.0.1', port: 9, options_ping: 0 } })).json();
    expect(plain).toMatchObject({
      priority: 0, answer_timeout: 5, register: false, auth_username: null, realm: null, register_expires: 3600, options_ping: 0, country_code: '254',
      number_format: 'e164', tech_prefix: null, from_domain: null, send_pai: false,
      registration: { status: 'disabled', expires_at: null, last_error: null }, health: { status: 'unknown', last_reply_at: null },
    });
    const full = await api.call('POST', '/v1/admin/trunks', { key: admin, body: {
      name: 'full', host: '127.0.0.1', port: 9, username: '254700000001', password: 'pw', auth_username: 'acme-auth', realm: 'carrier.example',
      register_expires: 600, priority: 7, answer_timeout: 3, options_ping: 0, country_code: '+255', number_format: 'national', tech_prefix: '12#',
      from_domain: 'Acme.Example.com', send_pai: true,
    } });
    expect(full.statusCode, full.body).toBe(201);
    expect(full.json()).toMatchObject({
      auth_username: 'acme-auth', realm: 'carrier.example', register_expires: 600, priority: 7, answer_timeout: 3, country_code: '255',
      number_format: 'national', tech_prefix: '12#', from_domain: 'acme.example.com', send_pai: true,
    });
    const id = full.json().id as string;
    // Turning registration on for a trunk nobody answers: it registers, then fails with the reason (a 32 s UDP transaction is not waited for here).
    const patched = await api.call('PATCH', `/v1/admin/trunks/${id}`, { key: admin, body: { register: true, number_format: 'international', tech_prefix: '' } });
    expect(patched.json()).toMatchObject({ register: true, number_format: 'international', tech_prefix: null, registration: { status: 'registering' } });
    const unregisterable = await api.call('PATCH', `/v1/admin/trunks/${plain.id as string}`, { key: admin, body: { register: true } });
    expect(unregisterable.json().error).toMatchObject({ code: 'validation_failed', field: 'username' });
    expect((await api.call('GET', '/v1/admin/trunks', { key: admin })).json().map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(['full', 'plain']));
    expect((await api.call('DELETE', `/v1/admin/trunks/${id}`, { key: admin })).statusCode).toBe(204);
  });
});
