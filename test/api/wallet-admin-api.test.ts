import { expect, it } from 'vitest';
import { describeApiOnEachDialect } from '../helpers/each-dialect.js';

describeApiOnEachDialect('wallet, rates, settings and admin API', (testApi) => {
  const admin = () => testApi().credentials.admin_key;

  it('GET /v1/wallet shows the first-start sandbox credit', async () => {
    const api = testApi();
    const res = await api.call('GET', '/v1/wallet');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ balance: '1000.00', currency: 'KES', reserved: '0.00', available: '1000.00' });
    const txns = (await api.call('GET', '/v1/wallet/transactions')).json();
    expect(txns).toEqual([expect.objectContaining({ type: 'credit', amount: '1000.00', currency: 'KES', reference: 'sandbox balance' })]);
  });

  it('POST /v1/admin/workspaces/{id}/credits tops up once per Idempotency-Key', async () => {
    const api = testApi();
    const url = `/v1/admin/workspaces/${api.credentials.workspace_id}/credits`;
    const first = await api.call('POST', url, { key: admin(), body: { amount: '250.50', reference: 'mpesa-QWE123' }, headers: { 'idempotency-key': 'topup-1' } });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ amount: '250.50', balance: '1250.50', reference: 'mpesa-QWE123' });
    const replay = await api.call('POST', url, { key: admin(), body: { reference: 'mpesa-QWE123', amount: '250.50' }, headers: { 'idempotency-key': 'topup-1' } });
    expect(replay.statusCode).toBe(201);
    expect(replay.json()).toEqual(first.json());
    const conflict = await api.call('POST', url, { key: admin(), body: { amount: '999.00' }, headers: { 'idempotency-key': 'topup-1' } });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().error.code).toBe('idempotency_conflict');
    expect((await api.call('GET', '/v1/wallet')).json().balance).toBe('1250.50');
    const bad = await api.call('POST', url, { key: admin(), body: { amount: '-5' } });
    expect(bad.json().error).toMatchObject({ code: 'validation_failed', field: 'amount' });
  });

  it('GET /v1/rates answers the longest-prefix rate', async () => {
    const api = testApi();
    const mobile = await api.call('GET', '/v1/rates?to=%2B254712345678');
    expect(mobile.json()).toMatchObject({ to: '+254712345678', category: 'outbound', prefix: '+25471', rate_per_minute: '3.50', currency: 'KES' });
    expect((await api.call('GET', '/v1/rates?to=+254733000001')).json()).toMatchObject({ prefix: '+25473', description: 'Kenya mobile - Airtel' });
    expect((await api.call('GET', '/v1/rates?to=%2B254201234567')).json()).toMatchObject({ prefix: '+25420', rate_per_minute: '2.00' });
    expect((await api.call('GET', '/v1/rates?to=sip:agent@pbx.example.com')).json()).toMatchObject({ category: 'sip', rate_per_minute: '0.20' });
    expect((await api.call('GET', '/v1/rates?to=hello')).json().error).toMatchObject({ code: 'validation_failed', field: 'to' });
  });

  it('PUT /v1/admin/rates replaces the table and validates each rate', async () => {
    const api = testApi();
    const before = (await api.call('GET', '/v1/admin/rates', { key: admin() })).json();
    const bad = await api.call('PUT', '/v1/admin/rates', { key: admin(), body: [{ category: 'outbound', prefix: '254', rate_per_minute: '1.00' }] });
    expect(bad.json().error).toMatchObject({ code: 'validation_failed', field: 'rates[0].prefix' });
    const edited = before.map((r: Record<string, string>) => (r['prefix'] === '+25471' ? { ...r, rate_per_minute: '3.75' } : r));
    const put = await api.call('PUT', '/v1/admin/rates', { key: admin(), body: { rates: edited } });
    expect(put.statusCode).toBe(200);
    expect((await api.call('GET', '/v1/rates?to=%2B254712345678')).json().rate_per_minute).toBe('3.75');
    expect((await api.call('GET', '/v1/admin/rates')).statusCode).toBe(403);
  });

  it('PATCH /v1/settings sets allow-lists and the spend limit, refusing bad patterns', async () => {
    const api = testApi();
    expect((await api.call('GET', '/v1/settings')).json()).toEqual({
      allowed_destinations: ['+254'], allowed_callback_hosts: [], allow_private_callbacks: true, daily_spend_limit: null,
    });
    const res = await api.call('PATCH', '/v1/settings', { body: { allowed_destinations: ['+254', '+255', 'sip:*@pbx.example.com'], dailySpendLimit: '500.00' } });
    expect(res.json()).toMatchObject({ allowed_destinations: ['+254', '+255', 'sip:*@pbx.example.com'], daily_spend_limit: '500.00' });
    const bad = await api.call('PATCH', '/v1/settings', { body: { allowed_destinations: ['kenya'] } });
    expect(bad.json().error).toMatchObject({ code: 'validation_failed', field: 'allowed_destinations' });
    await api.call('PATCH', '/v1/settings', { body: { allowed_callback_hosts: ['hooks.example.com'], allow_private_callbacks: false } });
    const claim = await api.call('POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: 'https://other.example.com/x' } });
    expect(claim.statusCode).toBe(403);
    expect(claim.json().error).toMatchObject({ code: 'callback_url_not_allowed', field: 'routing_url' });
    await api.call('PATCH', '/v1/settings', { body: { allowed_callback_hosts: [], allow_private_callbacks: true } });
  });

  it('admin workspaces and keys: create, list, revoke at once', async () => {
    const api = testApi();
    const created = await api.call('POST', '/v1/admin/workspaces', { key: admin(), body: { name: 'Jambo Support' } });
    expect(created.statusCode).toBe(201);
    const ws = created.json();
    expect(ws).toMatchObject({ id: expect.stringMatching(/^ws_/), name: 'Jambo Support', api_key: expect.stringMatching(/^sk_live_/), signing_secret: expect.stringMatching(/^whsec_/) });
    const key2 = await api.call('POST', `/v1/admin/workspaces/${ws.id}/keys`, { key: admin() });
    expect(key2.statusCode).toBe(201);
    const { id: keyId, key } = key2.json();
    expect((await api.call('GET', '/v1/wallet', { key })).json().balance).toBe('0.00');
    expect((await api.call('DELETE', `/v1/admin/keys/${keyId}`, { key: admin() })).statusCode).toBe(204);
    const revoked = await api.call('GET', '/v1/wallet', { key });
    expect(revoked.statusCode).toBe(401);
    expect(revoked.json().error.code).toBe('unauthorized');
    const list = (await api.call('GET', '/v1/admin/workspaces', { key: admin() })).json();
    expect(list.map((w: { name: string }) => w.name)).toEqual(expect.arrayContaining(['Default workspace', 'Jambo Support']));
    expect((await api.call('POST', '/v1/admin/workspaces', { key: admin(), body: {} })).json().error).toMatchObject({ code: 'validation_failed', field: 'name' });
    expect((await api.call('POST', `/v1/admin/workspaces/ws_nope/keys`, { key: admin() })).statusCode).toBe(404);
  });

  it('POST /v1/admin/numbers adds to the inventory; workspace keys may not', async () => {
    const api = testApi();
    const res = await api.call('POST', '/v1/admin/numbers', { key: admin(), body: { numbers: ['+254709000001', '254709000002', { number: '+254209000001', type: 'landline' }] } });
    expect(res.json()).toEqual({ added: 3, already_present: 0 });
    expect((await api.call('POST', '/v1/admin/numbers', { key: admin(), body: { numbers: ['+254709000001'] } })).json()).toEqual({ added: 0, already_present: 1 });
    expect((await api.call('POST', '/v1/admin/numbers', { key: admin(), body: { numbers: ['+2547', 'x'] } })).json().error).toMatchObject({ field: 'numbers[0]' });
    const forbidden = await api.call('POST', '/v1/admin/numbers', { body: { numbers: ['+254709000003'] } });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().error.code).toBe('forbidden');
    expect((await api.call('GET', '/v1/numbers/available?prefix=%2B2547090')).json()).toHaveLength(2);
  });

  it('requests without a valid key are 401 with the JSON error', async () => {
    const api = testApi();
    for (const key of [null, 'sk_live_wrong']) {
      const res = await api.call('GET', '/v1/numbers', { key });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    }
    expect((await api.call('GET', '/v1/numbers', { key: admin() })).statusCode).toBe(403);
    const unknown = await api.call('GET', '/v1/nothing-here');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('route_not_found');
  });
});
