import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySautikitSignature } from '../../src/index.js';
import { HttpReceiver, type ReceivedRequest } from '../helpers/http-receiver.js';
import { phoneCalls } from '../helpers/phone-calls.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';


/** Product-page flows against one started platform with sandbox phones and a local webhook app. */
describe('call flows of the product pages', () => {
  let api: TestApi;
  let app: HttpReceiver;
  let number: { id: string; number: string };
  const routes = new Map<string, (req: ReceivedRequest) => { status: number; body?: string; contentType?: string }>();

  beforeAll(async () => {
    api = await startTestApi('sqlite', { flags: { 'webhook-retry-schedule': '0,1,1,1,1,1,1,1' } });
    app = await HttpReceiver.start();
    app.respond = (req) => routes.get(req.url.split('?')[0]!)?.(req) ?? { status: 204 };
    number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470' } })).json();
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await api?.close();
  });

  const callOf = (id: string) => until(async () => {
    const c = (await api.call('GET', `/v1/calls/${id}`)).json();
    return ['completed', 'busy', 'no-answer', 'failed', 'canceled'].includes(c.status) && c.price !== null ? c : undefined;
  }, 30_000);

  it('call center, agent free: say + dial with callerId and timeout; the agent answers', async () => {
    routes.set('/calls/inbound', (req) => ({ status: 200, body: JSON.stringify({ actions: [
      { say: { text: 'Connecting you to an agent.' } },
      { dial: { number: '+254720000001', callerId: req.json.To, timeout: 30 } },
    ] }) }));
    await api.call('PATCH', `/v1/numbers/${number.id}`, { body: { routing_url: `${app.url}/calls/inbound` } });
    await api.call('PUT', '/v1/sandbox/phones/%2B254720000001', { body: { answer: 'immediately', hangup_after: 1 } });
    const placed = (await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000002', to: number.number, max_duration: 30 } })).json();
    const parent = await callOf(placed.call_id);
    expect(parent.status).toBe('completed');
    const [leg] = (await api.call('GET', `/v1/calls?parent_call_id=${placed.call_id}`)).json();
    expect(leg).toMatchObject({ direction: 'outbound', to: '+254720000001', from: number.number, parent_call_id: placed.call_id });
    const agent = (await phoneCalls(api, '+254720000001'))[0];
    expect(agent).toMatchObject({ from: number.number, status: 'completed' });
  }, 60_000);

  it('getDigits with method GET sends Digits and the call fields in the query string, signed over the path and query', async () => {
    routes.set('/menu', () => ({ status: 200, body: JSON.stringify([{ getDigits: { numDigits: 1, action: `${app.url}/picked?menu=main`, method: 'GET', timeout: 10, nested: [{ say: { text: 'Press a key.' } }] } }]) }));
    routes.set('/picked', () => ({ status: 200, body: JSON.stringify([{ hangup: {} }]) }));
    await api.call('PATCH', `/v1/numbers/${number.id}`, { body: { routing_url: `${app.url}/menu` } });
    const placed = (await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000004', to: number.number, script: [{ wait: 1 }, { press: '7' }, { wait: 10 }] } })).json();
    await callOf(placed.call_id);
    const picked = app.requests.find((r) => r.url.startsWith('/picked'))!;
    expect(picked.method).toBe('GET');
    expect(picked.rawBody).toBe('');
    const query = Object.fromEntries(new URL(picked.url, app.url).searchParams);
    expect(query).toMatchObject({ menu: 'main', Digits: '7', CallId: placed.call_id, To: number.number, Direction: 'inbound' });
    expect(verifySautikitSignature(picked.url, picked.headers['sautikit-signature'], api.credentials.signing_secret).ok).toBe(true);
  }, 60_000);

  it('dial with a callerId the workspace does not own dials nothing: caller_id_not_allowed on the call, DialCallStatus failed', async () => {
    routes.set('/spoof', () => ({ status: 200, body: JSON.stringify([{ dial: { number: '+254720000031', callerId: '+254722999999', action: `${app.url}/spoof-done` } }]) }));
    routes.set('/spoof-done', () => ({ status: 200, body: JSON.stringify([{ hangup: {} }]) }));
    await api.call('PATCH', `/v1/numbers/${number.id}`, { body: { routing_url: `${app.url}/spoof` } });
    const placed = (await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000005', to: number.number, max_duration: 20 } })).json();
    await callOf(placed.call_id);
    const done = app.requests.find((r) => r.url.startsWith('/spoof-done') && r.json?.CallId === placed.call_id)!;
    expect(done.json).toMatchObject({ DialCallStatus: 'failed' });
    const record = (await api.call('GET', `/v1/calls/${placed.call_id}`)).json();
    expect(record.errors).toEqual([expect.objectContaining({ code: 'caller_id_not_allowed' })]);
    expect((await api.call('GET', `/v1/calls?parent_call_id=${placed.call_id}`)).json()).toEqual([]);
    expect((await api.call('GET', '/v1/sandbox/phones/%2B254720000031/calls')).json()).toEqual([]);
  }, 60_000);

  it('say with loop 0 repeats until the caller hangs up (0 means until stopped, as in play)', async () => {
    routes.set('/loop', () => ({ status: 200, body: JSON.stringify([{ say: { text: 'Please hold.', loop: 0 } }]) }));
    await api.call('PATCH', `/v1/numbers/${number.id}`, { body: { routing_url: `${app.url}/loop` } });
    const placed = (await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000003', to: number.number, script: [{ wait: 5 }, { hangup: true }] } })).json();
    const call = await callOf(placed.call_id);
    expect(call).toMatchObject({ status: 'completed', hangup_by: 'caller' });
    const report = (await api.call('GET', `/v1/sandbox/calls/${placed.id}`)).json();
    // "Please hold." lasts about a second: the phone heard it over and over for the whole call.
    expect(report.audio_seconds_heard).toBeGreaterThan(3);
  }, 60_000);

  it('the AI page\'s curl: to as an array and clientRequestId sent twice make one call', async () => {
    routes.set('/answer', () => ({ status: 200, contentType: 'application/xml', body: '<Response><Say>Hi, this is Zawadi from Acme.</Say><Hangup/></Response>' }));
    await api.call('PATCH', `/v1/numbers/${number.id}`, { body: { routing_url: `${app.url}/answer` } });
    await api.call('PUT', '/v1/sandbox/phones/%2B254712345678', { body: { answer: 'immediately' } });
    const body = { to: ['+254712345678'], from: number.number, clientRequestId: 'lead-42' };
    const first = await api.call('POST', '/v1/calls', { body });
    expect(first.statusCode).toBe(201);
    const calls = first.json();
    expect(calls).toEqual([expect.objectContaining({ id: expect.stringMatching(/^call_/), direction: 'outbound', to: '+254712345678', client_request_id: 'lead-42', status: 'queued' })]);
    const again = await api.call('POST', '/v1/calls', { body });
    expect(again.statusCode).toBe(201);
    expect(again.json()).toEqual(calls);
    expect((await api.call('POST', '/v1/calls', { body: { ...body, to: ['+254712345679'] } })).json().error.code).toBe('idempotency_conflict');
    const done = await callOf(calls[0].id);
    expect(done).toMatchObject({ status: 'completed', hangup_by: 'system' });
    expect(done.events.map((e: { status: string }) => e.status)).toEqual(['initiated', 'ringing', 'in-progress', 'completed']);
    expect(app.requests.filter((r) => r.url === '/answer' && r.json.CallId === calls[0].id)).toHaveLength(1);
    const heard = (await phoneCalls(api, '+254712345678'))[0];
    expect(heard.audio_seconds_heard).toBeGreaterThan(0.5);
  }, 60_000);

  it('POST /v1/calls refuses what it must: unowned from, disallowed destination, no funds', async () => {
    expect((await api.call('POST', '/v1/calls', { body: { to: '+254712345678', from: '+254700000099', action_url: `${app.url}/x` } })).json().error)
      .toMatchObject({ code: 'number_not_owned', field: 'from' });
    const tz = await api.call('POST', '/v1/calls', { body: { to: '+255712345678', from: number.number, action_url: `${app.url}/x` } });
    expect(tz.statusCode).toBe(403);
    expect(tz.json().error).toMatchObject({ code: 'destination_not_allowed', field: 'to' });
    const other = (await api.call('POST', '/v1/admin/workspaces', { key: api.credentials.admin_key, body: { name: 'broke' } })).json();
    const otherNumber = (await api.call('POST', '/v1/numbers', { key: other.api_key, body: { prefix: '+25470' } })).json();
    const broke = await api.call('POST', '/v1/calls', { key: other.api_key, body: { to: '+254712345678', from: otherNumber.number, action_url: `${app.url}/x` } });
    expect(broke.statusCode).toBe(402);
    expect(broke.json().error).toMatchObject({ code: 'insufficient_funds', field: 'to' });
  });

  it('a webhook answering invalid actions: call.error with the index and field, recorded on the call', async () => {
    routes.set('/bad', () => ({ status: 200, body: JSON.stringify({ actions: [{ say: { text: 'ok' } }, { getDigits: { numDigits: 'one' } }] }) }));
    await api.call('PATCH', `/v1/numbers/${number.id}`, { body: { routing_url: `${app.url}/bad`, status_url: `${app.url}/status` } });
    const placed = (await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000003', to: number.number, max_duration: 20 } })).json();
    const call = await callOf(placed.call_id);
    expect(call.errors).toEqual([expect.objectContaining({ code: 'invalid_actions', action_index: 1, field: 'numDigits', message: 'actions[1].getDigits.numDigits must be a whole number from 1 to 64' })]);
    await app.waitFor((reqs) => reqs.some((r) => r.url === '/status' && r.json?.type === 'call.error' && r.json.data.call_id === placed.call_id));
    const event = app.requests.find((r) => r.url === '/status' && r.json?.type === 'call.error' && r.json.data.call_id === placed.call_id)!;
    expect(event.json.data).toMatchObject({ code: 'invalid_actions', action_index: 1, field: 'numDigits' });
    // Unanswered and hung up: nothing to bill.
    expect(call).toMatchObject({ price: '0.00', duration_seconds: 0 });

    // A body that is not JSON at all is recorded the same way.
    routes.set('/broken', () => ({ status: 200, body: '{"actions": [' }));
    await api.call('PATCH', `/v1/numbers/${number.id}`, { body: { routing_url: `${app.url}/broken` } });
    const second = (await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000006', to: number.number, max_duration: 20 } })).json();
    const broken = await callOf(second.call_id);
    expect(broken.errors).toEqual([expect.objectContaining({ code: 'webhook_invalid_response', url: `${app.url}/broken`, message: expect.stringMatching(/^the webhook answered invalid JSON/) })]);
    await app.waitFor((reqs) => reqs.some((r) => r.url === '/status' && r.json?.type === 'call.error' && r.json.data.call_id === second.call_id));
  }, 60_000);

  it('a live PATCH redirect replaces what the call is doing', async () => {
    routes.set('/long', () => ({ status: 200, body: JSON.stringify([{ pause: { length: 30 } }]) }));
    routes.set('/redirected', () => ({ status: 200, body: JSON.stringify([{ say: { text: 'You were moved.' } }, { hangup: {} }]) }));
    await api.call('PATCH', `/v1/numbers/${number.id}`, { body: { routing_url: `${app.url}/long`, status_url: null } });
    const placed = (await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000004', to: number.number, max_duration: 40 } })).json();
    await until(async () => (await api.call('GET', `/v1/calls/${placed.call_id}`)).json().status === 'in-progress');
    const patched = await api.call('PATCH', `/v1/calls/${placed.call_id}`, { body: { action_url: `${app.url}/redirected` } });
    expect(patched.statusCode).toBe(200);
    const call = await callOf(placed.call_id);
    expect(call.status).toBe('completed');
    expect(call.duration_seconds).toBeLessThan(15);
    expect(app.requests.some((r) => r.url === '/redirected' && r.json.CallId === placed.call_id)).toBe(true);
    const ended = (await api.call('PATCH', `/v1/calls/${placed.call_id}`, { body: { status: 'completed' } })).json();
    expect(ended.error.code).toBe('call_not_active');
  }, 60_000);

  it('PATCH status completed hangs up a live call (hangup_by api)', async () => {
    routes.set('/long', () => ({ status: 200, body: JSON.stringify([{ pause: { length: 30 } }]) }));
    await api.call('PATCH', `/v1/numbers/${number.id}`, { body: { routing_url: `${app.url}/long` } });
    const placed = (await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000005', to: number.number, max_duration: 40 } })).json();
    await until(async () => (await api.call('GET', `/v1/calls/${placed.call_id}`)).json().status === 'in-progress');
    expect((await api.call('PATCH', `/v1/calls/${placed.call_id}`, { body: { status: 'completed' } })).statusCode).toBe(200);
    const call = await callOf(placed.call_id);
    expect(call).toMatchObject({ status: 'completed', hangup_by: 'api' });
    // The call ends when the BYE is sent; the phone ends when it arrives.
    const report = await until(async () => {
      const r = (await api.call('GET', `/v1/sandbox/calls/${placed.id}`)).json();
      return r.ended_at ? r : undefined;
    });
    expect(report).toMatchObject({ status: 'completed', hangup_by: 'platform' });
  }, 60_000);

  it('a charge that takes the wallet below KES 50.00 sends wallet.low_balance once', async () => {
    const admin = api.credentials.admin_key;
    const ws = (await api.call('POST', '/v1/admin/workspaces', { key: admin, body: { name: 'low' } })).json();
    await api.call('POST', `/v1/admin/workspaces/${ws.id}/credits`, { key: admin, body: { amount: '50.01' } });
    await api.call('POST', '/v1/webhooks', { key: ws.api_key, body: { url: `${app.url}/low`, events: ['wallet.low_balance'] } });
    routes.set('/short', () => ({ status: 200, body: JSON.stringify([{ pause: { length: 2 } }, { hangup: {} }]) }));
    const lowNumber = (await api.call('POST', '/v1/numbers', { key: ws.api_key, body: { prefix: '+25470', routing_url: `${app.url}/short` } })).json();
    for (const from of ['+254711000040', '+254711000041']) {
      const placed = (await api.call('POST', '/v1/sandbox/calls', { body: { from, to: lowNumber.number, max_duration: 20 } })).json();
      await until(async () => {
        const c = (await api.call('GET', `/v1/calls/${placed.call_id}`, { key: ws.api_key })).json();
        return c.price !== null && c.status === 'completed';
      }, 30_000);
    }
    await app.waitFor((reqs) => reqs.some((r) => r.url === '/low'));
    await new Promise((r) => setTimeout(r, 500));
    const lows = app.requests.filter((r) => r.url === '/low');
    expect(lows).toHaveLength(1);
    expect(lows[0]!.json).toMatchObject({ type: 'wallet.low_balance', workspace_id: ws.id, data: { currency: 'KES', threshold: '50.00' } });
    expect(Number(lows[0]!.json.data.balance)).toBeLessThan(50);
  }, 60_000);

  it('voicemail: record with a beep until # is pressed; RecordingUrl posted, the WAV served, call.recording.ready sent, the fee charged', async () => {
    routes.set('/voicemail', () => ({ status: 200, body: JSON.stringify([
      { say: { text: 'Leave a message after the beep.' } },
      { record: { action: `${app.url}/recorded`, maxLength: 20, timeout: 5, finishOnKey: '#' } },
    ]) }));
    routes.set('/recorded', () => ({ status: 200, body: JSON.stringify([{ hangup: {} }]) }));
    await api.call('PATCH', `/v1/numbers/${number.id}`, { body: { routing_url: `${app.url}/voicemail`, status_url: `${app.url}/status` } });
    const placed = (await api.call('POST', '/v1/sandbox/calls', { body: {
      from: '+254711000007', to: number.number, max_duration: 30,
      script: [{ wait_for_audio: 5 }, { wait: 3 }, { say: 'Hello, please call me back about my order.' }, { press: '#' }],
    } })).json();
    await app.waitFor((reqs) => reqs.some((r) => r.url === '/recorded' && r.json.CallId === placed.call_id), 40_000);
    const posted = app.requests.find((r) => r.url === '/recorded' && r.json.CallId === placed.call_id)!.json;
    expect(posted.RecordingUrl).toMatch(/\/v1\/recordings\/rec_\w+\/audio$/);
    expect(posted.RecordingDuration).toBeGreaterThanOrEqual(1);
    const report = await until(async () => {
      const r = (await api.call('GET', `/v1/sandbox/calls/${placed.id}`)).json();
      return r.ended_at ? r : undefined;
    }, 30_000);
    expect(report.beeps_heard).toBe(1);
    const wav = await api.call('GET', `/v1/calls/${placed.call_id}/recording`);
    expect(wav.statusCode).toBe(200);
    expect(wav.headers['content-type']).toBe('audio/wav');
    const body = wav.rawPayload;
    expect(body.subarray(0, 4).toString()).toBe('RIFF');
    expect(body.subarray(8, 12).toString()).toBe('WAVE');
    expect(body.readUInt32LE(24)).toBe(8000);
    await app.waitFor((reqs) => reqs.some((r) => r.url === '/status' && r.json?.type === 'call.recording.ready' && r.json.data.call_id === placed.call_id));
    const txns = (await api.call('GET', '/v1/wallet/transactions?limit=20')).json();
    expect(txns.some((t: { type: string; call_id: string }) => t.type === 'recording_charge' && t.call_id === placed.call_id)).toBe(true);
  }, 60_000);
});
