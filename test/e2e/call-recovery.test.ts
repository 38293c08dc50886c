import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { priceCents } from '../../src/billing/rating.js';
import { verifySautikitSignature } from '../../src/index.js';
import { Store } from '../../src/store/store.js';
import { startCli, type RunningServer } from '../helpers/cli-process.js';
import { HttpReceiver, type ReceivedRequest } from '../helpers/http-receiver.js';
import { until } from '../helpers/until.js';

const calls = 30;

/**
 * SPEC §18, issue 14: a server killed with SIGKILL while calls are up ends
 * them when it starts again — completed, billed up to their last liveness
 * beat, reservations released, one signed call.hangup each — even though the
 * status receiver was down when the server died.
 */
describe('live calls across a crash', () => {
  const data = mkdtempSync(path.join(os.tmpdir(), 'sautikit-recovery-'));
  afterAll(() => rmSync(data, { recursive: true, force: true }));

  it(`a server killed with SIGKILL during ${calls} answered calls ends them at restart: completed, platform_restart, billed once, one call.hangup each`, async () => {
    // GIVEN a number whose app keeps every call up for ten minutes, and a status receiver
    const app = await HttpReceiver.start();
    app.respond = () => ({ status: 200, body: JSON.stringify([{ pause: { length: 600 } }]) });
    let statusReceiver = await HttpReceiver.start();
    const statusPort = Number(new URL(statusReceiver.url).port);
    const args = ['--data', data, '--webhook-retry-schedule', '0,1,1,1,1,1,1,1'];
    let server: RunningServer | undefined = await startCli(args);
    const credentials = JSON.parse(readFileSync(path.join(data, 'credentials.json'), 'utf8'));
    const api = async (method: string, url: string, body?: unknown) => {
      const res = await fetch(`${server!.baseUrl}${url}`, {
        method, headers: { authorization: `Bearer ${credentials.api_key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, json: await res.json() as any };
    };
    const hangupsOf = (requests: ReceivedRequest[]) => requests.filter((r) => r.json?.type === 'call.hangup');
    const store = await Store.open({ url: path.join(data, 'sautikit.db') });
    try {
      const number = (await api('POST', '/v1/numbers', { prefix: '+254700', routing_url: `${app.url}/voice`, status_url: `${statusReceiver.url}/status` })).json;
      expect(number.number).toMatch(/^\+254700/);

      // WHEN 30 sandbox phones call it and stay on the line
      const placed = await Promise.all(Array.from({ length: calls }, (_, i) => api('POST', '/v1/sandbox/calls', {
        from: `+2547110${String(i).padStart(5, '0')}`, to: number.number, script: [{ wait: 600 }], max_duration: 600,
      })));
      const ids = placed.map((p) => p.json.call_id as string);
      expect(new Set(ids).size).toBe(calls);
      await until(async () => (await api('GET', '/v1/calls?status=in-progress&limit=100')).json.length === calls, 60_000);
      // Everything sent so far has reached the receiver, so it will miss nothing while it is down.
      await statusReceiver.waitFor((r) => r.filter((x) => x.json?.type === 'call.answered').length === calls, 30_000);
      // …and every call has been marked alive at least once since its answer (the beat is every 15 s).
      const beats = async () => store.db.selectFrom('calls').select(['id', 'answered_at', 'alive_at']).where('id', 'in', ids).execute();
      await until(async () => (await beats()).every((c) => c.alive_at !== null && c.answered_at !== null && c.alive_at > c.answered_at), 45_000, 500);
      const before = (await api('GET', '/v1/wallet')).json;
      expect(Number(before.reserved)).toBeGreaterThan(0);

      // AND the server is killed while the status receiver is down
      await statusReceiver.close();
      server.child.kill('SIGKILL');
      await server.stop();
      server = undefined;
      const left = new Map((await beats()).map((c) => [c.id, c]));
      expect((await store.calls.listLive({ limit: 100, nodeId: store.nodeId, orNoNode: true })).map((c) => c.id).sort()).toEqual([...ids].sort());
      statusReceiver = await HttpReceiver.start(statusPort);
      server = await startCli(args);

      // THEN within a minute every call is over and announced once (the calls are ended before the API answers at all)
      await statusReceiver.waitFor((r) => hangupsOf(r).length >= calls, 60_000);
      const hangups = hangupsOf(statusReceiver.requests);
      expect(hangups.map((h) => h.json.data.call_id).sort()).toEqual([...ids].sort());
      for (const h of hangups) {
        expect(verifySautikitSignature(h.rawBody, h.headers['sautikit-signature'], credentials.signing_secret).ok).toBe(true);
        expect(h.json.data).toMatchObject({ status: 'completed', hangup_cause: 'platform_restart', hangup_by: 'system' });
      }

      // AND each is billed once, at the inbound rate, from its answer to its last beat
      const ledger = (await api('GET', '/v1/wallet/transactions?limit=1000')).json as Array<{ type: string; call_id: string; amount: string }>;
      const charges = ledger.filter((t) => t.type === 'call_charge');
      expect(charges.map((t) => t.call_id).sort()).toEqual([...ids].sort());
      for (const id of ids) {
        const call = (await api('GET', `/v1/calls/${id}`)).json;
        const { answered_at: answeredAt, alive_at: aliveAt } = left.get(id)!;
        const seconds = Math.ceil((Date.parse(aliveAt!) - Date.parse(answeredAt!)) / 1000);
        const price = (priceCents(seconds, 50) / 100).toFixed(2);
        expect(call).toMatchObject({
          status: 'completed', hangup_cause: 'platform_restart', hangup_by: 'system', answered_at: answeredAt, ended_at: aliveAt,
          duration_seconds: seconds, rate_per_minute: '0.50', price,
        });
        expect(charges.find((t) => t.call_id === id)!.amount).toBe(`-${price}`);
        // It is over: live control answers that it is not active.
        const patched = await api('PATCH', `/v1/calls/${id}`, { status: 'completed' });
        expect(patched.status).toBe(409);
        expect(patched.json.error.code).toBe('call_not_active');
      }
      expect((await api('GET', '/v1/wallet')).json.reserved).toBe('0.00');
      expect(server.output().match(/call left live by an earlier run ended/g)).toHaveLength(calls);

      // AND the outbox holds exactly one call.hangup per call, delivered
      await server.stop();
      server = undefined;
      const rows = await store.db.selectFrom('outbox').select(['call_id', 'status']).where('type', '=', 'call.hangup').execute();
      expect(rows.map((r) => r.call_id).sort()).toEqual([...ids].sort());
      expect(rows.every((r) => r.status === 'delivered')).toBe(true);
    } finally {
      if (server) {
        server.child.kill('SIGKILL');
        await server.stop();
      }
      await store.close();
      await statusReceiver.close().catch(() => undefined);
      await app.close();
    }
  }, 240_000);
});
