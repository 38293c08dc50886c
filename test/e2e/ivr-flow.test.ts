import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySautikitSignature } from '../../src/index.js';
import { HttpReceiver, type ReceivedRequest } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';


describe('the IVR page, end to end over SIP and RTP with sandbox phones', () => {
  let api: TestApi;
  let app: HttpReceiver;

  beforeAll(async () => {
    api = await startTestApi('sqlite', { flags: { 'webhook-retry-schedule': '0,1,1,1,1,1,1,1' } });
    app = await HttpReceiver.start();
    // The IVR page's Express app, as a local receiver: /ivr/welcome and /ivr/route.
    app.respond = (req: ReceivedRequest) => {
      if (req.url.startsWith('/ivr/welcome')) {
        return { status: 200, body: JSON.stringify({ actions: [{ getDigits: { numDigits: 1, timeout: 5, finishOnKey: '', action: `${app.url}/ivr/route`,
          nested: [{ say: { text: 'Welcome to Acme Corp. Press 1 for sales. Press 2 for support. Press 3 to hear this menu again.', language: 'en-US' } }] } }] }) };
      }
      if (req.url.startsWith('/ivr/route')) {
        const digit = req.json?.Digits ?? '';
        if (digit === '2') return { status: 200, body: JSON.stringify({ actions: [{ say: { text: 'Connecting you to support.' } }, { dial: { number: '+254720000002' } }] }) };
        return { status: 200, body: JSON.stringify({ actions: [{ redirect: { url: `${app.url}/ivr/welcome` } }] }) };
      }
      return { status: 204 };
    };
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await api?.close();
  });

  it('welcome → press 2 → "Connecting you to support" → dial +254720000002, answered by a sandbox phone; CDRs and wallet to the cent', async () => {
    const claim = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470' } })).json();
    const patched = await api.call('PATCH', `/v1/numbers/${claim.id}`, { body: { routing_url: `${app.url}/ivr/welcome`, status_url: `${app.url}/status` } });
    expect(patched.statusCode).toBe(200);
    // The support line answers after 1 s and hangs up 2 s later.
    expect((await api.call('PUT', '/v1/sandbox/phones/%2B254720000002', { body: { answer: { after: 1 }, hangup_after: 2 } })).statusCode).toBe(200);
    const balanceBefore = (await api.call('GET', '/v1/wallet')).json().balance;

    const placed = await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000001', to: claim.number, script: [{ wait: 1.5 }, { press: '2' }], max_duration: 40 } });
    expect(placed.statusCode).toBe(201);
    const { id: sandboxId, call_id: callId } = placed.json();
    expect(callId).toMatch(/^call_/);

    const report = await until(async () => {
      const r = (await api.call('GET', `/v1/sandbox/calls/${sandboxId}`)).json();
      return r.status === 'completed' || r.status === 'failed' ? r : undefined;
    }, 40_000);
    expect(report).toMatchObject({ status: 'completed', call_id: callId, hangup_by: 'platform' });
    expect(report.audio_seconds_heard).toBeGreaterThan(1);

    // The webhook app saw the welcome with the call's fields, then the route with Digits "2".
    const welcome = app.requests.find((r) => r.url === '/ivr/welcome')!;
    expect(welcome.json).toMatchObject({ CallId: callId, From: '+254711000001', To: claim.number, Direction: 'inbound', AccountId: api.credentials.workspace_id });
    expect(verifySautikitSignature(welcome.rawBody, welcome.headers['sautikit-signature'], api.credentials.signing_secret).ok).toBe(true);
    const route = app.requests.find((r) => r.url === '/ivr/route')!;
    expect(route.json).toMatchObject({ CallId: callId, Digits: '2' });

    // Parent (inbound) and child (dialled) CDRs.
    const parent = await until(async () => {
      const c = (await api.call('GET', `/v1/calls/${callId}`)).json();
      return c.status === 'completed' && c.price !== null ? c : undefined;
    });
    const children = (await api.call('GET', `/v1/calls?parent_call_id=${callId}`)).json();
    expect(children).toHaveLength(1);
    const child = await until(async () => {
      const c = (await api.call('GET', `/v1/calls/${children[0].id}`)).json();
      return c.status === 'completed' && c.price !== null ? c : undefined;
    });
    expect(parent).toMatchObject({ direction: 'inbound', from: '+254711000001', to: claim.number, number_id: claim.id, rate_per_minute: '0.50', currency: 'KES' });
    expect(parent.events.map((e: { status: string }) => e.status)).toEqual(['initiated', 'ringing', 'in-progress', 'completed']);
    expect(child).toMatchObject({ direction: 'outbound', to: '+254720000002', from: claim.number, parent_call_id: callId, rate_per_minute: '3.50', hangup_by: 'callee' });
    expect(child.duration_seconds).toBeGreaterThanOrEqual(2);
    expect(child.duration_seconds).toBeLessThanOrEqual(4);
    const cents = (price: string) => Math.round(Number(price) * 100);
    expect(cents(parent.price)).toBe(Math.ceil((parent.duration_seconds * 50) / 60));
    expect(cents(child.price)).toBe(Math.ceil((child.duration_seconds * 350) / 60));
    const balanceAfter = (await api.call('GET', '/v1/wallet')).json();
    expect(cents(balanceBefore) - cents(balanceAfter.balance)).toBe(cents(parent.price) + cents(child.price));
    expect(balanceAfter.reserved).toBe('0.00');

    // The support phone saw one call from the platform and the status URL got the lifecycle.
    const supportCalls = (await api.call('GET', '/v1/sandbox/phones/%2B254720000002/calls')).json();
    expect(supportCalls[0]).toMatchObject({ direction: 'from-platform', status: 'completed', hangup_by: 'phone' });
    // The dialled phone's view of the call is readable by the workspace that placed it, and by no other.
    expect((await api.call('GET', `/v1/sandbox/calls/${supportCalls[0].id}`)).json()).toMatchObject({ call_id: child.id, status: 'completed' });
    const other = (await api.call('POST', '/v1/admin/workspaces', { key: api.credentials.admin_key, body: { name: 'other' } })).json();
    expect((await api.call('GET', `/v1/sandbox/calls/${supportCalls[0].id}`, { key: other.api_key })).statusCode).toBe(404);
    await app.waitFor((reqs) => reqs.some((r) => r.url === '/status' && r.json?.type === 'call.hangup' && r.json.data.call_id === callId));
    const statusEvents = app.requests.filter((r) => r.url === '/status' && r.json?.data?.call_id === callId).map((r) => r.json.type);
    expect(statusEvents).toEqual(expect.arrayContaining(['call.initiated', 'call.ringing', 'call.answered', 'call.hangup']));
  }, 60_000);
});
