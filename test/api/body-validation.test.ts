import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../src/api/openapi.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';

/**
 * Request bodies are checked by the routes' JSON schemas
 * (src/api/body-schemas/) before a handler runs: a field that fails is 400
 * validation_failed naming it as the client spelled it (camelCase too), with
 * its path inside the body, and the message of its schema. JSON types are
 * never converted.
 */
describe('request bodies are validated by the route schemas', () => {
  let api: TestApi;
  let admin: string;
  beforeAll(async () => {
    api = await startTestApi('sqlite');
    admin = api.credentials.admin_key;
  });
  afterAll(() => api.close());

  const errorOf = async (method: 'POST' | 'PATCH' | 'PUT', url: string, body: unknown, key?: string) => {
    const res = await api.call(method, url, { body, ...(key ? { key } : {}) });
    expect(res.statusCode, res.body).toBe(400);
    return res.json().error as { code: string; message: string; field?: string };
  };

  it('names a field as the client spelled it, snake_case or camelCase', async () => {
    const number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470' } })).json();
    expect(await errorOf('PATCH', `/v1/numbers/${number.id}`, { routingUrl: 42 }))
      .toEqual({ code: 'validation_failed', message: 'routingUrl must be a string or null', field: 'routingUrl' });
    expect(await errorOf('PATCH', `/v1/numbers/${number.id}`, { routing_url: false }))
      .toEqual({ code: 'validation_failed', message: 'routing_url must be a string or null', field: 'routing_url' });
    expect(await errorOf('PATCH', '/v1/settings', { dailySpendLimit: true }))
      .toEqual({ code: 'validation_failed', message: 'dailySpendLimit must be an amount like "500.00" or null', field: 'dailySpendLimit' });
    expect(await errorOf('POST', '/v1/settings/signing-secret/rotate', { graceSeconds: -1 }))
      .toEqual({ code: 'validation_failed', message: 'graceSeconds must be a whole number from 0 to 604800', field: 'graceSeconds' });
  });

  it('refuses a field it does not know, naming it, at any depth (SPEC §14: a typo is not ignored)', async () => {
    expect(await errorOf('POST', '/v1/numbers', { routingURL: 'https://example.com/voice' }))
      .toEqual({ code: 'validation_failed', message: expect.stringContaining('routingURL is not a field of this request'), field: 'routingURL' });
    expect(await errorOf('PATCH', '/v1/settings', { daily_spend_limt: '10.00' })).toMatchObject({ field: 'daily_spend_limt' });
    expect(await errorOf('PUT', '/v1/admin/rates', { rates: [{ rate_per_minute: '1.00', prefx: '+254' }] }, admin)).toMatchObject({ field: 'rates[0].prefx' });
  });

  it('never converts a JSON type: a number is not a string, "3600" is not a whole number', async () => {
    expect(await errorOf('POST', '/v1/admin/workspaces', { name: 5 }, admin)).toEqual({ code: 'validation_failed', message: 'name must be a string', field: 'name' });
    expect(await errorOf('POST', '/v1/settings/signing-secret/rotate', { grace_seconds: '3600' }))
      .toEqual({ code: 'validation_failed', message: 'grace_seconds must be a whole number from 0 to 604800', field: 'grace_seconds' });
    expect(await errorOf('PATCH', '/v1/settings', { allow_private_callbacks: 'true' }))
      .toEqual({ code: 'validation_failed', message: 'allow_private_callbacks must be true or false', field: 'allow_private_callbacks' });
  });

  it('names a field inside the body by its path', async () => {
    const call = { from: '+254700000001', action_url: 'http://127.0.0.1:9/x' };
    expect(await errorOf('POST', '/v1/calls', { ...call, to: ['+254711222333', 5] })).toEqual({ code: 'validation_failed', message: 'to[1] must be a string', field: 'to[1]' });
    expect(await errorOf('POST', '/v1/calls', { ...call, to: '+254711222333', metadata: { team: 7 } }))
      .toEqual({ code: 'validation_failed', message: 'metadata.team must be a string of at most 500 characters', field: 'metadata.team' });
    expect(await errorOf('POST', '/v1/calls', { ...call, to: '+254711222333', metadata: { 'a b': 'x' } }))
      .toEqual({ code: 'validation_failed', message: 'metadata key \'a b\' must be 1-64 letters, digits, _ . or -', field: 'metadata' });
    expect(await errorOf('PUT', '/v1/admin/rates', [{ category: 'premium', rate_per_minute: '1.00' }], admin))
      .toEqual({ code: 'validation_failed', message: 'rates[0].category must be one of outbound, inbound, sip, recording', field: 'rates[0].category' });
    expect(await errorOf('PUT', '/v1/admin/rates', { rates: [{ category: 'sip', prefix: '' }] }, admin))
      .toEqual({ code: 'validation_failed', message: 'rates[0].rate_per_minute is required', field: 'rates[0].rate_per_minute' });
    expect(await errorOf('PUT', '/v1/admin/rates', [{ category: 'sip', prefix: '', ratePerMinute: 'cheap' }], admin))
      .toEqual({ code: 'validation_failed', message: 'rates[0].ratePerMinute must be an amount like "3.50"', field: 'rates[0].ratePerMinute' });
    expect(await errorOf('POST', '/v1/admin/numbers', { numbers: ['+254700000900', { number: '+254700000901', type: 'satellite' }] }, admin))
      .toEqual({ code: 'validation_failed', message: 'numbers[1].type must be one of mobile, landline, tollfree', field: 'numbers[1].type' });
  });

  it('a missing body is an empty object (its required fields are named); any other non-object is refused as a body', async () => {
    const none = await api.app.inject({ method: 'POST', url: '/v1/calls', headers: { authorization: `Bearer ${api.credentials.api_key}` } });
    expect(none.json().error).toEqual({ code: 'validation_failed', message: 'to is required (an E.164 number, a sip: URI, or an array of them)', field: 'to' });
    expect(await errorOf('POST', '/v1/webhooks', 'null')).toEqual({ code: 'validation_failed', message: 'url is required', field: 'url' });
    for (const body of ['"hello"', '[1,2]', '42']) {
      expect(await errorOf('POST', '/v1/numbers', body), body).toEqual({ code: 'validation_failed', message: 'the request body must be a JSON object', field: 'body' });
    }
    expect(await errorOf('PUT', '/v1/admin/rates', '"all of them"', admin)).toEqual({ code: 'validation_failed', message: 'send an array of rates (or {"rates":[…]})', field: 'body' });
    expect(await errorOf('PUT', '/v1/admin/rates', {}, admin)).toEqual({ code: 'validation_failed', message: 'send an array of rates (or {"rates":[…]})', field: 'rates' });
  });

  it('keeps each field\'s own message', async () => {
    expect(await errorOf('POST', '/v1/sip/credentials', { username: 'agent one', password: 'correct-horse' }))
      .toEqual({ code: 'validation_failed', message: 'username may hold letters, digits and . _ ~ - only', field: 'username' });
    expect(await errorOf('POST', '/v1/sip/credentials', { username: 'agent1', password: 'short' }))
      .toEqual({ code: 'validation_failed', message: 'password must be at least 8 characters', field: 'password' });
    expect(await errorOf('POST', '/v1/admin/workspaces', { name: '   ' }, admin)).toEqual({ code: 'validation_failed', message: 'name is required', field: 'name' });
    expect(await errorOf('PUT', '/v1/sandbox/phones/%2B254720000002', { answer: { after: 700 } }))
      .toEqual({ code: 'validation_failed', message: 'answer must be "immediately", {"after":N}, "busy", "no-answer" or "reject"', field: 'answer' });
    expect(await errorOf('POST', '/v1/sandbox/calls', { to: '+254700000001', script: 'wait' }))
      .toEqual({ code: 'validation_failed', message: 'script must be an array of steps', field: 'script' });
    expect(await errorOf('POST', '/v1/admin/trunks', { name: 'a', host: 'x.example.com', transport: 'sctp' }, admin))
      .toEqual({ code: 'validation_failed', message: 'transport must be udp, tcp or tls', field: 'transport' });
    expect(await errorOf('POST', '/v1/admin/workspaces/ws_x/credits', { reference: 'r' }, admin))
      .toEqual({ code: 'validation_failed', message: 'amount must be a positive amount of KES such as "500.00"', field: 'amount' });
  });

  it('a camelCase spelling is taken like its snake_case field', async () => {
    const created = await api.call('POST', '/v1/admin/trunks', { key: admin, body: { name: 'camel', host: 'sip.example.com', inboundAddresses: ['10.1.0.0/16'] } });
    expect(created.json()).toMatchObject({ inbound_addresses: ['10.1.0.0/16'], port: 5060, transport: 'udp' });
    const bad = await errorOf('PATCH', `/v1/admin/trunks/${created.json().id}`, { inboundAddresses: ['10.0.0.0/33'] }, admin);
    expect(bad).toMatchObject({ code: 'validation_failed', field: 'inboundAddresses' });
    const rates = (await api.call('GET', '/v1/admin/rates', { key: admin })).json().map((r: Record<string, string>) => ({ ...r }));
    const put = await api.call('PUT', '/v1/admin/rates', { key: admin, body: rates.map(({ rate_per_minute: rate, ...r }: Record<string, string>) => ({ ...r, ratePerMinute: rate })) });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toEqual(rates);
  });

  it('the document shows the schemas without what only the server reads, aliases said in the description', () => {
    const doc = buildOpenApiDocument('http://127.0.0.1:8080') as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, { description: string }>; required?: string[] } }> } }>> };
    const text = JSON.stringify(doc);
    expect(text).not.toContain('x-error-message');
    expect(text).not.toContain('x-alias-of');
    const numberBody = doc.paths['/v1/numbers/{id}']!['patch']!.requestBody!.content['application/json']!.schema;
    expect(Object.keys(numberBody.properties)).toEqual(['routing_url', 'status_url', 'fallback_url', 'friendly_name']);
    expect(numberBody.properties['routing_url']!.description).toMatch(/; also `routingUrl`$/);
    const rates = doc.paths['/v1/admin/rates']!['put']!.requestBody!.content['application/json']!.schema as unknown as { properties: { rates: { items: { required: string[] } } } };
    expect(rates.properties.rates.items.required).toEqual(['rate_per_minute']);
  });
});
