import fc from 'fast-check';
import { expect, it } from 'vitest';
import { accounts, Wallet } from '../../src/billing/wallet.js';
import { provisionWorkspace } from '../../src/store/provision-workspace.js';
import { walletAccount } from '../../src/store/repos/ledger-repo.js';
import { defaultRates } from '../../src/billing/default-rates.js';
import { describeOnEachDialect } from '../helpers/each-dialect.js';

const now = new Date('2026-11-21T10:00:00.000Z');

type Op =
  | { kind: 'credit'; cents: number }
  | { kind: 'charge'; call: number; leg: 'a' | 'b'; seconds: number; rate: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('credit' as const), cents: fc.integer({ min: 1, max: 1_000_000 }) }),
  fc.record({
    kind: fc.constant('charge' as const), call: fc.integer({ min: 0, max: 5 }), leg: fc.constantFrom('a' as const, 'b' as const),
    seconds: fc.integer({ min: 0, max: 7200 }), rate: fc.integer({ min: 0, max: 3000 }),
  }),
);

describeOnEachDialect('ledger and wallet', (testStore, dialect) => {

  it('the balance always equals the sum of entries, each (call, leg) is charged once, and every transaction balances', async () => {
    const store = testStore();
    const wallet = new Wallet(store);
    await fc.assert(fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), async (ops) => {
      const { workspace } = await provisionWorkspace(store, { name: 'prop', allowPrivateCallbacks: false, now });
      let expected = 0;
      const charged = new Set<string>();
      for (const op of ops) {
        if (op.kind === 'credit') {
          await wallet.credit({ workspaceId: workspace.id, amountCents: op.cents, reference: null, now });
          expected += op.cents;
        } else {
          const key = `${op.call}:${op.leg}`;
          const { priceCents, applied } = await wallet.chargeLeg({
            workspaceId: workspace.id, callId: `${workspace.id}_call_${op.call}`, leg: op.leg, durationSeconds: op.seconds,
            ratePerMinuteCents: op.rate, category: 'outbound', now,
          });
          if (priceCents > 0 && !charged.has(key)) {
            expect(applied).toBe(true);
            charged.add(key);
            expected -= priceCents;
          } else if (priceCents > 0) {
            expect(applied).toBe(false);
          }
        }
      }
      const entries = await store.ledger.entriesOfWorkspace(workspace.id);
      const walletSum = entries.filter((e) => e.account === walletAccount(workspace.id)).reduce((s, e) => s + e.amountCents, 0);
      expect((await wallet.balance(workspace.id)).balanceCents).toBe(walletSum);
      expect(walletSum).toBe(expected);
      const byTransaction = new Map<string, number>();
      for (const e of entries) byTransaction.set(e.transactionId, (byTransaction.get(e.transactionId) ?? 0) + e.amountCents);
      for (const total of byTransaction.values()) expect(total).toBe(0);
    }), { numRuns: dialect === 'postgres' ? 15 : 30 });
  });

  it('chargeLeg() run concurrently for one (call, leg) debits once', async () => {
    const store = testStore();
    const wallet = new Wallet(store);
    const { workspace } = await provisionWorkspace(store, { name: 'race', allowPrivateCallbacks: false, now });
    await wallet.credit({ workspaceId: workspace.id, amountCents: 10_000, reference: null, now });
    const results = await Promise.all(Array.from({ length: 6 }, () => wallet.chargeLeg({
      workspaceId: workspace.id, callId: 'call_race', leg: 'inbound', durationSeconds: 60, ratePerMinuteCents: 50, category: 'inbound', now,
    })));
    expect(results.filter((r) => r.applied)).toHaveLength(1);
    expect((await wallet.balance(workspace.id)).balanceCents).toBe(9_950);
    expect(await store.ledger.balance(accounts.callRevenue)).toBeGreaterThanOrEqual(50);
    // The kept balance of every account touched agrees with the sum of its entries.
    for (const account of [walletAccount(workspace.id), accounts.callRevenue, accounts.credits]) {
      expect(await store.ledger.balance(account)).toBe(await store.ledger.balanceFromEntries(account));
    }
  });

  it('checkFundsFor() needs one minute at the destination rate beyond what is reserved', async () => {
    const store = testStore();
    const wallet = new Wallet(store);
    await store.rates.replaceAll(defaultRates, now);
    const { workspace } = await provisionWorkspace(store, { name: 'funds', allowPrivateCallbacks: false, now });
    await expect(wallet.checkFundsFor(workspace.id, '+254711222333')).rejects.toMatchObject({ code: 'insufficient_funds', field: 'to' });
    await wallet.credit({ workspaceId: workspace.id, amountCents: 400, reference: 'topup', now });
    const rate = await wallet.checkFundsFor(workspace.id, '+254711222333');
    expect(rate).toMatchObject({ prefix: '+25471', ratePerMinuteCents: 350, description: 'Kenya mobile - Safaricom' });
    await store.reservations.reserve(workspace.id, 'call_held', 100, now);
    expect((await wallet.balance(workspace.id)).reservedCents).toBe(100);
    await expect(wallet.checkFundsFor(workspace.id, '+254711222333')).rejects.toMatchObject({ code: 'insufficient_funds' });
    await expect(wallet.checkFundsFor(workspace.id, 'sip:agent@pbx.example.com')).resolves.toMatchObject({ category: 'sip', ratePerMinuteCents: 20 });
    await store.reservations.release('call_held', now);
    await expect(wallet.checkFundsFor(workspace.id, '+254711222333')).resolves.toBeDefined();
  });

  it('checkFundsFor() honours the daily spend limit', async () => {
    const store = testStore();
    const wallet = new Wallet(store);
    await store.rates.replaceAll(defaultRates, now);
    const { workspace } = await provisionWorkspace(store, { name: 'limit', allowPrivateCallbacks: false, now });
    await wallet.credit({ workspaceId: workspace.id, amountCents: 100_000, reference: null, now });
    await store.settings.update(workspace.id, { dailySpendLimitCents: 1000 }, now);
    await wallet.chargeLeg({ workspaceId: workspace.id, callId: 'call_d', leg: 'outbound', durationSeconds: 120, ratePerMinuteCents: 350, category: 'outbound', now });
    await expect(wallet.checkFundsFor(workspace.id, '+254711222333', 'to', now)).rejects.toMatchObject({ code: 'insufficient_funds' });
    await expect(wallet.checkFundsFor(workspace.id, '+254711222333', 'to', new Date(now.getTime() + 86_400_000))).resolves.toBeDefined();
  });

  it('the ledger refuses a posting that does not balance', async () => {
    const store = testStore();
    const { workspace } = await provisionWorkspace(store, { name: 'bad', allowPrivateCallbacks: false, now });
    await expect(store.ledger.post({
      workspaceId: workspace.id, kind: 'adjustment', postingKey: 'bad-1', description: 'x', now,
      entries: [{ account: walletAccount(workspace.id), amountCents: 100 }],
    })).rejects.toThrow(/does not balance/);
  });

  it('fileRecording() writes the recording and its fee in the caller\'s transaction: both or neither', async () => {
    const store = testStore();
    await store.rates.replaceAll(defaultRates, now);
    const { workspace } = await provisionWorkspace(store, { name: 'recordings', allowPrivateCallbacks: false, now });
    await new Wallet(store).credit({ workspaceId: workspace.id, amountCents: 10_000, reference: null, now });
    const recording = (id: string) => ({ id, workspaceId: workspace.id, callId: null, conference: 'room', path: `/tmp/${id}.wav`, durationSeconds: 90, channels: 1, now });
    const id = `rec_${dialect}_kept`;
    // 90 s at the recording rate of KES 0.25 a minute, per second: 38 cents (37.5 rounded up).
    expect(await store.transaction((repos) => new Wallet(repos).fileRecording(recording(id)))).toBe(38);
    expect(await store.recordings.get(workspace.id, id)).toMatchObject({ durationSeconds: 90 });
    const lost = `rec_${dialect}_rolled_back`;
    await expect(store.transaction(async (repos) => {
      await new Wallet(repos).fileRecording(recording(lost));
      throw new Error('the announcement failed');
    })).rejects.toThrow('the announcement failed');
    expect(await store.recordings.get(workspace.id, lost)).toBeUndefined();
    const charges = (await new Wallet(store).transactions(workspace.id, { limit: 10 })).filter((t) => t.kind === 'recording_charge');
    expect(charges.map((t) => t.amountCents)).toEqual([38]);
  });
});
