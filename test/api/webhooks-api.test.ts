import { expect, it } from 'vitest';
import { describeApiOnEachDialect } from '../helpers/each-dialect.js';

describeApiOnEachDialect('webhooks API', (testApi) => {

  it('POST /v1/webhooks shows the secret once; GET lists without it; DELETE removes', async () => {
    const api = testApi();
    const created = await api.call('POST', '/v1/webhooks', { body: { url: 'https://hooks.example.com/sautikit', events: ['call.hangup', 'call.answered'] } });
    expect(created.statusCode).toBe(201);
    const hook = created.json();
    expect(hook).toMatchObject({ id: expect.stringMatching(/^wh_/), url: 'https://hooks.example.com/sautikit', events: ['call.hangup', 'call.answered'], secret: expect.stringMatching(/^whsec_/) });
    const list = (await api.call('GET', '/v1/webhooks')).json();
    expect(list).toEqual([{ id: hook.id, url: hook.url, events: hook.events, created_at: hook.created_at }]);
    expect((await api.call('DELETE', `/v1/webhooks/${hook.id}`)).statusCode).toBe(204);
    expect((await api.call('GET', '/v1/webhooks')).json()).toEqual([]);
    expect((await api.call('DELETE', `/v1/webhooks/${hook.id}`)).statusCode).toBe(404);
  });

  it('validates the URL and the event types', async () => {
    const api = testApi();
    expect((await api.call('POST', '/v1/webhooks', { body: { url: 'https://h.example.com/x', events: ['call.exploded'] } })).json().error)
      .toMatchObject({ code: 'validation_failed', field: 'events' });
    expect((await api.call('POST', '/v1/webhooks', { body: { events: ['call.hangup'] } })).json().error).toMatchObject({ field: 'url' });
    expect((await api.call('POST', '/v1/webhooks', { body: { url: 'gopher://h.example.com' } })).json().error).toMatchObject({ code: 'callback_url_not_allowed', field: 'url' });
    await api.call('PATCH', '/v1/settings', { body: { allow_private_callbacks: false } });
    expect((await api.call('POST', '/v1/webhooks', { body: { url: 'http://127.0.0.1:9000/hook' } })).json().error).toMatchObject({ code: 'callback_url_not_allowed' });
    await api.call('PATCH', '/v1/settings', { body: { allow_private_callbacks: true } });
    expect((await api.call('POST', '/v1/webhooks', { body: { url: 'http://127.0.0.1:9000/hook' } })).statusCode).toBe(201);
  });

  it('lists deliveries with their attempts and retries a failed one', async () => {
    const api = testApi();
    const hook = (await api.call('POST', '/v1/webhooks', { body: { url: 'https://hooks.example.com/d', events: ['*'] } })).json();
    const ws = api.credentials.workspace_id;
    await api.store.outbox.enqueue({ workspaceId: ws, type: 'call.hangup', data: { n: 1 }, targets: [{ url: hook.url, endpointId: hook.id }], now: new Date() });
    const [item] = await api.store.outbox.listForEndpoint(hook.id, { limit: 1 });
    for (let attempt = 1; attempt <= 8; attempt++) {
      await api.store.outbox.recordAttempt({ id: item!.id, attempt, statusCode: 500, latencyMs: 5, error: 'HTTP 500', next: attempt < 8 ? { status: 'pending', nextAttemptAt: new Date() } : { status: 'failed' }, now: new Date() });
    }
    const deliveries = (await api.call('GET', `/v1/webhooks/${hook.id}/deliveries`)).json();
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({ id: item!.id, type: 'call.hangup', status: 'failed', attempts: 8, last_error: 'HTTP 500' });
    expect(deliveries[0].attempt_log).toHaveLength(8);
    const retry = await api.call('POST', `/v1/webhooks/deliveries/${item!.id}/retry`);
    expect(retry.statusCode).toBe(202);
    expect(retry.json()).toMatchObject({ status: 'pending', attempts: 0 });
    expect((await api.call('POST', `/v1/webhooks/deliveries/${item!.id}/retry`)).json().error.code).toBe('validation_failed');
    const other = (await api.call('POST', '/v1/admin/workspaces', { key: api.credentials.admin_key, body: { name: 'o' } })).json();
    expect((await api.call('POST', `/v1/webhooks/deliveries/${item!.id}/retry`, { key: other.api_key })).statusCode).toBe(404);
    expect((await api.call('GET', `/v1/webhooks/${hook.id}/deliveries`, { key: other.api_key })).statusCode).toBe(404);
  });

  it('rotates endpoint and workspace secrets, keeping the old one for the grace period', async () => {
    const api = testApi();
    const hook = (await api.call('POST', '/v1/webhooks', { body: { url: 'https://hooks.example.com/r' } })).json();
    const rotated = (await api.call('POST', `/v1/webhooks/${hook.id}/rotate-secret`, { body: { grace_seconds: 3600 } })).json();
    expect(rotated.secret).not.toBe(hook.secret);
    const stored = await api.store.webhookEndpoints.get(api.credentials.workspace_id, hook.id);
    expect(stored).toMatchObject({ secret: rotated.secret, previousSecret: hook.secret });
    const ws = (await api.call('POST', '/v1/settings/signing-secret/rotate')).json();
    expect(ws.signing_secret).toMatch(/^whsec_/);
    expect(ws.signing_secret).not.toBe(api.credentials.signing_secret);
    expect(Date.parse(ws.previous_secret_expires_at) - Date.now()).toBeGreaterThan(23 * 3600_000);
  });
});
