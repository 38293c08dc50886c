import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';

/**
 * A running call is cut before the wallet would go below zero (SPEC §10).
 * The platform's clock runs 30 times faster here, so a minute of billed time
 * passes in two seconds; the audio still flows in real time.
 */
describe('spend guard', () => {
  let api: TestApi;
  let app: HttpReceiver;
  const started = Date.now();
  const fast = { now: () => new Date(started + (Date.now() - started) * 30) };

  beforeAll(async () => {
    api = await startTestApi('sqlite', { clock: fast });
    app = await HttpReceiver.start();
    app.respond = () => ({ status: 200, body: JSON.stringify([{ pause: { length: 60 } }]) });
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await api?.close();
  });

  it('cuts an inbound call with hangup_cause insufficient_funds and never takes the balance below zero', async () => {
    const admin = api.credentials.admin_key;
    const ws = (await api.call('POST', '/v1/admin/workspaces', { key: admin, body: { name: 'nearly-broke' } })).json();
    // KES 1.00 at the inbound rate of KES 0.50 a minute: two minutes of talk.
    await api.call('POST', `/v1/admin/workspaces/${ws.id}/credits`, { key: admin, body: { amount: '1.00' } });
    const number = (await api.call('POST', '/v1/numbers', { key: ws.api_key, body: { prefix: '+25470', routing_url: `${app.url}/long` } })).json();
    const placed = (await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000050', to: number.number, max_duration: 60 } })).json();
    const call = await until(async () => {
      const c = (await api.call('GET', `/v1/calls/${placed.call_id}`, { key: ws.api_key })).json();
      return c.price !== null ? c : undefined;
    }, 40_000);
    expect(call).toMatchObject({ status: 'completed', hangup_cause: 'insufficient_funds', hangup_by: 'system' });
    expect(call.duration_seconds).toBeGreaterThan(60);
    const wallet = (await api.call('GET', '/v1/wallet', { key: ws.api_key })).json();
    expect(Number(wallet.balance)).toBeGreaterThanOrEqual(0);
    expect(wallet.reserved).toBe('0.00');
    // With nothing left for a minute, new inbound calls are refused.
    const refused = (await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000051', to: number.number, max_duration: 10 } })).json();
    const report = await until(async () => {
      const r = (await api.call('GET', `/v1/sandbox/calls/${refused.id}`)).json();
      return r.ended_at ? r : undefined;
    });
    expect(report).toMatchObject({ status: 'failed', sip_status: 402 });
  }, 60_000);

  it('a large balance never cuts a call (the cut is not armed beyond the next check)', async () => {
    const admin = api.credentials.admin_key;
    const ws = (await api.call('POST', '/v1/admin/workspaces', { key: admin, body: { name: 'rich' } })).json();
    // At KES 0.50 a minute this buys years of talk: more milliseconds than a Node timer can hold.
    await api.call('POST', `/v1/admin/workspaces/${ws.id}/credits`, { key: admin, body: { amount: '1000000.00' } });
    app.respond = () => ({ status: 200, body: JSON.stringify([{ pause: { length: 2 } }, { hangup: {} }]) });
    const number = (await api.call('POST', '/v1/numbers', { key: ws.api_key, body: { prefix: '+25470', routing_url: `${app.url}/short` } })).json();
    const placed = (await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000052', to: number.number, max_duration: 30 } })).json();
    const call = await until(async () => {
      const c = (await api.call('GET', `/v1/calls/${placed.call_id}`, { key: ws.api_key })).json();
      return c.price !== null ? c : undefined;
    }, 30_000);
    expect(call).toMatchObject({ status: 'completed', hangup_cause: 'normal_clearing' });
  }, 60_000);
});
