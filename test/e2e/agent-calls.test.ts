/**
 * Agents' softphones place calls (SPEC §13), driven with the platform's own
 * SIP stack as the softphone: the 407 challenge, refusals that allocate
 * nothing, direct routing like a PBX (an E.164 number out through the
 * sandbox, another user of the domain, a number of the workspace), the
 * routing_url callback, and a blind transfer by REFER.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaEngine } from '../../src/media/engine.js';
import { silentLogger } from '../../src/shared/log.js';
import type { SipSession } from '../../src/sip/ua/sip-session.js';
import { SipUserAgent } from '../../src/sip/ua/sip-user-agent.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';

describe('agents\' softphones place calls: 407, routing and REFER', () => {
  let api: TestApi;
  let app: HttpReceiver;
  let phone: SipUserAgent;
  let media: MediaEngine;
  let domain = '';
  let callerId = '';
  let sip = '';

  /** An offer from a real media endpoint, so the platform's answer has somewhere to send RTP. */
  async function offer(): Promise<string> {
    const endpoint = await media.createEndpoint({ logger: silentLogger });
    const { describeSdp } = await import('../../src/legs/sdp-glue.js');
    const local = endpoint.localDescription();
    return describeSdp(local, local.audio, Date.now());
  }

  function call(to: string, password: string | undefined, user = 'alice'): Promise<SipSession> {
    return offer().then((sdp) => phone.invite(`sip:${to}@${domain}`, {
      sdp, from: `sip:${user}@${domain}`, proxy: sip, ...(password ? { auth: { username: user, password } } : {}),
    }).wait());
  }

  const callsTo = async (to: string) => (await api.call('GET', `/v1/calls?to=${encodeURIComponent(to)}`)).json() as Array<Record<string, unknown>>;
  const final = (id: string) => until(async () => {
    const c = (await api.call('GET', `/v1/calls/${id}`)).json();
    return c.price !== null ? c : undefined;
  }, 20_000);

  beforeAll(async () => {
    api = await startTestApi('sqlite');
    app = await HttpReceiver.start();
    phone = new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], publicHost: '127.0.0.1' });
    await phone.start();
    media = new MediaEngine({ portMin: 47000, portMax: 47999, logger: silentLogger });
    const number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470' } })).json();
    callerId = number.number;
    const alice = (await api.call('POST', '/v1/sip/credentials', { body: { username: 'alice', password: 'alice-pass-1', caller_id: callerId } }));
    expect(alice.statusCode).toBe(201);
    expect(alice.json()).toMatchObject({ caller_id: callerId, routing_url: null });
    domain = alice.json().domain;
    sip = `sip:${api.platform.sipAddress.host}:${api.platform.sipAddress.port};lr`;
  }, 60_000);
  afterAll(async () => {
    await phone?.close();
    await media?.close();
    await app?.close();
    await api?.close();
  });

  it('caller_id must be a number of the workspace (422 caller_id_not_allowed); PATCH changes routing_url and caller_id', async () => {
    const refused = await api.call('POST', '/v1/sip/credentials', { body: { username: 'mallory', password: 'mallory-pass', caller_id: '+254799999999' } });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error).toMatchObject({ code: 'caller_id_not_allowed', field: 'caller_id' });
    const [alice] = (await api.call('GET', '/v1/sip/credentials')).json();
    const patched = await api.call('PATCH', `/v1/sip/credentials/${alice.id}`, { body: { caller_id: '+254799999999' } });
    expect(patched.json().error.code).toBe('caller_id_not_allowed');
    expect((await api.call('PATCH', `/v1/sip/credentials/${alice.id}`, { body: { routing_url: `${app.url}/agent` } })).json()).toMatchObject({ routing_url: `${app.url}/agent`, caller_id: callerId });
    expect((await api.call('PATCH', `/v1/sip/credentials/${alice.id}`, { body: { routing_url: null } })).json()).toMatchObject({ routing_url: null });
    expect((await api.call('PATCH', '/v1/sip/credentials/sipc_nope', { body: { routing_url: null } })).statusCode).toBe(404);
  });

  it('challenges with 407, refuses a wrong password with 403 and an unknown workspace domain with 404, writing no call', async () => {
    await expect(call('0712000001', undefined)).rejects.toMatchObject({ status: 407 });
    await expect(call('0712000001', 'wrong-password')).rejects.toMatchObject({ status: 403 });
    const ghost = await offer();
    await expect(phone.invite(`sip:0712000001@ws-0000ghost.sip.sautikit.local`, { sdp: ghost, from: 'sip:alice@ws-0000ghost.sip.sautikit.local', proxy: sip, auth: { username: 'alice', password: 'alice-pass-1' } }).wait())
      .rejects.toMatchObject({ status: 404 });
    // Outside allowed_destinations (["+254"]): 403 after authentication; no record.
    await expect(call('+255712000001', 'alice-pass-1')).rejects.toMatchObject({ status: 403 });
    // A user of the domain that does not exist: 404; one that exists but is not registered: 480.
    await expect(call('nobody', 'alice-pass-1')).rejects.toMatchObject({ status: 404 });
    await api.call('POST', '/v1/sip/credentials', { body: { username: 'bob', password: 'bob-pass-12' } });
    await expect(call('bob', 'alice-pass-1')).rejects.toMatchObject({ status: 480 });
    expect(await callsTo('+254712000001')).toHaveLength(0);
    expect(await callsTo('+255712000001')).toHaveLength(0);
  }, 30_000);

  it('dials 07… like a PBX: the sandbox phone answers, the agent\'s leg and its child are billed, caller ID is the user\'s', async () => {
    const session = await call('0712000002', 'alice-pass-1');
    const [agentLeg] = await until(async () => {
      const list = await callsTo('+254712000002');
      return list.find((c) => c.direction === 'inbound' && c.status === 'in-progress') ? list.filter((c) => c.direction === 'inbound') : undefined;
    });
    await new Promise((r) => setTimeout(r, 1200));
    await session.bye();
    const agent = await final(agentLeg!.id as string);
    expect(agent).toMatchObject({ direction: 'inbound', from: `sip:alice@${domain}`, to: '+254712000002', status: 'completed', rate_per_minute: '0.20', parent_call_id: null });
    const [child] = (await api.call('GET', `/v1/calls?parent_call_id=${agent.id}`)).json();
    const out = await final(child.id);
    expect(out).toMatchObject({ direction: 'outbound', from: callerId, to: '+254712000002', status: 'completed', rate_per_minute: '3.50' });
    const seen = (await api.call('GET', '/v1/sandbox/phones/+254712000002/calls')).json();
    expect(seen[0]).toMatchObject({ from: callerId });
  }, 30_000);

  it('with a routing_url, the call is an inbound call of the workspace that runs its callback (From the agent, To what was dialled)', async () => {
    app.respond = () => ({ status: 200, body: JSON.stringify([{ say: { text: 'Hello agent.' } }, { hangup: {} }]) });
    await api.call('PATCH', '/v1/settings', { body: { softphone_routing_url: `${app.url}/softphones` } });
    const session = await call('712000003', 'alice-pass-1');
    const ended = new Promise((resolve) => session.once('ended', resolve));
    await ended;
    const body = app.requests.find((r) => r.url === '/softphones')?.json;
    expect(body).toMatchObject({ From: `sip:alice@${domain}`, To: '+254712000003', Direction: 'inbound' });
    expect(await final(body!.CallId as string)).toMatchObject({ direction: 'inbound', status: 'completed' });
    await api.call('PATCH', '/v1/settings', { body: { softphone_routing_url: null } });
  }, 30_000);

  it('a REFER from the agent connects the other party to the Refer-To target as a child leg, then hangs the agent up', async () => {
    // The customer (a sandbox phone) stays on the line until hung up.
    const session = await call('0712000004', 'alice-pass-1');
    const agentLeg = await until(async () => (await callsTo('+254712000004')).find((c) => c.direction === 'inbound' && c.status === 'in-progress'));
    const customer = await until(async () => (await api.call('GET', `/v1/calls?parent_call_id=${agentLeg.id}`)).json()[0]);
    const ended = new Promise((resolve) => session.once('ended', resolve));
    const accepted = await session.request('REFER', { headers: [['Refer-To', `<sip:0712000005@${domain}>`], ['Referred-By', `<sip:alice@${domain}>`]] });
    expect(accepted.status).toBe(202);
    await ended;
    const transferred = await until(async () => (await api.call('GET', `/v1/calls?parent_call_id=${customer.id}`)).json()[0]);
    expect(transferred).toMatchObject({ direction: 'outbound', to: '+254712000005', from: callerId });
    expect(await final(agentLeg.id as string)).toMatchObject({ status: 'completed', hangup_cause: 'transferred' });
    // The customer and the new leg stay bridged until one leaves; then both end, billed.
    await until(async () => (await api.call('GET', `/v1/calls/${transferred.id}`)).json().status === 'in-progress');
    await api.call('PATCH', `/v1/calls/${transferred.id}`, { body: { status: 'completed' } });
    expect(await final(customer.id)).toMatchObject({ status: 'completed' });
    expect(await final(transferred.id)).toMatchObject({ status: 'completed', rate_per_minute: '3.50' });
  }, 40_000);
});
