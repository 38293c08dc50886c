import { expect, it } from 'vitest';
import { describeApiOnEachDialect } from '../helpers/each-dialect.js';

describeApiOnEachDialect('admin nodes API', (testApi) => {
  it('GET /v1/admin/nodes lists this node, alive and active, with its SIP and HTTP addresses; admin key only', async () => {
    const api = testApi();
    const admin = api.credentials.admin_key;
    expect((await api.call('GET', '/v1/admin/nodes')).statusCode).toBe(403);
    const res = await api.call('GET', '/v1/admin/nodes', { key: admin });
    expect(res.statusCode).toBe(200);
    const self = (res.json() as Array<Record<string, unknown>>).find((n) => n['id'] === api.store.nodeId);
    expect(self).toEqual({
      id: api.store.nodeId, sip_address: `127.0.0.1:${api.platform.sipAddress.port}`, http_url: api.platform.httpUrl, state: 'active', live_calls: 0,
      started_at: expect.any(String), last_heartbeat_at: expect.any(String), alive: true,
    });
  });

  it('POST /v1/admin/nodes/{id}/drain marks another node draining (it acts at its next heartbeat); an unknown node is 404', async () => {
    const api = testApi();
    const admin = api.credentials.admin_key;
    const peer = `peer-${Math.random().toString(36).slice(2, 8)}`;
    // A peer that beat 20 s ago: listed, not alive.
    const long = new Date(Date.now() - 20_000);
    await api.store.nodes.register({ id: peer, sipAddress: '127.0.0.3:5060', httpUrl: 'http://127.0.0.3:8080', liveCalls: 1, draining: false, now: long });
    const drained = await api.call('POST', `/v1/admin/nodes/${peer}/drain`, { key: admin });
    expect(drained.statusCode).toBe(202);
    expect(drained.json()).toMatchObject({ id: peer, state: 'draining', alive: false, live_calls: 1 });
    const listed = (await api.call('GET', '/v1/admin/nodes', { key: admin })).json() as Array<Record<string, unknown>>;
    expect(listed.find((n) => n['id'] === peer)).toMatchObject({ state: 'draining', alive: false, last_heartbeat_at: long.toISOString() });
    const unknown = await api.call('POST', '/v1/admin/nodes/no-such-node/drain', { key: admin });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error).toMatchObject({ code: 'not_found' });
    expect((await api.call('POST', `/v1/admin/nodes/${peer}/drain`)).statusCode).toBe(403);
  });
});

describeApiOnEachDialect('draining this node through the API', (testApi) => {
  it('the node notices its drain at the next heartbeat, refuses new calls (503 shutting_down) and stops', async () => {
    const api = testApi();
    const drained = await api.call('POST', `/v1/admin/nodes/${encodeURIComponent(api.store.nodeId)}/drain`, { key: api.credentials.admin_key });
    expect(drained.statusCode).toBe(202);
    await api.platform.stopped;
    expect(api.platform.engine.accepting).toBe(false);
  });
}, { livenessIntervalMs: 50 });
