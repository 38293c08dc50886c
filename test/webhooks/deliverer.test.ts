import os from 'node:os';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { systemClock } from '../../src/shared/clock.js';
import { provisionWorkspace } from '../../src/store/provision-workspace.js';
import { WebhookDeliverer } from '../../src/webhooks/deliverer.js';
import { EventPublisher } from '../../src/webhooks/event-publisher.js';
import { SafeHttpClient } from '../../src/webhooks/safe-http-client.js';
import { verifySautikitSignature } from '../../src/index.js';
import { freePort } from '../helpers/cli-process.js';
import { describeOnEachDialect } from '../helpers/each-dialect.js';
import { HttpReceiver } from '../helpers/http-receiver.js';

const fastSchedule = [0, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05];

describeOnEachDialect('webhook deliverer', (testStore) => {
  let http: SafeHttpClient;
  const running: Array<{ close(): Promise<void> }> = [];

  beforeAll(() => {
    http = new SafeHttpClient();
  });
  afterEach(async () => {
    for (const r of running.splice(0).reverse()) await r.close();
  });
  afterAll(() => http.close());

  async function setup(options: { allowPrivate?: boolean; schedule?: number[]; perTarget?: number; timeoutMs?: number } = {}) {
    const store = testStore();
    const { workspace } = await provisionWorkspace(store, { name: 'hooks', allowPrivateCallbacks: options.allowPrivate ?? true, now: new Date() });
    const deliverer = new WebhookDeliverer(store, http, {
      schedule: options.schedule ?? fastSchedule, clock: systemClock, pollIntervalMs: 20, timeoutMs: options.timeoutMs ?? 2000,
      perTargetConcurrency: options.perTarget ?? 8, maxInFlight: 64,
    });
    deliverer.start();
    running.push(deliverer);
    const publisher = new EventPublisher(0, deliverer.wake);
    return { workspace, deliverer, publisher, store };
  }

  it('a receiver that fails 3 times then succeeds gets the event on attempt 4 with the same event id', async () => {
    const store = testStore();
    const receiver = await HttpReceiver.start();
    running.push(receiver);
    receiver.respond = (_req, i) => ({ status: i < 3 ? 500 : 200 });
    const { workspace, publisher } = await setup();
    const envelope = await store.transaction((repos) => publisher.publish(repos, {
      workspaceId: workspace.id, type: 'call.answered', data: { call_id: 'call_1' }, statusUrl: `${receiver.url}/status?tenant=a`, now: new Date(),
    }));
    await receiver.waitFor((r) => r.length >= 4);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.requests).toHaveLength(4);
    expect(receiver.requests.map((r) => r.headers['sautikit-event-id'])).toEqual(Array(4).fill(envelope!.id));
    expect(receiver.requests.map((r) => r.headers['sautikit-delivery-attempt'])).toEqual(['1', '2', '3', '4']);
    expect(receiver.requests[0]!.url).toBe('/status?tenant=a');
    const last = receiver.requests[3]!;
    // A status URL gets the envelope with the event's fields also at the top level.
    expect(last.json).toEqual({ call_id: 'call_1', id: envelope!.id, type: 'call.answered', created_at: envelope!.created_at, workspace_id: workspace.id, data: { call_id: 'call_1' } });
    expect(verifySautikitSignature(last.rawBody, last.headers['sautikit-signature'], workspace.signingSecret).ok).toBe(true);
    const [item] = await store.outbox.listForCall('call_1').then(() => store.outbox.due(new Date(Date.now() + 1e9), 1000)).then((due) => due.filter((d) => d.envelope.id === envelope!.id));
    expect(item).toBeUndefined();
    const rows = await store.db.selectFrom('outbox').selectAll().where('payload', 'like', `%${envelope!.id}%`).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'delivered', attempts: 4 });
    const attempts = await store.outbox.attempts(rows[0]!.id);
    expect(attempts.map((a) => a.statusCode)).toEqual([500, 500, 500, 200]);
  });

  it('410 stops a delivery at once', async () => {
    const store = testStore();
    const receiver = await HttpReceiver.start();
    running.push(receiver);
    receiver.respond = () => ({ status: 410 });
    const { workspace, publisher } = await setup();
    const envelope = await store.transaction((repos) => publisher.publish(repos, { workspaceId: workspace.id, type: 'call.hangup', data: {}, statusUrl: receiver.url, now: new Date() }));
    await receiver.waitFor((r) => r.length >= 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.requests).toHaveLength(1);
    const row = await store.db.selectFrom('outbox').selectAll().where('payload', 'like', `%${envelope!.id}%`).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'stopped', attempts: 1 });
  });

  it('workspace webhooks receive only the events they subscribed to, signed with their own secret', async () => {
    const store = testStore();
    const receiver = await HttpReceiver.start();
    running.push(receiver);
    const { workspace, publisher } = await setup();
    const endpoint = await store.webhookEndpoints.create({ workspaceId: workspace.id, url: `${receiver.url}/hooks`, events: ['call.hangup'], now: new Date() });
    await store.transaction(async (repos) => {
      await publisher.publish(repos, { workspaceId: workspace.id, type: 'call.answered', data: { n: 1 }, now: new Date() });
      await publisher.publish(repos, { workspaceId: workspace.id, type: 'call.hangup', data: { n: 2 }, now: new Date() });
    });
    await receiver.waitFor((r) => r.length >= 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.requests.map((r) => r.json.type)).toEqual(['call.hangup']);
    const req = receiver.requests[0]!;
    // A workspace webhook gets the envelope alone.
    expect(Object.keys(req.json).sort()).toEqual(['created_at', 'data', 'id', 'type', 'workspace_id']);
    expect(verifySautikitSignature(req.rawBody, req.headers['sautikit-signature'], endpoint.secret).ok).toBe(true);
    expect(verifySautikitSignature(req.rawBody, req.headers['sautikit-signature'], workspace.signingSecret).ok).toBe(false);
  });

  it('an event in a rolled-back transaction is never sent', async () => {
    const store = testStore();
    const receiver = await HttpReceiver.start();
    running.push(receiver);
    const { workspace, publisher } = await setup();
    await expect(store.transaction(async (repos) => {
      await publisher.publish(repos, { workspaceId: workspace.id, type: 'call.answered', data: {}, statusUrl: receiver.url, now: new Date() });
      throw new Error('state change failed');
    })).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.requests).toHaveLength(0);
  });

  it('a slow receiver does not starve another endpoint', async () => {
    const store = testStore();
    const slow = await HttpReceiver.start();
    const fast = await HttpReceiver.start();
    running.push(slow, fast);
    slow.respond = () => ({ status: 200, delayMs: 1500 });
    const { workspace, publisher } = await setup({ perTarget: 2 });
    await store.transaction(async (repos) => {
      for (let i = 0; i < 20; i++) await publisher.publish(repos, { workspaceId: workspace.id, type: 'call.ringing', data: { i }, statusUrl: slow.url, now: new Date() });
      await publisher.publish(repos, { workspaceId: workspace.id, type: 'call.ringing', data: { fast: true }, statusUrl: fast.url, now: new Date() });
    });
    await fast.waitFor((r) => r.length === 1, 1000);
    expect(slow.requests.length).toBeLessThanOrEqual(2);
  });

  it('refuses at connect time a host name that resolves to a private address when private callbacks are off', async () => {
    const store = testStore();
    const receiver = await HttpReceiver.start();
    running.push(receiver);
    const port = new URL(receiver.url).port;
    const { workspace, publisher } = await setup({ allowPrivate: false });
    // This machine's own name resolves to one of its addresses (loopback here): not a public host.
    const envelope = await store.transaction((repos) => publisher.publish(repos, {
      workspaceId: workspace.id, type: 'call.answered', data: {}, statusUrl: `http://${os.hostname()}:${port}/x`, now: new Date(),
    }));
    let row;
    for (let i = 0; i < 100; i++) {
      row = await store.db.selectFrom('outbox').selectAll().where('payload', 'like', `%${envelope!.id}%`).executeTakeFirstOrThrow();
      if (row.status !== 'pending') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(row).toMatchObject({ status: 'failed', attempts: 1 });
    expect(row!.last_error).toMatch(/^refused: .*non-public address/);
    expect(receiver.requests).toHaveLength(0);
    const literal = await http.post(`http://127.0.0.1:${port}/`, { body: '{}', headers: {}, policy: { allowedCallbackHosts: [], allowPrivateCallbacks: false } }).catch((e: Error & { kind: string }) => e);
    expect(literal).toMatchObject({ kind: 'not_allowed' });
  });

  it('1,000 events to a receiver that is down end as failed after exactly 8 attempts each, none lost', async () => {
    const store = testStore();
    const downPort = await freePort();
    const { workspace, publisher } = await setup({ schedule: [0, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01], perTarget: 32 });
    const ids = new Set<string>();
    await store.transaction(async (repos) => {
      for (let i = 0; i < 1000; i++) {
        const e = await publisher.publish(repos, { workspaceId: workspace.id, type: 'call.hangup', data: { i }, statusUrl: `http://127.0.0.1:${downPort}/down`, now: new Date() });
        ids.add(e!.id);
      }
    });
    const deadline = Date.now() + 90_000;
    let counts: Record<string, number> = {};
    while (Date.now() < deadline) {
      counts = await store.outbox.countByStatus(workspace.id);
      if ((counts['pending'] ?? 0) === 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(counts).toEqual({ failed: 1000 });
    const rows = await store.db.selectFrom('outbox').select(['id', 'attempts', 'payload']).where('workspace_id', '=', workspace.id).execute();
    expect(new Set(rows.map((r) => JSON.parse(r.payload).id))).toEqual(ids);
    expect(rows.every((r) => Number(r.attempts) === 8)).toBe(true);
    const attemptRows = await store.db.selectFrom('delivery_attempts').select((eb) => eb.fn.countAll<number>().as('n'))
      .where('outbox_id', 'in', rows.map((r) => r.id)).executeTakeFirstOrThrow();
    expect(Number(attemptRows.n)).toBe(8000);
  }, 120_000);
});
