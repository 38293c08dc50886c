/**
 * SIPp as a carrier trunk: it calls a claimed number (Request-URI without
 * the +), presses 2 with RFC 4733 events from SIPp's own pcap, and a second
 * SIPp on the trunk's address answers the leg the IVR dials.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/cli-process.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';
import { sipp } from './peers.js';

const scenario = fileURLToPath(new URL('./scenarios/trunk-call-rfc4733.xml', import.meta.url));

describe('a carrier trunk (SIPp) calling in, pressing 2 with RFC 4733, and a dialled leg to a second SIPp', () => {
  let api: TestApi;
  let app: HttpReceiver;

  beforeAll(async () => {
    api = await startTestApi('sqlite');
    app = await HttpReceiver.start();
    app.respond = (req) => req.url === '/ivr'
      ? { status: 200, body: JSON.stringify([{ getDigits: { numDigits: 1, timeout: 8, action: `${app.url}/route`, nested: [{ say: { text: 'Press 2 for support.' } }] } }]) }
      : { status: 200, body: JSON.stringify([{ dial: { number: '+254720009999', timeLimit: 2 } }]) };
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await api?.close();
  });

  it('runs the IVR on the trunk call, gets the digit, and bridges to the trunk\'s answering leg', async () => {
    const admin = api.credentials.admin_key;
    const uasPort = await freePort();
    const trunk = await api.call('POST', '/v1/admin/trunks', { key: admin, body: {
      // No OPTIONS pings: SIPp's built-in uas scenario would take one for a call it does not expect.
      name: 'sipp-carrier', host: '127.0.0.1', port: uasPort, transport: 'udp', prefixes: ['+2547200'], inbound_addresses: ['127.0.0.1'], options_ping: 0,
    } });
    expect(trunk.statusCode).toBe(201);
    const number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: `${app.url}/ivr` } })).json();
    const sip = api.platform.sipAddress;

    const uas = sipp(['-sn', 'uas', '-i', '127.0.0.1', '-p', String(uasPort), '-m', '1']);
    await new Promise((r) => setTimeout(r, 500));
    const uac = await sipp(['-sf', scenario, '-s', number.number.slice(1), '-i', '127.0.0.1', '-p', String(await freePort()),
      '-mp', String(await freePort()), '-m', '1', `${sip.host}:${sip.port}`]);
    expect(uac.code, uac.output).toBe(0);
    const answered = await uas;
    expect(answered.code, answered.output).toBe(0);

    expect(app.requests.find((r) => r.url === '/route')?.json).toMatchObject({ Digits: '2', From: '+254711555000', To: number.number, Direction: 'inbound' });
    const parent = app.requests.find((r) => r.url === '/ivr')!.json.CallId as string;
    const leg = await until(async () => {
      const [child] = (await api.call('GET', `/v1/calls?parent_call_id=${parent}`)).json();
      return child && child.price !== null ? child : undefined;
    });
    expect(leg).toMatchObject({ to: '+254720009999', status: 'completed', hangup_cause: 'time_limit' });
    const call = await until(async () => {
      const c = (await api.call('GET', `/v1/calls/${parent}`)).json();
      return c.price !== null ? c : undefined;
    });
    expect(call).toMatchObject({ direction: 'inbound', status: 'completed', number_id: number.id });
  }, 60_000);
});
