import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';

/**
 * docs/actions.md (getDigits): a caller who hangs up while getDigits waits
 * for keys ends the call there; the `action` URL is not requested (as Twilio
 * does not request Gather's action on hang-up). The keys pressed before the
 * hang-up are on the call's timeline.
 */
describe('getDigits when the caller hangs up', () => {
  let api: TestApi;
  let app: HttpReceiver;

  beforeAll(async () => {
    api = await startTestApi('sqlite');
    app = await HttpReceiver.start();
    app.respond = (req) => {
      if (req.url === '/welcome') {
        return { status: 200, body: JSON.stringify({ actions: [{ getDigits: { numDigits: 4, timeout: 10, action: `${app.url}/digits`,
          nested: [{ say: { text: 'Enter your four digit PIN.' } }] } }] }) };
      }
      return { status: 200, body: JSON.stringify({ actions: [{ say: { text: 'Thank you.' } }] }) };
    };
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await api?.close();
  });

  for (const [name, script] of [
    ['after pressing some keys', [{ wait: 1 }, { press: '12' }, { wait: 0.5 }, { hangup: true }]],
    ['before pressing any key', [{ wait: 1 }, { hangup: true }]],
  ] as const) {
    it(`${name}: the action URL is not requested, and the call ends completed`, async () => {
      const claim = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470' } })).json();
      await api.call('PATCH', `/v1/numbers/${claim.id}`, { body: { routing_url: `${app.url}/welcome`, status_url: `${app.url}/status` } });
      const placed = await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000001', to: claim.number, script, max_duration: 30 } });
      expect(placed.statusCode).toBe(201);
      const { call_id: callId } = placed.json();
      // The hang-up is announced (call.hangup) once the call is filed: by then any action request would have been sent.
      await app.waitFor((reqs) => reqs.some((r) => r.url === '/status' && r.json?.type === 'call.hangup' && r.json.data.call_id === callId), 30_000);
      const call = await until(async () => {
        const c = (await api.call('GET', `/v1/calls/${callId}`)).json();
        return c.status === 'completed' ? c : undefined;
      }, 10_000);
      expect(call).toMatchObject({ status: 'completed', hangup_by: 'caller' });
      expect(app.requests.filter((r) => r.url === '/digits' && r.json?.CallId === callId)).toEqual([]);
      const timeline = (await api.call('GET', `/v1/calls/${callId}/timeline`)).json();
      const digits = timeline.data.find((e: { type: string }) => e.type === 'digits');
      expect(digits).toMatchObject({ digits: script.length > 2 ? '12' : '', reason: 'aborted' });
    }, 60_000);
  }

  it('a hang-up right after the last key: whether or not action is requested, it never hears CallStatus "completed"', async () => {
    const claim = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470' } })).json();
    await api.call('PATCH', `/v1/numbers/${claim.id}`, { body: { routing_url: `${app.url}/welcome`, status_url: `${app.url}/status` } });
    const callIds: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const placed = await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000001', to: claim.number, script: [{ wait: 0.5 }, { press: '1234' }, { hangup: true }], max_duration: 30 } });
      callIds.push(placed.json().call_id);
    }
    await app.waitFor((reqs) => callIds.every((id) => reqs.some((r) => r.url === '/status' && r.json?.type === 'call.hangup' && r.json.data.call_id === id)), 30_000);
    const actionRequests = app.requests.filter((r) => r.url === '/digits' && callIds.includes(r.json?.CallId));
    for (const r of actionRequests) expect(r.json).toMatchObject({ CallStatus: 'in-progress', Digits: '1234' });
  }, 60_000);
});
