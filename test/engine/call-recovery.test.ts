import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { defaultRates } from '../../src/billing/default-rates.js';
import { Wallet } from '../../src/billing/wallet.js';
import { CallLiveness } from '../../src/engine/call-liveness.js';
import { recoverCalls } from '../../src/engine/call-recovery.js';
import { createLogger, silentLogger, type Logger } from '../../src/shared/log.js';
import { provisionWorkspace } from '../../src/store/provision-workspace.js';
import type { CallStatus } from '../../src/store/repos/call-repo.js';
import type { Store } from '../../src/store/store.js';
import { EventPublisher } from '../../src/webhooks/event-publisher.js';
import { describeOnEachDialect } from '../helpers/each-dialect.js';

const t0 = new Date('2026-12-02T08:00:00.000Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
/** The restart: five minutes after the calls began. */
const restart = { now: () => at(300) };

/** A logger whose lines the test reads. */
function capturingLogger(): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  let text = '';
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => { text += chunk.toString(); done(); } });
  return { logger: createLogger('debug', sink), lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describeOnEachDialect('recovery of calls a dead run left live', (testStore) => {
  /** A funded workspace (KES 100.00) with the default rates. */
  const workspace = async (store: Store) => {
    if ((await store.rates.count()) === 0) await store.rates.replaceAll(defaultRates, t0);
    const { workspace: ws } = await provisionWorkspace(store, { name: `ws-${Math.random()}`, allowPrivateCallbacks: true, now: t0 });
    await new Wallet(store).credit({ workspaceId: ws.id, amountCents: 10_000, reference: null, now: t0 });
    return ws.id;
  };

  /** A call as the dead run left it: its state, when it rang and was answered, its last beat and reservation. */
  const leftCall = async (store: Store, workspaceId: string, o: {
    status: CallStatus; direction?: 'inbound' | 'outbound'; to?: string; parentCallId?: string; ringingAt?: number; answeredAt?: number; aliveAt?: number; reservedCents?: number;
  }) => {
    const call = await store.calls.create({
      workspaceId, direction: o.direction ?? 'inbound', from: '+254711000001', to: o.to ?? '+254700000001', status: o.status,
      parentCallId: o.parentCallId ?? null, statusUrl: 'https://status.example/cb', now: t0,
    });
    await store.calls.update(call.id, {
      ...(o.ringingAt !== undefined ? { ringing_at: at(o.ringingAt).toISOString() } : {}),
      ...(o.answeredAt !== undefined ? { answered_at: at(o.answeredAt).toISOString() } : {}),
    });
    if (o.aliveAt !== undefined) await store.calls.markAlive([call.id], at(o.aliveAt));
    if (o.reservedCents) await store.reservations.reserve(workspaceId, call.id, o.reservedCents, at(o.answeredAt ?? 0));
    return call.id;
  };

  const hangups = async (store: Store, callId: string) =>
    (await store.db.selectFrom('outbox').selectAll().where('call_id', '=', callId).where('type', '=', 'call.hangup').execute())
      .map((row) => JSON.parse(row.payload) as { data: Record<string, unknown> });
  const charges = async (store: Store, workspaceId: string) =>
    (await store.ledger.transactions(workspaceId, { limit: 100 })).filter((t) => t.kind === 'call_charge');
  const recover = (store: Store, logger: Logger = silentLogger) => recoverCalls({ store, events: new EventPublisher(0), clock: restart, logger });

  it('recoverCalls() ends an answered call completed, billed from its answer to its last beat, and releases its reservation', async () => {
    const store = testStore();
    const ws = await workspace(store);
    // Answered at 10 s, last seen alive 47.3 s later: 48 billable seconds at the inbound KES 0.50 a minute = 40 cents.
    const id = await leftCall(store, ws, { status: 'in-progress', ringingAt: 2, answeredAt: 10, aliveAt: 57.3, reservedCents: 150 });
    expect((await new Wallet(store).balance(ws)).reservedCents).toBe(150);
    const { logger, lines } = capturingLogger();

    expect(await recover(store, logger)).toBe(1);

    const call = await store.calls.getById(id);
    expect(call).toMatchObject({
      status: 'completed', hangupCause: 'platform_restart', hangupBy: 'system', endedAt: at(57.3).toISOString(),
      durationSeconds: 48, priceCents: 40, ratePerMinuteCents: 50, ringSeconds: 8,
    });
    expect(await new Wallet(store).balance(ws)).toEqual({ balanceCents: 10_000 - 40, reservedCents: 0 });
    expect((await charges(store, ws)).map((c) => [c.callId, c.walletAmountCents])).toEqual([[id, -40]]);
    const [hangup, ...more] = await hangups(store, id);
    expect(more).toEqual([]);
    expect(hangup!.data).toMatchObject({ status: 'completed', hangup_cause: 'platform_restart', hangup_by: 'system', duration_seconds: 48, price: '0.40' });
    const last = (await store.calls.events(id)).at(-1);
    expect(last).toMatchObject({ kind: 'status', name: 'completed', detail: { hangup_cause: 'platform_restart', last_alive_at: at(57.3).toISOString() } });
    expect(lines().filter((l) => l['msg'] === 'call left live by an earlier run ended (platform_restart)' && l['level'] === 40).map((l) => l['callId'])).toEqual([id]);
    expect(lines().find((l) => l['level'] === 30)).toMatchObject({ recovered: 1, msg: 'calls left live by an earlier run ended' });
  });

  it('recoverCalls() ends queued, initiated and ringing calls failed, unbilled, with one call.hangup each', async () => {
    const store = testStore();
    const ws = await workspace(store);
    const queued = await leftCall(store, ws, { status: 'queued', direction: 'outbound', to: '+254712000001' });
    const initiated = await leftCall(store, ws, { status: 'initiated', direction: 'outbound', to: '+254712000002', aliveAt: 3 });
    const ringing = await leftCall(store, ws, { status: 'ringing', ringingAt: 1, aliveAt: 16 });

    expect(await recover(store)).toBe(3);

    for (const id of [queued, initiated, ringing]) {
      expect(await store.calls.getById(id)).toMatchObject({ status: 'failed', hangupCause: 'platform_restart', durationSeconds: 0, priceCents: 0 });
      expect(await hangups(store, id)).toHaveLength(1);
    }
    // Ended when last known alive: the last beat, or the creation when none came.
    expect(await store.calls.getById(queued)).toMatchObject({ endedAt: t0.toISOString(), ringSeconds: null });
    expect(await store.calls.getById(initiated)).toMatchObject({ endedAt: at(3).toISOString() });
    expect(await store.calls.getById(ringing)).toMatchObject({ endedAt: at(16).toISOString(), ringSeconds: 15 });
    expect(await charges(store, ws)).toEqual([]);
  });

  it('recoverCalls() bills a dial child leg at its own rate, and bills nothing it cannot time', async () => {
    const store = testStore();
    const ws = await workspace(store);
    const parent = await leftCall(store, ws, { status: 'in-progress', answeredAt: 0, aliveAt: 30 });
    // The dialled Safaricom leg (KES 3.50 a minute), answered at 5 s, seen alive with its parent at 30 s: 25 s = 146 cents.
    const child = await leftCall(store, ws, { status: 'in-progress', direction: 'outbound', to: '+254712345678', parentCallId: parent, ringingAt: 1, answeredAt: 5, aliveAt: 30 });
    // Answered after the last beat: billed from the answer to the answer.
    const lateAnswer = await leftCall(store, ws, { status: 'in-progress', answeredAt: 40, aliveAt: 30 });
    // Recorded in progress with no answer time (a record no run of this version writes): not guessed at.
    const noAnswerTime = await leftCall(store, ws, { status: 'in-progress', aliveAt: 30 });

    expect(await recover(store)).toBe(4);

    expect(await store.calls.getById(parent)).toMatchObject({ status: 'completed', durationSeconds: 30, priceCents: 25 });
    expect(await store.calls.getById(child)).toMatchObject({
      status: 'completed', parentCallId: parent, durationSeconds: 25, priceCents: 146, ratePerMinuteCents: 350, rateCategory: 'outbound', ringSeconds: 4,
    });
    expect(await store.calls.getById(lateAnswer)).toMatchObject({ status: 'completed', endedAt: at(40).toISOString(), durationSeconds: 0, priceCents: 0 });
    expect(await store.calls.getById(noAnswerTime)).toMatchObject({ status: 'completed', hangupCause: 'platform_restart', durationSeconds: 0, priceCents: 0 });
    expect((await charges(store, ws)).map((c) => [c.callId, c.leg, -c.walletAmountCents]).sort()).toEqual([[child, 'outbound', 146], [parent, 'inbound', 25]].sort());
    for (const id of [parent, child, lateAnswer, noAnswerTime]) expect(await hangups(store, id)).toHaveLength(1);
  });

  it('two recoveries at once end, bill and announce each call exactly once; a third finds nothing', async () => {
    const store = testStore();
    const ws = await workspace(store);
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      ids.push(await leftCall(store, ws, i % 3 === 0
        ? { status: 'ringing', ringingAt: 1, aliveAt: 20 }
        : { status: 'in-progress', answeredAt: 2, aliveAt: 20 + i, reservedCents: 100 }));
    }

    const [a, b] = await Promise.all([recover(store), recover(store)]);

    expect(a + b).toBe(12);
    for (const id of ids) expect(await hangups(store, id)).toHaveLength(1);
    const charged = await charges(store, ws);
    expect(charged).toHaveLength(8);
    expect(new Set(charged.map((c) => c.callId)).size).toBe(8);
    const balance = await new Wallet(store).balance(ws);
    expect(balance.reservedCents).toBe(0);
    expect(balance.balanceCents).toBe(await store.ledger.balanceFromEntries(`wallet:${ws}`));
    expect(await recover(store)).toBe(0);
    expect(await store.calls.listLive({ limit: 100, nodeId: store.nodeId, orNoNode: true })).toEqual([]);
  });

  it('calls.markAlive() sets alive_at on every call given, beyond one statement\'s worth of ids', async () => {
    const store = testStore();
    const ws = await workspace(store);
    const ids = [await leftCall(store, ws, { status: 'in-progress', answeredAt: 0 })];
    // 1500 ids: two statements (1024 + 476 padded to 512); the real call is in the second.
    const many = [...Array.from({ length: 1499 }, (_, i) => `call_gone_${i}`), ...ids];
    await store.calls.markAlive(many, at(99));
    expect((await store.calls.getById(ids[0]!))!.aliveAt).toBe(at(99).toISOString());
    await recover(store);
  });
});

