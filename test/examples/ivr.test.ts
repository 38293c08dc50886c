import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../examples/ivr/server.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { balanceCents, cents, finishedCall, priceCents, sandboxReport, serveExample, setPhone, type RunningApp } from './helpers.js';

/** examples/ivr against a started platform: a sandbox phone calls the number and walks the menu. */
describe('examples/ivr', () => {
  let api: TestApi;
  let app: RunningApp;
  let status: HttpReceiver;
  let number: { id: string; number: string };

  beforeAll(async () => {
    api = await startTestApi('sqlite', { flags: { 'webhook-retry-schedule': '0,1,1,1,1,1,1,1' } });
    app = await serveExample((url) => createApp({ publicUrl: url, signingSecret: api.credentials.signing_secret }));
    status = await HttpReceiver.start();
    // What the README says: claim a number, then PATCH its routing_url to /ivr/welcome.
    number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470' } })).json();
    const patched = await api.call('PATCH', `/v1/numbers/${number.id}`, { body: { routing_url: `${app.url}/ivr/welcome`, status_url: `${status.url}/status` } });
    expect(patched.statusCode).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await status?.close();
    await api?.close();
  });

  it('2 → support menu → 1 → "Connecting you to billing" → dial; webhooks, CDRs, prices and wallet to the cent', async () => {
    await setPhone(api, '+254720000002', { answer: { after: 1 }, hangup_after: 2 });
    const before = await balanceCents(api);
    const placed = await api.call('POST', '/v1/sandbox/calls', {
      body: { from: '+254711000001', to: number.number, script: [{ wait_for_audio: 5 }, { press: '2' }, { wait: 2 }, { press: '1' }], max_duration: 40 },
    });
    expect(placed.statusCode).toBe(201);
    const { id: sandboxId, call_id: callId } = placed.json();

    const report = await sandboxReport(api, sandboxId, 40_000);
    // The menus were heard; the platform sent no DTMF to the caller.
    expect(report).toMatchObject({ status: 'completed', call_id: callId, hangup_by: 'platform', digits_heard: '' });
    expect(report.audio_seconds_heard).toBeGreaterThan(1);

    // The app's three steps, each with the call's fields and a signature it accepted.
    expect(app.on('/ivr/welcome')[0]).toMatchObject({ status: 200, body: { CallId: callId, From: '+254711000001', To: number.number, Direction: 'inbound', AccountId: api.credentials.workspace_id } });
    expect(app.on('/ivr/route').map((r) => [r.status, r.body.Digits])).toEqual([[200, '2']]);
    expect(app.on('/ivr/support').map((r) => [r.status, r.body.Digits])).toEqual([[200, '1']]);
    expect(app.requests.every((r) => r.headers['sautikit-signature'] && r.status === 200)).toBe(true);

    // Parent (inbound, KES 0.50/min) and the billing leg (Safaricom mobile, KES 3.50/min).
    const parent = await finishedCall(api, callId);
    const legs = (await api.call('GET', `/v1/calls?parent_call_id=${callId}`)).json();
    expect(legs).toHaveLength(1);
    const child = await finishedCall(api, legs[0].id);
    expect(parent).toMatchObject({ direction: 'inbound', status: 'completed', from: '+254711000001', to: number.number, number_id: number.id, rate_per_minute: '0.50', currency: 'KES', errors: [] });
    expect(child).toMatchObject({ direction: 'outbound', status: 'completed', from: number.number, to: '+254720000002', parent_call_id: callId, rate_per_minute: '3.50', hangup_by: 'callee' });
    expect(child.duration_seconds).toBeGreaterThanOrEqual(2);
    expect(child.duration_seconds).toBeLessThanOrEqual(4);
    expect(parent.duration_seconds).toBeGreaterThan(child.duration_seconds);
    expect(cents(parent.price)).toBe(priceCents(parent.duration_seconds, 50));
    expect(cents(child.price)).toBe(priceCents(child.duration_seconds, 350));
    expect(before - (await balanceCents(api))).toBe(cents(parent.price) + cents(child.price));

    // The billing phone saw the call from the number; the status URL got the lifecycle and the price.
    const billingSaw = (await api.call('GET', '/v1/sandbox/phones/%2B254720000002/calls')).json();
    expect(billingSaw[0]).toMatchObject({ direction: 'from-platform', from: number.number, status: 'completed', hangup_by: 'phone' });
    await status.waitFor((reqs) => reqs.some((r) => r.json?.type === 'call.hangup' && r.json.data.call_id === callId));
    const lifecycle = status.requests.filter((r) => r.json?.data?.call_id === callId).map((r) => r.json);
    expect(lifecycle.map((e) => e.type)).toEqual(expect.arrayContaining(['call.initiated', 'call.ringing', 'call.answered', 'call.hangup']));
    const hangup = lifecycle.find((e) => e.type === 'call.hangup')!;
    expect(hangup.data).toMatchObject({ duration_seconds: parent.duration_seconds, price: parent.price });
  }, 60_000);

  it('an unknown key replays the menu (redirect to /ivr/welcome), then 1 dials sales', async () => {
    await setPhone(api, '+254720000001', { answer: 'immediately', hangup_after: 1 });
    const placed = (await api.call('POST', '/v1/sandbox/calls', {
      body: { from: '+254711000002', to: number.number, script: [{ wait_for_audio: 5 }, { press: '9' }, { wait: 2 }, { press: '1' }], max_duration: 40 },
    })).json();
    await sandboxReport(api, placed.id, 40_000);
    const mine = (path: string) => app.on(path).filter((r) => r.body?.CallId === placed.call_id);
    expect(mine('/ivr/welcome')).toHaveLength(2);
    expect(mine('/ivr/route').map((r) => r.body.Digits)).toEqual(['9', '1']);
    const [leg] = (await api.call('GET', `/v1/calls?parent_call_id=${placed.call_id}`)).json();
    expect(leg).toMatchObject({ to: '+254720000001', parent_call_id: placed.call_id });
    const sales = await finishedCall(api, leg.id);
    expect(sales).toMatchObject({ status: 'completed', rate_per_minute: '3.50' });
    expect(cents(sales.price)).toBe(priceCents(sales.duration_seconds, 350));
  }, 60_000);

  it('refuses requests that are not signed with the workspace secret', async () => {
    const body = JSON.stringify({ CallId: 'call_forged', Digits: '1' });
    const unsigned = await fetch(`${app.url}/ivr/route`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toEqual({ error: 'missing_header' });
    const t = Math.floor(Date.now() / 1000);
    const forged = await fetch(`${app.url}/ivr/route`, { method: 'POST', headers: { 'content-type': 'application/json', 'sautikit-signature': `t=${t},v1=${'0'.repeat(64)}` }, body });
    expect(forged.status).toBe(401);
    expect(await forged.json()).toEqual({ error: 'signature_mismatch' });
  });
});
