import { expect, it } from 'vitest';
import { defaultRates } from '../../src/billing/default-rates.js';
import { Wallet } from '../../src/billing/wallet.js';
import { CallLiveness } from '../../src/engine/call-liveness.js';
import { recoverCalls } from '../../src/engine/call-recovery.js';
import { reapDeadNodes } from '../../src/engine/dead-node-reaper.js';
import { NodeHeartbeat } from '../../src/engine/node-heartbeat.js';
import { silentLogger } from '../../src/shared/log.js';
import { provisionWorkspace } from '../../src/store/provision-workspace.js';
import type { CallStatus } from '../../src/store/repos/call-repo.js';
import type { Store } from '../../src/store/store.js';
import { EventPublisher } from '../../src/webhooks/event-publisher.js';
import { describeOnEachDialect } from '../helpers/each-dialect.js';

const t0 = new Date('2026-12-03T08:00:00.000Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const clockAt = (seconds: number) => ({ now: () => at(seconds) });

describeOnEachDialect('nodes: heartbeat, drain requests and the dead-node reaper', (testStore) => {
  /** A node id unique to the test, so tests sharing the store do not see each other's nodes. */
  const nodeName = (name: string) => `${name}-${Math.random().toString(36).slice(2, 8)}`;
  const beatOf = (id: string, seconds: number, o: { liveCalls?: number; draining?: boolean } = {}) =>
    ({ id, sipAddress: '127.0.0.9:5060', httpUrl: 'http://127.0.0.9:8080', liveCalls: o.liveCalls ?? 0, draining: o.draining ?? false, now: at(seconds) });

  const workspace = async (store: Store) => {
    if ((await store.rates.count()) === 0) await store.rates.replaceAll(defaultRates, t0);
    const { workspace: ws } = await provisionWorkspace(store, { name: `ws-${Math.random()}`, allowPrivateCallbacks: true, now: t0 });
    await new Wallet(store).credit({ workspaceId: ws.id, amountCents: 10_000, reference: null, now: t0 });
    return ws.id;
  };
  /** A call node `nodeId` runs: answered at `answeredAt`, last marked alive at `aliveAt`. */
  const callOn = async (store: Store, workspaceId: string, nodeId: string, o: { status: CallStatus; answeredAt?: number; aliveAt?: number; reservedCents?: number }) => {
    const call = await store.calls.create({ workspaceId, direction: 'inbound', from: '+254711000001', to: '+254700000001', status: o.status, statusUrl: 'https://status.example/cb', now: t0 });
    await store.db.updateTable('calls').set({ node_id: nodeId, ...(o.answeredAt !== undefined ? { answered_at: at(o.answeredAt).toISOString() } : {}) }).where('id', '=', call.id).execute();
    if (o.aliveAt !== undefined) await store.calls.markAlive([call.id], at(o.aliveAt));
    if (o.reservedCents) await store.reservations.reserve(workspaceId, call.id, o.reservedCents, t0);
    return call.id;
  };
  const hangups = async (store: Store, callId: string) =>
    (await store.db.selectFrom('outbox').selectAll().where('call_id', '=', callId).where('type', '=', 'call.hangup').execute())
      .map((row) => JSON.parse(row.payload) as { data: Record<string, unknown> });
  const reap = (store: Store, seconds: number) => reapDeadNodes({ store, events: new EventPublisher(0), clock: clockAt(seconds), logger: silentLogger });

  it('nodes.register() writes a fresh active row over an earlier run\'s; beat() keeps a drain asked for by a peer and answers it', async () => {
    const store = testStore();
    const id = nodeName('a');
    await store.nodes.register(beatOf(id, 0, { draining: false }));
    expect(await store.nodes.get(id)).toEqual({
      id, sipAddress: '127.0.0.9:5060', httpUrl: 'http://127.0.0.9:8080', state: 'active', liveCalls: 0, startedAt: at(0).toISOString(), heartbeatAt: at(0).toISOString(),
    });
    expect(await store.nodes.beat(beatOf(id, 5, { liveCalls: 3 }))).toBe('active');
    expect(await store.nodes.get(id)).toMatchObject({ liveCalls: 3, heartbeatAt: at(5).toISOString(), startedAt: at(0).toISOString() });
    // A peer asks it to drain: the next beat (not draining itself yet) answers the request and does not overwrite it.
    expect(await store.nodes.requestDrain(id)).toMatchObject({ id, state: 'draining' });
    expect(await store.nodes.beat(beatOf(id, 10))).toBe('draining');
    expect((await store.nodes.get(id))!.state).toBe('draining');
    // Started again: active.
    await store.nodes.register(beatOf(id, 60));
    expect(await store.nodes.get(id)).toMatchObject({ state: 'active', startedAt: at(60).toISOString() });
    // A row deleted by an operator is written again by the next beat.
    await store.db.deleteFrom('nodes').where('id', '=', id).execute();
    expect(await store.nodes.beat(beatOf(id, 65, { draining: true }))).toBe('draining');
    expect(await store.nodes.get(id)).toMatchObject({ state: 'draining', heartbeatAt: at(65).toISOString() });
    expect(await store.nodes.requestDrain(nodeName('nobody'))).toBeUndefined();
    expect((await store.nodes.list()).map((n) => n.id)).toContain(id);
  });

  it('reapDeadNodes() ends a silent node\'s live calls node_failed, billed to their last beat, once; live and own nodes\' calls are left alone', async () => {
    const store = testStore();
    const ws = await workspace(store);
    const dead = nodeName('b');
    const live = nodeName('c');
    await store.nodes.register(beatOf(dead, 0));
    await store.nodes.register(beatOf(live, 0));
    await store.nodes.register({ ...beatOf(store.nodeId, 0) });
    // Answered at 10 s, last beat at 40 s: 30 s at KES 0.50 a minute = 25 cents.
    const answered = await callOn(store, ws, dead, { status: 'in-progress', answeredAt: 10, aliveAt: 40, reservedCents: 150 });
    const ringing = await callOn(store, ws, dead, { status: 'ringing', aliveAt: 38 });
    const onLive = await callOn(store, ws, live, { status: 'in-progress', answeredAt: 10, aliveAt: 40 });
    const own = await callOn(store, ws, store.nodeId, { status: 'in-progress', answeredAt: 10, aliveAt: 40 });
    // At 50 s the dead node's beat (0 s) and the live one's (45 s): only the first is silent for 15 s.
    await store.nodes.beat(beatOf(live, 45));
    await store.nodes.beat(beatOf(store.nodeId, 45));
    expect((await store.nodes.silentWithLiveCalls(store.nodeId, at(35))).map((n) => n.id)).toEqual([dead]);

    // Two peers reap at once: each call ends once.
    const [x, y] = await Promise.all([reap(store, 50), reap(store, 50)]);
    expect(x + y).toBe(2);
    expect(await store.calls.getById(answered)).toMatchObject({
      status: 'completed', hangupCause: 'node_failed', hangupBy: 'system', endedAt: at(40).toISOString(), durationSeconds: 30, priceCents: 25,
    });
    expect(await store.calls.getById(ringing)).toMatchObject({ status: 'failed', hangupCause: 'node_failed', endedAt: at(38).toISOString(), priceCents: 0 });
    for (const id of [answered, ringing]) {
      const [hangup, ...more] = await hangups(store, id);
      expect(more).toEqual([]);
      expect(hangup!.data).toMatchObject({ hangup_cause: 'node_failed' });
    }
    expect((await new Wallet(store).balance(ws))).toEqual({ balanceCents: 10_000 - 25, reservedCents: 0 });
    expect(await store.calls.getById(onLive)).toMatchObject({ status: 'in-progress' });
    expect(await store.calls.getById(own)).toMatchObject({ status: 'in-progress' });
    expect(await reap(store, 60)).toBe(0);
    // This node's own left calls are the restart recovery's (platform_restart), never another node's.
    expect(await recoverCalls({ store, events: new EventPublisher(0), clock: clockAt(70), logger: silentLogger })).toBe(1);
    expect(await store.calls.getById(own)).toMatchObject({ status: 'completed', hangupCause: 'platform_restart' });
    expect(await store.calls.getById(onLive)).toMatchObject({ status: 'in-progress' });
    await store.db.updateTable('calls').set({ status: 'completed' }).where('id', '=', onLive).execute();
  });

  it('NodeHeartbeat, in CallLiveness\'s tick: writes the row, starts the drain a peer asked for once, and reaps silent peers', async () => {
    const store = testStore();
    const ws = await workspace(store);
    const dead = nodeName('d');
    await store.nodes.register(beatOf(dead, 0));
    const left = await callOn(store, ws, dead, { status: 'in-progress', answeredAt: 1, aliveAt: 2 });
    let draining = false;
    let drainRequests = 0;
    const heartbeat = new NodeHeartbeat({
      store, events: new EventPublisher(0), clock: clockAt(100), logger: silentLogger, sipAddress: '127.0.0.2:5070', httpUrl: 'http://127.0.0.2:8090',
      liveCalls: () => 2, draining: () => draining, drainRequested: () => { drainRequests += 1; draining = true; },
    });
    await heartbeat.register();
    const liveness = new CallLiveness(store, () => [][Symbol.iterator](), { clock: clockAt(100), logger: silentLogger, node: heartbeat, intervalMs: 10 });
    liveness.start();
    const until = async (check: () => Promise<boolean>) => {
      const deadline = Date.now() + 10_000;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error('timed out');
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await until(async () => (await store.calls.getById(left))!.status === 'completed');
    expect(await store.calls.getById(left)).toMatchObject({ hangupCause: 'node_failed' });
    expect(await store.nodes.get(store.nodeId)).toMatchObject({ state: 'active', liveCalls: 2, sipAddress: '127.0.0.2:5070', httpUrl: 'http://127.0.0.2:8090' });
    await store.nodes.requestDrain(store.nodeId);
    await until(async () => drainRequests > 0);
    await heartbeat.beat();
    await liveness.close();
    expect(drainRequests).toBe(1);
    expect((await store.nodes.get(store.nodeId))!.state).toBe('draining');
    await store.nodes.register(beatOf(store.nodeId, 100));
  });
});
