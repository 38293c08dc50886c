import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialectUsable, testDialects } from '../helpers/dialects.js';
import { startCli } from '../helpers/cli-process.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';

/** A fresh workspace with `credit` KES, a claimed number and its API key. */
async function fundedWorkspace(api: TestApi, name: string, credit: string, routingUrl: string): Promise<{ id: string; key: string; number: string }> {
  const admin = api.credentials.admin_key;
  const created = await api.call('POST', '/v1/admin/workspaces', { key: admin, body: { name } });
  expect(created.statusCode).toBe(201);
  const ws = created.json();
  expect((await api.call('POST', `/v1/admin/workspaces/${ws.id}/credits`, { key: admin, body: { amount: credit } })).statusCode).toBeLessThan(300);
  expect((await api.call('PATCH', '/v1/settings', { key: ws.api_key, body: { allow_private_callbacks: true } })).statusCode).toBe(200);
  const claimed = await api.call('POST', '/v1/numbers', { key: ws.api_key, body: { prefix: '+25470', routing_url: routingUrl } });
  expect(claimed.statusCode).toBe(201);
  const number = claimed.json();
  return { id: ws.id, key: ws.api_key, number: number.number };
}

/**
 * Admission of new calls under concurrency (SPEC §10, §18): the first
 * minute's reservation is taken with the call's record, before the 201, so
 * 50 requests at once cannot start more calls than the wallet covers.
 * Requests go over real sockets, at once, on both stores.
 */
