import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/shared/clock.js';
import { provisionWorkspace } from '../../src/store/provision-workspace.js';
import { Store } from '../../src/store/store.js';
import { WebhookDeliverer } from '../../src/webhooks/deliverer.js';
import { EventPublisher } from '../../src/webhooks/event-publisher.js';
import { SafeHttpClient } from '../../src/webhooks/safe-http-client.js';
import { postgresAvailable, testPostgresUrl } from '../helpers/dialects.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { until } from '../helpers/until.js';

const reachable = await postgresAvailable();
const schema = `t_outbox_nodes_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

/**
 * Several nodes run a deliverer each on one PostgreSQL outbox (SPEC §16).
 * A row is leased by a conditional UPDATE (`claim`: pending and due, moved
 * past now): when two deliverers update the same row at once, PostgreSQL
 * re-checks the second one's WHERE against the row the first committed, which
 * no longer matches, so only one of them gets it. Each pool here is a node.
 */
describe.skipIf(!reachable)('two deliverers on one PostgreSQL outbox', () => {
  let one: Store;
  let two: Store;
  let http: SafeHttpClient;

  beforeAll(async () => {
    one = await Store.open({ url: testPostgresUrl, schema, poolSize: 4, nodeId: 'outbox-one' });
    two = await Store.open({ url: testPostgresUrl, schema, poolSize: 4, nodeId: 'outbox-two' });
    http = new SafeHttpClient();
  });
  afterAll(async () => {
    await http?.close();
    await one?.close();
    await two?.close();
    const client = new pg.Client({ connectionString: testPostgresUrl });
    await client.connect();
    await client.query(`drop schema if exists ${schema} cascade`);
    await client.end();
  });

  async function enqueue(count: number, url: string, workspaceId: string): Promise<string[]> {
    const publisher = new EventPublisher(0);
    const ids: string[] = [];
    await one.transaction(async (repos) => {
      for (let i = 0; i < count; i++) {
        const envelope = await publisher.publish(repos, { workspaceId, type: 'call.hangup', data: { call_id: `call_${i}` }, statusUrl: url, callId: `call_${i}`, now: new Date() });
        ids.push(envelope!.id);
      }
    });
    return ids;
  }

  it('claims of the same rows at the same moment never overlap', async () => {
    const { workspace } = await provisionWorkspace(one, { name: 'claims', allowPrivateCallbacks: true, now: new Date() });
    for (let round = 0; round < 10; round++) {
      await enqueue(40, `http://127.0.0.1:9/round-${round}`, workspace.id);
      const now = new Date(Date.now() + 1000);
      const due = (await one.outbox.due(now, 1000)).map((item) => item.id);
      expect(due.length).toBeGreaterThanOrEqual(40);
      const lease = new Date(now.getTime() + 60_000);
      const [a, b] = await Promise.all([one.outbox.claim(due, now, lease), two.outbox.claim(due, now, lease)]);
      const byA = new Set(a.map((item) => item.id));
      expect(b.filter((item) => byA.has(item.id))).toEqual([]);
      expect(new Set([...byA, ...b.map((item) => item.id)])).toEqual(new Set(due));
      // Out of the way of the next round: delivered.
      for (const id of due) await one.outbox.recordAttempt({ id, attempt: 1, statusCode: 200, latencyMs: 1, error: null, next: { status: 'delivered' }, now });
    }
  });

  it('two running deliverers deliver each event exactly once', async () => {
    const receiver = await HttpReceiver.start();
    try {
      const { workspace } = await provisionWorkspace(one, { name: 'race', allowPrivateCallbacks: true, now: new Date() });
      const events = await enqueue(150, `${receiver.url}/hooks`, workspace.id);
      const options = { schedule: [0, 1, 1, 1, 1, 1, 1, 1], clock: systemClock, pollIntervalMs: 5, timeoutMs: 5000, perTargetConcurrency: 16, maxInFlight: 32 };
      const deliverers = [new WebhookDeliverer(one, http, options), new WebhookDeliverer(two, http, options)];
      try {
        // Both start on the same backlog: every row is due for both at once.
        for (const d of deliverers) d.start();
        await until(async () => (await one.outbox.countByStatus(workspace.id))['delivered'] === events.length, 30_000);
      } finally {
        await Promise.all(deliverers.map((d) => d.close()));
      }
      const received = receiver.requests.map((r) => r.headers['sautikit-event-id']);
      expect(received.sort()).toEqual([...events].sort());
      for (const id of events.slice(0, 20)) {
        const rows = (await one.outbox.due(new Date(Date.now() + 1e9), 1000)).filter((row) => row.envelope.id === id);
        expect(rows).toEqual([]);
      }
    } finally {
      await receiver.close();
    }
  });
});
