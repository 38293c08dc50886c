import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpReceiver, type ReceivedRequest } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';

type Entry = { at: string; type: string; [field: string]: any };

/**
 * SPEC §14: GET /v1/calls/{id}/timeline shows what happened on a call, in
 * order. Calls run through the sandbox carrier over real SIP and RTP, and the
 * customer's app is a local HTTP server.
 */
describe('the call timeline, end to end with sandbox phones', () => {
  let api: TestApi;
  let app: HttpReceiver;

  beforeAll(async () => {
    api = await startTestApi('sqlite', { flags: { 'webhook-retry-schedule': '0,1,1,1,1,1,1,1' } });
    app = await HttpReceiver.start();
    app.respond = (req: ReceivedRequest) => {
      if (req.url === '/ivr/welcome') {
        return { status: 200, body: JSON.stringify({ actions: [{ getDigits: { numDigits: 1, timeout: 5, finishOnKey: '', action: `${app.url}/ivr/route`,
          nested: [{ say: { text: 'Welcome. Press 2 for support.' } }] } }] }) };
      }
      if (req.url === '/ivr/route') return { status: 200, body: JSON.stringify([{ say: { text: 'Connecting you.' } }, { dial: { number: '+254720000002' } }]) };
      if (req.url === '/typo/welcome') {
        return { status: 200, body: JSON.stringify({ actions: [{ getDigits: { numDigit: 1, timeout: 3, action: `${app.url}/typo/route`, nested: [{ say: { text: 'Press 1 then hash.' } }] } }] }) };
      }
      if (req.url === '/typo/route') return { status: 200, contentType: 'application/xml', body: '<Response><Say>Thanks.</Say><Hangup/></Response>' };
      if (req.url === '/broken') return { status: 500, contentType: 'text/plain', body: 'database is down: ECONNREFUSED 10.0.0.5:5432' };
      return { status: 404 };
    };
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await api?.close();
  });

  async function claim(routingPath: string): Promise<{ id: string; number: string }> {
    const number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470' } })).json();
    expect((await api.call('PATCH', `/v1/numbers/${number.id}`, { body: { routing_url: `${app.url}${routingPath}` } })).statusCode).toBe(200);
    return number;
  }

  /** Calls the number from a sandbox phone running `script`; answers the platform's call id once the phone's call is over. */
  async function callFromSandbox(number: string, script: unknown[]): Promise<string> {
    const placed = await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000001', to: number, script, max_duration: 40 } });
    expect(placed.statusCode).toBe(201);
    const { id } = placed.json();
    const report = await until(async () => {
      const r = (await api.call('GET', `/v1/sandbox/calls/${id}`)).json();
      return r.ended_at ? r : undefined;
    }, 40_000);
    expect(report.call_id).toMatch(/^call_/);
    // The platform's side of the call ends (and is billed) just after the phone's.
    await until(async () => ((await api.call('GET', `/v1/calls/${report.call_id}`)).json().ended_at ? true : undefined));
    return report.call_id;
  }

  async function timeline(callId: string, headers: Record<string, string> = {}): Promise<Entry[]> {
    const res = await api.call('GET', `/v1/calls/${callId}/timeline`, { headers });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(Object.keys(body)).toEqual(['data']);
    return body.data;
  }

  it('an IVR call: both webhook exchanges with request and response bodies, the digits, every action started and ended, the dial leg by its call id', async () => {
    const number = await claim('/ivr/welcome');
    expect((await api.call('PUT', '/v1/sandbox/phones/%2B254720000002', { body: { answer: { after: 1 }, hangup_after: 1 } })).statusCode).toBe(200);
    const callId = await callFromSandbox(number.number, [{ wait: 1.5 }, { press: '2' }]);
    const entries = await timeline(callId);
    const types = entries.map((e) => e.type);

    // In order: times never go back, and the story reads as it happened.
    for (let i = 1; i < entries.length; i++) expect(entries[i]!.at >= entries[i - 1]!.at).toBe(true);
    expect(entries.filter((e) => e.type === 'status').map((e) => e.status)).toEqual(['initiated', 'ringing', 'in-progress', 'completed']);
    const sequence = entries.filter((e) => e.type !== 'status').map((e) => (e.type.startsWith('action.') ? `${e.type} ${e.name}` : e.type === 'dial' ? `dial ${e.event}` : e.type));
    expect(sequence).toEqual([
      'webhook.request', 'webhook.response', 'action.start getDigits', 'digits', 'webhook.request', 'webhook.response', 'action.end getDigits',
      'action.start say', 'action.end say', 'action.start dial', 'dial placed', 'dial answered', 'dial ended', 'action.end dial',
    ]);

    const [welcomeRequest, welcomeResponse, routeRequest, routeResponse] = entries.filter((e) => e.type.startsWith('webhook.'));
    expect(welcomeRequest).toMatchObject({ url: `${app.url}/ivr/welcome`, method: 'POST', body: { CallId: callId, From: '+254711000001', To: number.number, Direction: 'inbound' } });
    expect(welcomeResponse).toMatchObject({ url: `${app.url}/ivr/welcome`, status: 200, content_type: 'application/json' });
    expect(welcomeResponse!.duration_ms).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(welcomeResponse!.body).actions[0].getDigits).toMatchObject({ numDigits: 1, action: `${app.url}/ivr/route`, nested: [{ say: { text: 'Welcome. Press 2 for support.' } }] });
    expect(routeRequest).toMatchObject({ url: `${app.url}/ivr/route`, body: { CallId: callId, Digits: '2' } });
    expect(JSON.parse(routeResponse!.body)).toEqual([{ say: { text: 'Connecting you.' } }, { dial: { number: '+254720000002' } }]);
    expect(entries.find((e) => e.type === 'digits')).toMatchObject({ digits: '2', reason: 'numDigits' });
    expect(entries.filter((e) => e.type === 'action.start').map((e) => e.index)).toEqual([0, 0, 1]);
    expect(entries.find((e) => e.type === 'action.end' && e.name === 'getDigits')).toMatchObject({ index: 0, result: 'replace' });

    // The dial names its leg; the leg's own entries are on its own call id.
    const placed = entries.find((e) => e.type === 'dial' && e.event === 'placed')!;
    expect(placed.legs).toHaveLength(1);
    const childId = placed.legs[0].call_id;
    expect(placed.legs[0]).toMatchObject({ to: '+254720000002' });
    expect(entries.find((e) => e.type === 'dial' && e.event === 'ended')).toMatchObject({ status: 'completed', call_id: childId });
    const child = (await api.call('GET', `/v1/calls/${childId}`)).json();
    expect(child.parent_call_id).toBe(callId);
    await until(async () => ((await api.call('GET', `/v1/calls/${childId}`)).json().ended_at ? true : undefined));
    const childEntries = await timeline(childId);
    expect(childEntries.filter((e) => e.type === 'status').map((e) => e.status)).toEqual(['initiated', 'ringing', 'in-progress', 'completed']);
    expect(types).not.toContain('warning');
    expect(types).not.toContain('error');
  }, 60_000);

  it('a typo\'d field numDigit: the action runs (finishing on #), a warning on the timeline and an unknown_action_field entry in errors', async () => {
    const number = await claim('/typo/welcome');
    const callId = await callFromSandbox(number.number, [{ wait: 1 }, { press: '1#' }]);
    const entries = await timeline(callId);
    const warning = entries.find((e) => e.type === 'warning');
    expect(warning).toMatchObject({
      code: 'unknown_action_field', action: 'getDigits', field: 'numDigit', suggestion: 'numDigits', action_index: 0, url: `${app.url}/typo/welcome`,
    });
    expect(warning!.message).toContain("unknown field 'numDigit' (did you mean 'numDigits'?)");
    // The warning follows the answer that held the field, and the action still ran: # ended the input, the route answered XML.
    const types = entries.map((e) => e.type);
    expect(types.indexOf('warning')).toBeGreaterThan(types.indexOf('webhook.response'));
    expect(entries.find((e) => e.type === 'digits')).toMatchObject({ digits: '1', reason: 'finishOnKey' });
    const xmlAnswer = entries.filter((e) => e.type === 'webhook.response')[1];
    expect(xmlAnswer).toMatchObject({ status: 200, content_type: 'application/xml', body: '<Response><Say>Thanks.</Say><Hangup/></Response>' });
    const call = (await api.call('GET', `/v1/calls/${callId}`)).json();
    expect(call.status).toBe('completed');
    expect(call.errors).toEqual([expect.objectContaining({ code: 'unknown_action_field', field: 'numDigit', severity: 'warning', action_index: 0 })]);
  }, 60_000);

  it('a webhook answering 500 with a body: its status and body on the timeline, the error, and the call ending', async () => {
    const number = await claim('/broken');
    const callId = await callFromSandbox(number.number, [{ wait: 1 }]);
    const entries = await timeline(callId);
    expect(entries.find((e) => e.type === 'webhook.request')).toMatchObject({ url: `${app.url}/broken`, method: 'POST' });
    expect(entries.find((e) => e.type === 'webhook.response')).toMatchObject({
      url: `${app.url}/broken`, status: 500, content_type: 'text/plain', body: 'database is down: ECONNREFUSED 10.0.0.5:5432',
    });
    expect(entries.find((e) => e.type === 'error')).toMatchObject({ code: 'webhook_http_error', message: 'the webhook answered HTTP 500', url: `${app.url}/broken` });
    const last = entries.filter((e) => e.type === 'status').at(-1);
    expect(last).toMatchObject({ status: 'failed', hangup_cause: 'no_actions' });
  }, 60_000);

  it('a call of another workspace is 404, as a call that does not exist; no key is 401', async () => {
    const number = await claim('/broken');
    const callId = await callFromSandbox(number.number, [{ wait: 0.5 }]);
    const other = (await api.call('POST', '/v1/admin/workspaces', { key: api.credentials.admin_key, body: { name: 'other' } })).json();
    const foreign = await api.call('GET', `/v1/calls/${callId}/timeline`, { key: other.api_key });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error.code).toBe('not_found');
    expect((await api.call('GET', '/v1/calls/call_nope/timeline')).json().error.code).toBe('not_found');
    expect((await api.call('GET', `/v1/calls/${callId}/timeline`, { key: null })).statusCode).toBe(401);
  }, 60_000);

  it('Authorization: Basic with the key as user name and an empty password works (curl -u KEY:); malformed Basic is 401 with a SPEC §3 body', async () => {
    const number = await claim('/broken');
    const callId = await callFromSandbox(number.number, [{ wait: 0.5 }]);
    const basic = (userPass: string) => ({ authorization: `Basic ${Buffer.from(userPass).toString('base64')}` });
    const entries = await (async () => {
      const res = await api.call('GET', `/v1/calls/${callId}/timeline`, { key: null, headers: basic(`${api.credentials.api_key}:`) });
      expect(res.statusCode).toBe(200);
      return res.json().data as Entry[];
    })();
    expect(entries.length).toBeGreaterThan(0);
    expect((await api.call('GET', '/v1/wallet', { key: null, headers: basic(`${api.credentials.api_key}:`) })).statusCode).toBe(200);
    for (const headers of [{ authorization: 'Basic !!!not-base64' }, basic(api.credentials.api_key), basic(`${api.credentials.api_key}:secret`), basic(':'), basic('sk_live_unknown_0123456789:'), { authorization: 'Basic' }]) {
      const res = await api.call('GET', `/v1/calls/${callId}/timeline`, { key: null, headers });
      expect(res.statusCode, headers.authorization).toBe(401);
      expect(res.json(), headers.authorization).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    }
  }, 60_000);
});