describe.each(testDialects)('funds admission on %s', (dialect) => {
  let api: TestApi | undefined;
  let app: HttpReceiver;

  beforeAll(async () => {
    if (!(await dialectUsable(dialect))) return;
    api = await startTestApi(dialect);
    app = await HttpReceiver.start();
    // Admitted calls stay up (their reservations held) for longer than a burst of requests takes on a loaded box;
    // a call that ended during the burst would give its reservation back and let one more in.
    app.respond = () => ({ status: 200, body: JSON.stringify([{ pause: { length: 6 } }, { hangup: {} }]) });
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await api?.close();
  });

  it('50 concurrent POST /v1/calls on KES 10.00 at KES 3.50 a minute: exactly 2 admitted, 48 answered 402', async (ctx) => {
    if (!api) return ctx.skip();
    const ws = await fundedWorkspace(api, `race-${dialect}`, '10.00', `${app.url}/voice`);
    const url = api.platform.httpUrl;
    const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => fetch(`${url}/v1/calls`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ws.key}`, 'content-type': 'application/json' },
      // Safaricom numbers: KES 3.50 a minute in the default rates.
      body: JSON.stringify({ from: ws.number, to: `+2547120000${String(i).padStart(2, '0')}`, action_url: `${app.url}/voice` }),
    }).then(async (res) => ({ status: res.status, body: await res.json() as Record<string, any> }))));
    const admitted = responses.filter((r) => r.status === 201);
    const refused = responses.filter((r) => r.status === 402);
    expect(admitted).toHaveLength(2);
    expect(refused).toHaveLength(48);
    for (const r of refused) expect(r.body).toMatchObject({ error: { code: 'insufficient_funds', field: 'to' } });
    // Refused requests left no call behind.
    const calls = (await api.call('GET', '/v1/calls?limit=100', { key: ws.key })).json();
    expect(calls).toHaveLength(2);
    // Both admitted calls run, end and give their reservations back.
    for (const r of admitted) {
      await until(async () => (await api!.call('GET', `/v1/calls/${r.body['id']}`, { key: ws.key })).json().ended_at, 30_000);
    }
    const wallet = await until(async () => {
      const w = (await api!.call('GET', '/v1/wallet', { key: ws.key })).json();
      return w.reserved === '0.00' ? w : undefined;
    });
    expect(Number(wallet.balance)).toBeGreaterThanOrEqual(0);
  }, 60_000);

  it('a call that fails before its INVITE (no route) gives its reservation back', async (ctx) => {
    if (!api) return ctx.skip();
    const ws = await fundedWorkspace(api, `released-${dialect}`, '10.00', `${app.url}/voice`);
    // One of the workspace's own softphones, not registered: admitted, then no route.
    const to = `sip:nobody@${api.platform.engine.sipDomainOf(ws.id)}`;
    const res = await api.call('POST', '/v1/calls', { key: ws.key, body: { from: ws.number, to, action_url: `${app.url}/voice` } });
    expect(res.statusCode).toBe(201);
    const call = await until(async () => {
      const c = (await api!.call('GET', `/v1/calls/${res.json().id}`, { key: ws.key })).json();
      return c.ended_at ? c : undefined;
    }, 30_000);
    expect(call).toMatchObject({ status: 'failed', hangup_cause: 'no_route' });
    expect((await api.call('GET', '/v1/wallet', { key: ws.key })).json().reserved).toBe('0.00');
  }, 60_000);

  // Sandbox views and phones belong to the workspace that set or called them (SPEC §2: another's is never seen).
  it("one workspace's sandbox phone settings and call list are not another's", async (ctx) => {
    if (!api) return ctx.skip();
    const phone = '+254722555000';
    const a = await fundedWorkspace(api, `tenant-a-${dialect}`, '100.00', `${app.url}/a`);
    const b = await fundedWorkspace(api, `tenant-b-${dialect}`, '100.00', `${app.url}/b`);
    expect((await api.call('PUT', `/v1/sandbox/phones/${phone}`, { key: a.key, body: { answer: 'busy' } })).statusCode).toBe(200);
    expect((await api.call('PUT', `/v1/sandbox/phones/${phone}`, { key: b.key, body: { answer: 'immediately', hangup_after: 1 } })).json()).toMatchObject({ answer: 'immediately' });
    expect((await api.call('GET', `/v1/sandbox/phones/${phone}`, { key: a.key })).json()).toMatchObject({ answer: 'busy' });

    const callA = (await api.call('POST', '/v1/calls', { key: a.key, body: { from: a.number, to: phone, action_url: `${app.url}/a` } })).json();
    const callB = (await api.call('POST', '/v1/calls', { key: b.key, body: { from: b.number, to: phone, action_url: `${app.url}/b` } })).json();
    const endOf = (id: string, key: string) => until(async () => {
      const c = (await api!.call('GET', `/v1/calls/${id}`, { key })).json();
      return c.ended_at ? c : undefined;
    }, 30_000);
    expect(await endOf(callA.id, a.key)).toMatchObject({ status: 'busy' });
    // Answered at once: on PostgreSQL the answer can come before the first record is written (it must still count).
    expect(await endOf(callB.id, b.key)).toMatchObject({ status: 'completed' });

    const listA = (await api.call('GET', `/v1/sandbox/phones/${phone}/calls`, { key: a.key })).json() as Array<{ call_id: string }>;
    const listB = (await api.call('GET', `/v1/sandbox/phones/${phone}/calls`, { key: b.key })).json() as Array<{ call_id: string }>;
    expect(listA.map((c) => c.call_id)).toEqual([callA.id]);
    expect(listB.map((c) => c.call_id)).toEqual([callB.id]);
    const other = (await api.call('GET', `/v1/sandbox/phones/${phone}/calls`)).json();
    expect(other).toEqual([]);
  }, 60_000);
});

/** SIGTERM (SPEC §18): during the grace period running calls go on, new ones are refused, /healthz says draining. */
describe('shutdown window', () => {
  const data = mkdtempSync(path.join(os.tmpdir(), 'sautikit-drain-'));
  afterAll(() => rmSync(data, { recursive: true, force: true }));

  it('refuses new calls over the API (503 shutting_down) and SIP (503) while a running call finishes', async () => {
    const app = await HttpReceiver.start();
    app.respond = (req) => ({ status: 200, body: JSON.stringify(req.url.startsWith('/long') ? [{ pause: { length: 4 } }, { hangup: {} }] : [{ hangup: {} }]) });
    const server = await startCli(['--data', data, '--shutdown-grace', '20']);
    try {
      const credentials = JSON.parse(readFileSync(path.join(data, 'credentials.json'), 'utf8'));
      const headers = { authorization: `Bearer ${credentials.api_key}`, 'content-type': 'application/json' };
      const api = (method: string, url: string, body?: unknown) => fetch(`${server.baseUrl}${url}`, { method, headers, ...(body ? { body: JSON.stringify(body) } : {}) });
      const number = await (await api('POST', '/v1/numbers', { prefix: '+25470', routing_url: `${app.url}/long` })).json() as { number: string };
      const running = await (await api('POST', '/v1/sandbox/calls', { to: number.number, script: [{ wait: 30 }] })).json() as { call_id: string };
      await until(async () => (await (await api('GET', `/v1/calls/${running.call_id}`)).json() as { status: string }).status === 'in-progress');

      server.child.kill('SIGTERM');
      const health = await until(async () => {
        const res = await fetch(`${server.baseUrl}/healthz`);
        return res.status === 503 ? await res.json() as { status: string } : undefined;
      }, 5000, 20);
      expect(health.status).toBe('draining');

      const refused = await api('POST', '/v1/calls', { from: number.number, to: '+254712000001', action_url: `${app.url}/short` });
      expect(refused.status).toBe(503);
      expect(await refused.json()).toMatchObject({ error: { code: 'shutting_down' } });
      // A phone calling in meets SIP 503.
      const inbound = await (await api('POST', '/v1/sandbox/calls', { to: number.number, script: [{ wait: 5 }] })).json() as { id: string };
      const report = await until(async () => {
        const r = await (await api('GET', `/v1/sandbox/calls/${inbound.id}`)).json() as { ended_at: string | null; sip_status: number | null };
        return r.ended_at ? r : undefined;
      }, 5000);
      expect(report.sip_status).toBe(503);
      // The running call goes on until its actions end it.
      expect((await (await api('GET', `/v1/calls/${running.call_id}`)).json() as { status: string }).status).toBe('in-progress');
      // The one SIGTERM is enough: the process exits by itself, cleanly, once the call is over.
      const code = server.child.exitCode ?? await new Promise<number | null>((resolve) => server.child.once('exit', resolve));
      expect(code).toBe(0);
    } finally {
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
      await app.close();
    }
    // After the restart the running call is on record as finished by its own actions, not cut by the shutdown.
    const again = await startCli(['--data', data]);
    try {
      const credentials = JSON.parse(readFileSync(path.join(data, 'credentials.json'), 'utf8'));
      const list = await (await fetch(`${again.baseUrl}/v1/calls?direction=inbound`, { headers: { authorization: `Bearer ${credentials.api_key}` } })).json() as Array<{ id: string; status: string; hangup_cause: string }>;
      expect(list.find((c) => c.status === 'completed')).toMatchObject({ hangup_cause: 'normal_clearing' });
    } finally {
      await again.stop();
    }
  }, 90_000);
});
