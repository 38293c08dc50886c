import { expect, it } from 'vitest';
import { describeApiOnEachDialect } from '../helpers/each-dialect.js';

describeApiOnEachDialect('numbers API', (testApi) => {

  it('GET /v1/numbers/available lists the sandbox inventory by prefix ("+" may arrive as a space)', async () => {
    const api = testApi();
    const res = await api.call('GET', '/v1/numbers/available?prefix=+25470000000&limit=3');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual([
      { number: '+254700000001', type: 'mobile' }, { number: '+254700000002', type: 'mobile' }, { number: '+254700000003', type: 'mobile' },
    ]);
  });

  it('the IVR page flow: POST /v1/numbers claims, then its PATCH curl sets the routing_url', async () => {
    const api = testApi();
    const claim = await api.call('POST', '/v1/numbers', { body: { prefix: '+25470' } });
    expect(claim.statusCode).toBe(201);
    const number = claim.json();
    expect(number).toMatchObject({ id: expect.stringMatching(/^num_/), number: expect.stringMatching(/^\+25470/), routing_url: null });
    // The seed's curl: PATCH /v1/numbers/{number_id} with {"routing_url": "https://yourapp.example.com/ivr/welcome"}
    const patch = await api.call('PATCH', `/v1/numbers/${number.id}`, { body: { routing_url: 'https://yourapp.example.com/ivr/welcome' } });
    expect(patch.statusCode).toBe(200);
    expect(patch.json()).toMatchObject({ id: number.id, routing_url: 'https://yourapp.example.com/ivr/welcome' });
    const got = await api.call('GET', `/v1/numbers/${number.id}`);
    expect(got.json().routing_url).toBe('https://yourapp.example.com/ivr/welcome');
    const byNumber = await api.call('GET', `/v1/numbers/${encodeURIComponent(number.number)}`);
    expect(byNumber.json().id).toBe(number.id);
  });

  it('POST /v1/numbers accepts camelCase spellings and a given number', async () => {
    const api = testApi();
    const res = await api.call('POST', '/v1/numbers', { body: { number: '+254700000050', routingUrl: 'http://127.0.0.1:3000/ivr', statusUrl: 'http://127.0.0.1:3000/status' } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ number: '+254700000050', routing_url: 'http://127.0.0.1:3000/ivr', status_url: 'http://127.0.0.1:3000/status' });
    const again = await api.call('POST', '/v1/numbers', { body: { number: '+254700000050' } });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({ code: 'number_not_available', field: 'number' });
  });

  it('a bad body gets a 400 with a code and the field', async () => {
    const api = testApi();
    const res = await api.call('POST', '/v1/numbers', { body: { number: 'not-a-number' } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'validation_failed', message: expect.any(String), field: 'number' } });
    const badUrl = await api.call('POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: 'ftp://files.example.com/x' } });
    expect(badUrl.statusCode).toBe(403);
    expect(badUrl.json().error).toMatchObject({ code: 'callback_url_not_allowed', field: 'routing_url' });
    const notJson = await api.call('POST', '/v1/numbers', { body: '{"prefix": ' });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().error).toMatchObject({ code: 'invalid_json', field: 'body' });
    const mine = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470' } })).json();
    const wrongType = await api.call('PATCH', `/v1/numbers/${mine.id}`, { body: { routingUrl: 42 } });
    expect(wrongType.statusCode).toBe(400);
    expect(wrongType.json().error).toMatchObject({ code: 'validation_failed', field: 'routingUrl' });
  });

  it('another workspace\'s number is 404, never 403', async () => {
    const api = testApi();
    const mine = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470' } })).json();
    const created = await api.call('POST', '/v1/admin/workspaces', { key: api.credentials.admin_key, body: { name: 'Other Ltd' } });
    expect(created.statusCode).toBe(201);
    const otherKey = created.json().api_key as string;
    for (const [method, body] of [['GET', undefined], ['PATCH', { routing_url: 'https://evil.example.com/x' }], ['DELETE', undefined]] as const) {
      const res = await api.call(method, `/v1/numbers/${mine.id}`, { key: otherKey, ...(body ? { body } : {}) });
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('not_found');
    }
    expect((await api.call('GET', '/v1/numbers', { key: otherKey })).json()).toEqual([]);
  });

  it('DELETE /v1/numbers/{id} releases the number back to the inventory', async () => {
    const api = testApi();
    const n = (await api.call('POST', '/v1/numbers', { body: { number: '+254700000077' } })).json();
    expect((await api.call('DELETE', `/v1/numbers/${n.id}`)).statusCode).toBe(204);
    expect((await api.call('GET', `/v1/numbers/${n.id}`)).statusCode).toBe(404);
    const available = (await api.call('GET', '/v1/numbers/available?prefix=%2B254700000077')).json();
    expect(available).toEqual([{ number: '+254700000077', type: 'mobile' }]);
  });
});