describe('callLiveness', () => {
  const fakeStore = (markAlive: (ids: readonly string[], now: Date) => Promise<void>) => ({ calls: { markAlive } }) as unknown as Store;

  it('callLiveness.beat() writes every live call in one markAlive call, and nothing when none is live', async () => {
    const writes: Array<{ ids: readonly string[]; now: Date }> = [];
    const live = new Set<string>();
    const liveness = new CallLiveness(fakeStore(async (ids, now) => { writes.push({ ids, now }); }), () => live.keys(), { clock: restart, logger: silentLogger });
    expect(await liveness.beat()).toBe(0);
    expect(writes).toEqual([]);
    for (let i = 0; i < 30; i++) live.add(`call_${i}`);
    expect(await liveness.beat()).toBe(30);
    expect(writes).toEqual([{ ids: [...live], now: at(300) }]);
  });

  it('a failed beat is logged at warn with the number of calls and never throws', async () => {
    const { logger, lines } = capturingLogger();
    const liveness = new CallLiveness(fakeStore(() => Promise.reject(new Error('database is locked'))), () => ['call_a', 'call_b'].values(), { clock: restart, logger });
    expect(await liveness.beat()).toBe(0);
    expect(lines()).toEqual([expect.objectContaining({ level: 40, calls: 2, msg: 'could not record that live calls are alive' })]);
  });

  it('callLiveness.start() beats every interval until close()', async () => {
    let beats = 0;
    const liveness = new CallLiveness(fakeStore(async () => { beats += 1; }), () => ['call_a'].values(), { intervalMs: 20, clock: restart, logger: silentLogger });
    liveness.start();
    const deadline = Date.now() + 5000;
    while (beats < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(beats).toBeGreaterThanOrEqual(3);
    await liveness.close();
    const after = beats;
    await new Promise((r) => setTimeout(r, 100));
    expect(beats).toBe(after);
    await liveness.close();
  });
});
