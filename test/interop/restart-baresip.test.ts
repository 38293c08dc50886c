/**
 * SPEC §13 "Registrations are kept in the store": baresip registers as an
 * agent with the real binary; the server is stopped (SIGTERM) and started
 * again on the same data folder and ports; without baresip registering
 * again, a SIPp carrier's call to a number whose app dials the agent rings
 * baresip, which answers.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startCli, type RunningServer } from '../helpers/cli-process.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { until } from '../helpers/until.js';
import { BaresipAgent } from './baresip-agent.js';
import { sipp } from './peers.js';

describe('a registered baresip agent stays reachable across a restart of the real binary', () => {
  const data = mkdtempSync(path.join(os.tmpdir(), 'sautikit-restart-baresip-'));
  let app: HttpReceiver;
  let server: RunningServer | undefined;
  let agent: BaresipAgent | undefined;

  beforeAll(async () => {
    app = await HttpReceiver.start();
  });
  afterAll(async () => {
    await agent?.close();
    await server?.stop();
    await app?.close();
    rmSync(data, { recursive: true, force: true });
  });

  it('baresip answers a trunk call dialled to it after the restart, without a new REGISTER', async () => {
    const sipPort = await freePort();
    const args = ['--data', data, '--sip-port', String(sipPort), '--rtp-ports', '46000-46199'];
    server = await startCli(args);
    const { api_key: key, admin_key: admin } = JSON.parse(readFileSync(path.join(data, 'credentials.json'), 'utf8'));
    const call = async (method: string, url: string, body?: unknown, bearer = key) => {
      const res = await fetch(`${server!.baseUrl}${url}`, {
        method, headers: { authorization: `Bearer ${bearer}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return JSON.parse(await res.text());
    };
    await call('POST', '/v1/admin/trunks', { name: 'sipp-carrier', host: '127.0.0.1', port: 5999, transport: 'udp', prefixes: ['+2547200'], inbound_addresses: ['127.0.0.1'], options_ping: 0 }, admin);
    const credential = await call('POST', '/v1/sip/credentials', { username: 'agent', password: 'agent-pass-1' });
    const number = await call('POST', '/v1/numbers', { prefix: '+25470', routing_url: `${app.url}/inbound` });
    app.respond = () => ({ status: 200, body: JSON.stringify([{ dial: { sip: credential.aor, timeout: 15 } }]) });

    agent = await BaresipAgent.start({ aor: credential.aor, password: 'agent-pass-1', proxy: { host: '127.0.0.1', port: sipPort }, answer: 'auto' });
    await until(async () => (await call('GET', '/v1/sip/credentials'))[0].registered === true, 15_000);
    const registers = () => agent!.output.split('\n').filter((l) => l.startsWith('REGISTER sip:')).length;
    const sentBefore = registers();
    expect(sentBefore).toBeGreaterThan(0);

    // WHEN the server is stopped as a service manager stops it, and started again.
    expect(await server.stop()).toBe(0);
    server = await startCli(args);
    expect((await call('GET', '/v1/sip/credentials'))[0]).toMatchObject({ username: 'agent', registered: true });

    // THEN a carrier's call to the number reaches baresip, which answers.
    const since = agent.events.length;
    const caller = sipp(['-sn', 'uac', '-s', number.number.slice(1), '-i', '127.0.0.1', '-p', String(await freePort()), '-m', '1', '-d', '2000', `127.0.0.1:${sipPort}`]);
    await agent.waitFor('CALL_ESTABLISHED', since);
    const done = await caller;
    expect(done.code, done.output).toBe(0);
    expect(registers()).toBe(sentBefore);

    const parent = app.requests.find((r) => r.url === '/inbound')!.json.CallId as string;
    const [leg] = await until(async () => {
      const list = await call('GET', `/v1/calls?parent_call_id=${parent}`);
      return list.length === 1 && list[0].price !== null ? list : undefined;
    }, 30_000);
    expect(leg).toMatchObject({ to: credential.aor, direction: 'outbound', status: 'completed' });
  }, 90_000);
});
