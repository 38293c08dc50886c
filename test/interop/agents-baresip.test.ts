/**
 * Agents on real softphones (baresip, driven over ctrl_tcp) place calls
 * through the platform (SPEC §13), with SIPp as the carrier trunk:
 * (i) an agent dials a customer's number in national format, which goes out
 * through the SIPp trunk with the agent's caller ID and is billed;
 * (ii) an agent calls another by `sip:` user, whose two devices both ring
 * and the loser gets CANCEL (iv); (iii) a trunk caller bridged to an agent
 * is blind-transferred by the agent's REFER (`transfer` command) to another
 * user, the new leg a child of the caller's call, the agent hung up;
 * (v) transferred to a number of the workspace, the caller reaches that
 * number's app as an inbound call to it (SPEC §13 direct routing), not a
 * carrier; (vi) transferred to a customer's number, the new leg leaves
 * through the SIPp trunk.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/cli-process.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';
import { BaresipAgent } from './baresip-agent.js';

function sipp(args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('sipp', [...args, '-nostdin', '-timeout', '60s', '-timeout_error'], { stdio: ['ignore', 'pipe', 'pipe'], cwd });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code) => resolve({ code, output: output.slice(-3000) }));
  });
}

describe('agents on baresip place calls, ring every device and transfer by REFER', () => {
  let api: TestApi;
  let app: HttpReceiver;
  const phones: BaresipAgent[] = [];
  let agent1: BaresipAgent;
  let agent2Desk: BaresipAgent;
  let agent2Mobile: BaresipAgent;
  let domain = '';
  let callerId = '';
  let uasPort = 0;
  let salesNumber = '';
  const dir = mkdtempSync(join(tmpdir(), 'agents-sipp-'));

  const final = (id: string) => until(async () => {
    const c = (await api.call('GET', `/v1/calls/${id}`)).json();
    return c.price !== null ? c : undefined;
  }, 30_000);
  const children = async (id: string) => (await api.call('GET', `/v1/calls?parent_call_id=${id}`)).json() as Array<Record<string, string>>;

  beforeAll(async () => {
    api = await startTestApi('sqlite');
    app = await HttpReceiver.start();
    uasPort = await freePort();
    const admin = api.credentials.admin_key;
    expect((await api.call('POST', '/v1/admin/trunks', { key: admin, body: {
      name: 'sipp-carrier', host: '127.0.0.1', port: uasPort, transport: 'udp', prefixes: ['+2547200'], inbound_addresses: ['127.0.0.1'],
      // SIPp's one-call scenario takes an OPTIONS ping for an unexpected message and fails the call.
      options_ping: 0,
    } })).statusCode).toBe(201);
    const number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: `${app.url}/inbound` } })).json();
    callerId = number.number;
    salesNumber = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: `${app.url}/sales` } })).json().number;
    const agent1Credential = (await api.call('POST', '/v1/sip/credentials', { body: { username: 'agent1', password: 'agent1-pass', caller_id: callerId } })).json();
    const agent2Credential = (await api.call('POST', '/v1/sip/credentials', { body: { username: 'agent2', password: 'agent2-pass' } })).json();
    domain = agent1Credential.domain;
    const proxy = api.platform.sipAddress;
    agent1 = await BaresipAgent.start({ aor: agent1Credential.aor, password: 'agent1-pass', proxy, answer: 'auto' });
    agent2Desk = await BaresipAgent.start({ aor: agent2Credential.aor, password: 'agent2-pass', proxy, answer: 'auto' });
    agent2Mobile = await BaresipAgent.start({ aor: agent2Credential.aor, password: 'agent2-pass', proxy, answer: 'manual' });
    phones.push(agent1, agent2Desk, agent2Mobile);
    await until(async () => api.platform.engine.registrationsOf(number.workspace_id ?? api.credentials.workspace_id).length === 3, 20_000)
      .catch((error: unknown) => { throw new Error(`baresip did not register: ${String(error)}\n${phones.map((p) => p.output.slice(-1500)).join('\n---\n')}`); });
  }, 60_000);
  afterAll(async () => {
    for (const phone of phones) await phone.close();
    rmSync(dir, { recursive: true, force: true });
    await app?.close();
    await api?.close();
  });

  it('(i) an agent dials 0720009999: the INVITE leaves through the SIPp trunk with the agent\'s caller ID; both legs end billed', async () => {
    const uas = sipp(['-sn', 'uas', '-i', '127.0.0.1', '-p', String(uasPort), '-m', '1', '-trace_msg'], dir);
    await new Promise((r) => setTimeout(r, 500));
    const before = (await api.call('GET', '/v1/wallet')).json().balance as string;
    const since = agent1.events.length;
    agent1.command('dial', '0720009999');
    await agent1.waitFor('CALL_ESTABLISHED', since);
    await new Promise((r) => setTimeout(r, 2000));
    agent1.command('hangup');
    const answered = await uas;
    expect(answered.code, answered.output).toBe(0);
    const log = readdirSync(dir).find((f) => f.endsWith('_messages.log'))!;
    const invite = readFileSync(join(dir, log), 'utf8').split(/\n(?=-{5,})|\n\n(?=[A-Z]+ sip:)/).find((m) => m.includes('INVITE sip:'))!;
    expect(invite).toMatch(new RegExp(`^From: .*sip:\\${callerId}@`, 'm'));

    const [agentLeg] = (await api.call('GET', `/v1/calls?from=${encodeURIComponent(`sip:agent1@${domain}`)}`)).json();
    const agentCall = await final(agentLeg.id);
    expect(agentCall).toMatchObject({ direction: 'inbound', to: '+254720009999', status: 'completed', rate_per_minute: '0.20' });
    const [child] = await children(agentCall.id);
    expect(await final(child!.id!)).toMatchObject({ direction: 'outbound', from: callerId, to: '+254720009999', status: 'completed', rate_per_minute: '3.50' });
    expect(Number((await api.call('GET', '/v1/wallet')).json().balance)).toBeLessThan(Number(before));
    const ledger = (await api.call('GET', '/v1/wallet/transactions')).json() as Array<{ call_id: string | null }>;
    expect(ledger.map((t) => t.call_id)).toEqual(expect.arrayContaining([agentCall.id, child!.id]));
  }, 60_000);

  it('(ii, iv) agent1 calls sip:agent2: both of agent2\'s devices ring, the desk answers, the mobile gets CANCEL', async () => {
    const desk = agent2Desk.events.length;
    const mobile = agent2Mobile.events.length;
    const since = agent1.events.length;
    agent1.command('dial', `sip:agent2@${domain}`);
    await agent1.waitFor('CALL_ESTABLISHED', since);
    await agent2Desk.waitFor('CALL_ESTABLISHED', desk);
    await agent2Mobile.waitFor('CALL_INCOMING', mobile);
    await agent2Mobile.waitFor('CALL_CLOSED', mobile);
    expect(agent2Mobile.output).toMatch(/CANCEL sip:/);
    await new Promise((r) => setTimeout(r, 1000));
    agent1.command('hangup');
    const leg = await until(async () => (await api.call('GET', `/v1/calls?to=${encodeURIComponent(`sip:agent2@${domain}`)}`)).json()
      .find((c: { direction: string; price: string | null }) => c.direction === 'inbound' && c.price !== null));
    expect(leg).toMatchObject({ from: `sip:agent1@${domain}`, status: 'completed', rate_per_minute: '0.20' });
    const [child] = await children(leg.id);
    expect(await final(child!.id!)).toMatchObject({ direction: 'outbound', to: `sip:agent2@${domain}`, status: 'completed' });
    expect(await children(leg.id)).toHaveLength(1);
  }, 60_000);

  it('(iii) a trunk caller bridged to agent1 is transferred by agent1\'s REFER to sip:agent2: a child leg of the caller\'s call, agent1 hung up', async () => {
    app.respond = () => ({ status: 200, body: JSON.stringify([{ dial: { sip: `sip:agent1@${domain}`, timeout: 10 } }]) });
    // The number this suite claimed and routed (the first workspace also owns the pages' +254711000001 from the first start).
    const number = (await api.call('GET', '/v1/numbers')).json().find((n: { routing_url: string | null }) => n.routing_url).number as string;
    const sip = api.platform.sipAddress;
    const since = agent1.events.length;
    const desk = agent2Desk.events.length;
    const caller = sipp(['-sn', 'uac', '-s', number.slice(1), '-i', '127.0.0.1', '-p', String(await freePort()), '-m', '1', '-d', '9000', `${sip.host}:${sip.port}`], dir);
    await agent1.waitFor('CALL_ESTABLISHED', since);
    await new Promise((r) => setTimeout(r, 1000));
    agent1.command('transfer', `sip:agent2@${domain}`);
    await agent2Desk.waitFor('CALL_ESTABLISHED', desk);
    await agent1.waitFor('CALL_CLOSED', since);
    const done = await caller;
    expect(done.code, done.output).toBe(0);

    const parent = app.requests.find((r) => r.url === '/inbound')!.json.CallId as string;
    const legs = await until(async () => {
      const list = await children(parent);
      return list.length === 2 && list.every((c) => c.price !== null) ? list : undefined;
    }, 30_000);
    const toAgent1 = legs.find((c) => c.to === `sip:agent1@${domain}`)!;
    const toAgent2 = legs.find((c) => c.to === `sip:agent2@${domain}`)!;
    expect(toAgent1).toMatchObject({ status: 'completed', hangup_cause: 'transferred' });
    expect(toAgent2).toMatchObject({ status: 'completed', parent_call_id: parent, from: number });
    expect(await final(parent)).toMatchObject({ direction: 'inbound', status: 'completed' });
    // The transfer's progress reached baresip as NOTIFY message/sipfrag.
    const notifies = agent1.output.split('#\n').filter((m) => /^UDP [^\n]+\nNOTIFY sip:/.test(m));
    expect(notifies.map((m) => /^Subscription-State: (\w+)/m.exec(m)?.[1])).toEqual(['active', 'terminated']);
    expect(notifies.map((m) => /^SIP\/2\.0 \d+ [^\r\n]*/m.exec(m)?.[0])).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 200 OK']);
  }, 60_000);

  /** A SIPp carrier calls the first number, whose app dials agent1; agent1 answers and REFERs the caller to `referTo`. */
  async function transferTrunkCaller(referTo: string): Promise<{ parent: string; caller: Promise<{ code: number | null; output: string }> }> {
    const number = (await api.call('GET', '/v1/numbers')).json().find((n: { number: string }) => n.number === callerId).number as string;
    app.requests.length = 0;
    app.respond = (req) => req.url === '/sales'
      ? { status: 200, body: JSON.stringify([{ say: { text: 'Sales, hello.' } }, { pause: { length: 20 } }]) }
      : { status: 200, body: JSON.stringify([{ dial: { sip: `sip:agent1@${domain}`, timeout: 10 } }]) };
    const sip = api.platform.sipAddress;
    const since = agent1.events.length;
    const caller = sipp(['-sn', 'uac', '-s', number.slice(1), '-i', '127.0.0.1', '-p', String(await freePort()), '-m', '1', '-d', '8000', `${sip.host}:${sip.port}`], dir);
    await agent1.waitFor('CALL_ESTABLISHED', since);
    await new Promise((r) => setTimeout(r, 1000));
    agent1.command('transfer', referTo);
    await agent1.waitFor('CALL_CLOSED', since);
    const parent = app.requests.find((r) => r.url === '/inbound')!.json.CallId as string;
    return { parent, caller };
  }

  it('(v) agent1 REFERs a trunk caller to a number of the workspace: the caller reaches that number\'s app as an inbound call to it', async () => {
    const { parent, caller } = await transferTrunkCaller(`sip:${salesNumber}@${domain}`);
    const sales = await until(async () => app.requests.find((r) => r.url === '/sales'), 20_000);
    const parentCall = (await api.call('GET', `/v1/calls/${parent}`)).json();
    // The number's app is asked as for any call to it: inbound, to the number, from the transferred caller.
    expect(sales.json).toMatchObject({ Direction: 'inbound', To: salesNumber, From: parentCall.from });
    const done = await caller;
    expect(done.code, done.output).toBe(0);
    const legs = await until(async () => {
      const list = await children(parent);
      return list.length === 2 && list.every((c) => c.price !== null) ? list : undefined;
    }, 30_000);
    expect(legs.find((c) => c.to === `sip:agent1@${domain}`)).toMatchObject({ status: 'completed', hangup_cause: 'transferred' });
    expect(legs.find((c) => c.to === salesNumber)).toMatchObject({ direction: 'outbound', status: 'completed' });
    // The number's own call: inbound to it, answered by its app, billed; no carrier involved.
    const salesCall = await final(sales.json.CallId as string);
    expect(salesCall).toMatchObject({ direction: 'inbound', to: salesNumber, status: 'completed' });
    const notifies = agent1.output.split('#\n').filter((m) => /^UDP [^\n]+\nNOTIFY sip:/.test(m));
    expect(notifies.map((m) => /^SIP\/2\.0 \d+ [^\r\n]*/m.exec(m)?.[0]).slice(-1)).toEqual(['SIP/2.0 200 OK']);
  }, 60_000);

  it('(vi) agent1 REFERs a trunk caller to a customer\'s number: the new leg leaves through the SIPp trunk', async () => {
    const uas = sipp(['-sn', 'uas', '-i', '127.0.0.1', '-p', String(uasPort), '-m', '1'], dir);
    await new Promise((r) => setTimeout(r, 500));
    const { parent, caller } = await transferTrunkCaller(`sip:0720005555@${domain}`);
    const [done, answered] = await Promise.all([caller, uas]);
    expect(done.code, done.output).toBe(0);
    expect(answered.code, answered.output).toBe(0);
    const legs = await until(async () => {
      const list = await children(parent);
      return list.length === 2 && list.every((c) => c.price !== null) ? list : undefined;
    }, 30_000);
    expect(legs.find((c) => c.to === '+254720005555')).toMatchObject({ direction: 'outbound', status: 'completed', rate_per_minute: '3.50' });
  }, 60_000);
});
