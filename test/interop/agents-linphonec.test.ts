/**
 * linphonec (Debian `linphone-cli` 5.1.65, liblinphone 5.1) as a registered
 * agent next to baresip (SPEC §13), SIPp as the carrier trunk:
 * (i) the linphonec agent dials a customer's number in national format: the
 * INVITE leaves through the SIPp trunk with the agent's caller ID and both
 * legs are billed; (ii) baresip and linphonec call each other by `sip:` user;
 * (iii) one user registered on baresip and on linphonec: a call to that user
 * rings both, linphonec answers, baresip gets CANCEL; (iv) a carrier's
 * caller bridged to linphonec is transferred by linphonec's REFER
 * (`transfer <id> sip:…`) to baresip.
 * How linphonec is made to register headless: see linphonec-agent.ts.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/cli-process.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';
import { BaresipAgent } from './baresip-agent.js';
import { LinphonecAgent } from './linphonec-agent.js';
import { sipp } from './peers.js';

describe('an agent on linphonec next to agents on baresip', () => {
  let api: TestApi;
  let app: HttpReceiver;
  let linphone: LinphonecAgent;
  let sharedLinphone: LinphonecAgent;
  let bare: BaresipAgent;
  let sharedBare: BaresipAgent;
  let domain = '';
  let callerId = '';
  let uasPort = 0;
  const dir = mkdtempSync(join(tmpdir(), 'linphonec-sipp-'));

  const final = (id: string) => until(async () => {
    const c = (await api.call('GET', `/v1/calls/${id}`)).json();
    return c.price !== null ? c : undefined;
  }, 30_000);
  const children = async (id: string) => (await api.call('GET', `/v1/calls?parent_call_id=${id}`)).json() as Array<Record<string, string>>;
  const legTo = (to: string) => until(async () => (await api.call('GET', `/v1/calls?to=${encodeURIComponent(to)}`)).json()
    .find((c: { direction: string; price: string | null }) => c.direction === 'inbound' && c.price !== null));

  beforeAll(async () => {
    api = await startTestApi('sqlite');
    app = await HttpReceiver.start();
    uasPort = await freePort();
    expect((await api.call('POST', '/v1/admin/trunks', { key: api.credentials.admin_key, body: {
      name: 'sipp-carrier', host: '127.0.0.1', port: uasPort, transport: 'udp', prefixes: ['+2547200'], inbound_addresses: ['127.0.0.1'],
      // SIPp's one-call scenario takes an OPTIONS ping for an unexpected message and fails the call.
      options_ping: 0,
    } })).statusCode).toBe(201);
    const number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: `${app.url}/inbound` } })).json();
    callerId = number.number;
    const credential = async (username: string, extra: Record<string, string> = {}) =>
      (await api.call('POST', '/v1/sip/credentials', { body: { username, password: `${username}-pass-1`, ...extra } })).json();
    domain = (await credential('lin', { caller_id: callerId })).domain;
    // Every agent presents this number (the workspace also owns the page samples' numbers from its first start).
    const bareCredential = await credential('bare', { caller_id: callerId });
    const sharedCredential = await credential('shared', { caller_id: callerId });
    const proxy = api.platform.sipAddress;
    linphone = await LinphonecAgent.start({ user: 'lin', domain, password: 'lin-pass-1', proxy, autoAnswer: true });
    sharedLinphone = await LinphonecAgent.start({ user: 'shared', domain, password: 'shared-pass-1', proxy, autoAnswer: true });
    bare = await BaresipAgent.start({ aor: bareCredential.aor, password: 'bare-pass-1', proxy, answer: 'auto' });
    sharedBare = await BaresipAgent.start({ aor: sharedCredential.aor, password: 'shared-pass-1', proxy, answer: 'manual' });
    await until(async () => api.platform.engine.registrationsOf(api.credentials.workspace_id).length === 4, 30_000)
      .catch((error: unknown) => { throw new Error(`not all registered: ${String(error)}\n${linphone.output.slice(-1500)}\n---\n${linphone.log().slice(-3000)}`); });
  }, 60_000);
  afterAll(async () => {
    for (const phone of [linphone, sharedLinphone, bare, sharedBare]) await phone?.close();
    rmSync(dir, { recursive: true, force: true });
    await app?.close();
    await api?.close();
  });

  it('(i) linphonec dials 0720009999: the INVITE leaves through the SIPp trunk with the agent\'s caller ID; both legs end billed', async () => {
    const uas = sipp(['-sn', 'uas', '-i', '127.0.0.1', '-p', String(uasPort), '-m', '1', '-trace_msg'], { cwd: dir });
    await new Promise((r) => setTimeout(r, 500));
    const before = Number((await api.call('GET', '/v1/wallet')).json().balance);
    const since = linphone.output.length;
    linphone.command('call 0720009999');
    await linphone.waitFor(/Call \d+ with sip:0720009999@\S+ connected\./, since);
    await new Promise((r) => setTimeout(r, 2000));
    linphone.command('terminate');
    const answered = await uas;
    expect(answered.code, answered.output).toBe(0);
    const log = readdirSync(dir).find((f) => f.endsWith('_messages.log'))!;
    const invite = readFileSync(join(dir, log), 'utf8').split(/\n(?=-{5,})|\n\n(?=[A-Z]+ sip:)/).find((m) => m.includes('INVITE sip:'))!;
    expect(invite).toMatch(new RegExp(`^From: .*sip:\\${callerId}@`, 'm'));

    const agentCall = await final((await legTo('+254720009999')).id);
    expect(agentCall).toMatchObject({ direction: 'inbound', from: `sip:lin@${domain}`, status: 'completed', rate_per_minute: '0.20' });
    const [child] = await children(agentCall.id);
    expect(await final(child!.id!)).toMatchObject({ direction: 'outbound', from: callerId, to: '+254720009999', status: 'completed', rate_per_minute: '3.50' });
    expect(Number((await api.call('GET', '/v1/wallet')).json().balance)).toBeLessThan(before);
  }, 60_000);

  it('(ii) baresip calls sip:lin and linphonec answers; linphonec calls sip:bare and baresip answers', async () => {
    let since = linphone.output.length;
    let events = bare.events.length;
    bare.command('dial', `sip:lin@${domain}`);
    // baresip has no caller_id of its own: the workspace's first number is presented (SPEC §13).
    await linphone.waitFor(new RegExp(`Receiving new incoming call from sip:\\${callerId}@`), since);
    await linphone.waitFor(/Call \d+ with \S+ connected\./, since);
    await bare.waitFor('CALL_ESTABLISHED', events);
    await new Promise((r) => setTimeout(r, 1000));
    bare.command('hangup');
    await linphone.waitFor(/Call \d+ with \S+ ended/, since);
    expect(await legTo(`sip:lin@${domain}`)).toMatchObject({ from: `sip:bare@${domain}`, status: 'completed' });

    since = linphone.output.length;
    events = bare.events.length;
    linphone.command(`call sip:bare@${domain}`);
    await bare.waitFor('CALL_ESTABLISHED', events);
    await linphone.waitFor(/Call \d+ with sip:bare@\S+ connected\./, since);
    await new Promise((r) => setTimeout(r, 1000));
    linphone.command('terminate');
    await bare.waitFor('CALL_CLOSED', events);
    expect(await legTo(`sip:bare@${domain}`)).toMatchObject({ from: `sip:lin@${domain}`, status: 'completed' });
  }, 60_000);

  it('(iii) a user on baresip and linphonec: both ring, linphonec answers, baresip gets CANCEL', async () => {
    const since = sharedLinphone.output.length;
    const rung = sharedBare.events.length;
    const events = bare.events.length;
    bare.command('dial', `sip:shared@${domain}`);
    await sharedBare.waitFor('CALL_INCOMING', rung);
    await sharedLinphone.waitFor(/Call \d+ with \S+ connected\./, since);
    await bare.waitFor('CALL_ESTABLISHED', events);
    await sharedBare.waitFor('CALL_CLOSED', rung);
    expect(sharedBare.output).toMatch(/CANCEL sip:/);
    await new Promise((r) => setTimeout(r, 1000));
    bare.command('hangup');
    const leg = await legTo(`sip:shared@${domain}`);
    expect(leg).toMatchObject({ from: `sip:bare@${domain}`, status: 'completed' });
    expect(await children(leg.id)).toHaveLength(1);
  }, 60_000);

  it('(iv) a SIPp carrier\'s caller bridged to linphonec is transferred by its REFER to baresip', async () => {
    app.respond = () => ({ status: 200, body: JSON.stringify([{ dial: { sip: `sip:lin@${domain}`, timeout: 10 } }]) });
    app.requests.length = 0;
    const sip = api.platform.sipAddress;
    const since = linphone.output.length;
    const events = bare.events.length;
    const caller = sipp(['-sn', 'uac', '-s', callerId.slice(1), '-i', '127.0.0.1', '-p', String(await freePort()), '-m', '1', '-d', '8000', `${sip.host}:${sip.port}`], { cwd: dir });
    const [, id] = await linphone.waitFor(/Receiving new incoming call from \S+, assigned id (\d+)/, since);
    await linphone.waitFor(new RegExp(`Call ${id} with \\S+ connected\\.`), since);
    await new Promise((r) => setTimeout(r, 1000));
    linphone.command(`transfer ${id} sip:bare@${domain}`);
    await bare.waitFor('CALL_ESTABLISHED', events);
    await linphone.waitFor(new RegExp(`Call ${id} with \\S+ ended`), since);
    const done = await caller;
    expect(done.code, done.output).toBe(0);
    const parent = app.requests.find((r) => r.url === '/inbound')!.json.CallId as string;
    const legs = await until(async () => {
      const list = await children(parent);
      return list.length === 2 && list.every((c) => c.price !== null) ? list : undefined;
    }, 30_000);
    expect(legs.find((c) => c.to === `sip:lin@${domain}`)).toMatchObject({ status: 'completed', hangup_cause: 'transferred' });
    expect(legs.find((c) => c.to === `sip:bare@${domain}`)).toMatchObject({ status: 'completed', parent_call_id: parent });
  }, 60_000);
});
