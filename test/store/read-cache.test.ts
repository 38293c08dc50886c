import { describe, expect, it } from 'vitest';
import { provisionWorkspace } from '../../src/store/provision-workspace.js';
import { describeOnEachDialect } from '../helpers/each-dialect.js';

const now = new Date('2026-01-01T00:00:00Z');

describeOnEachDialect('cached reads (rates, trunks, webhook endpoints, settings)', (testStore) => {
  it('a write through the repositories is read back at once, in and out of transactions', async () => {
    const store = testStore();
    const { workspace } = await provisionWorkspace(store, { name: 'cache', allowPrivateCallbacks: false, now });

    expect(await store.webhookEndpoints.subscribedTo(workspace.id, 'call.hangup')).toEqual([]);
    const endpoint = await store.webhookEndpoints.create({ workspaceId: workspace.id, url: 'https://example.com/hook', events: ['call.hangup'], now });
    expect((await store.webhookEndpoints.subscribedTo(workspace.id, 'call.hangup')).map((e) => e.id)).toEqual([endpoint.id]);
    const rotated = await store.webhookEndpoints.rotateSecret(workspace.id, endpoint.id, now, 60);
    expect((await store.webhookEndpoints.subscribedTo(workspace.id, 'call.hangup'))[0]!.secret).toBe(rotated!.secret);
    await store.webhookEndpoints.delete(workspace.id, endpoint.id, now);
    expect(await store.webhookEndpoints.subscribedTo(workspace.id, 'call.hangup')).toEqual([]);

    const before = (await store.settings.get(workspace.id)).dailySpendLimitCents;
    await store.settings.update(workspace.id, { dailySpendLimitCents: (before ?? 0) + 100 }, now);
    expect((await store.settings.get(workspace.id)).dailySpendLimitCents).toBe((before ?? 0) + 100);
    // A caller changing the lists it got does not change what others read.
    (await store.settings.get(workspace.id)).allowedDestinations.push('+1');
    expect((await store.settings.get(workspace.id)).allowedDestinations).not.toContain('+1');

    const trunk = await store.trunks.create({ name: `cache-${workspace.id}`, host: '192.0.2.1', port: 5060, transport: 'udp', username: null, password: null, prefixes: [], inboundAddresses: ['192.0.2.1'] }, now);
    expect((await store.trunks.listCached()).map((t) => t.id)).toContain(trunk!.id);
    await store.trunks.update(trunk!.id, { inboundAddresses: ['192.0.2.9'] }, now);
    expect((await store.trunks.listCached()).find((t) => t.id === trunk!.id)!.inboundAddresses).toEqual(['192.0.2.9']);
    await store.trunks.delete(trunk!.id);
    expect((await store.trunks.listCached()).map((t) => t.id)).not.toContain(trunk!.id);

    const rates = await store.rates.list();
    const inbound = (cents: number) => [...rates.filter((r) => r.category !== 'inbound'), { category: 'inbound' as const, prefix: '+254', description: 'test', ratePerMinuteCents: cents }];
    await store.rates.replaceAll(inbound(7), now);
    expect((await store.rates.candidates('inbound', '+254700000000'))[0]!.ratePerMinuteCents).toBe(7);
    await store.rates.replaceAll(inbound(9), now);
    expect((await store.rates.candidates('inbound', '+254700000000'))[0]!.ratePerMinuteCents).toBe(9);
    await store.rates.replaceAll(rates, now);
  });

  it('a transaction reads its own writes, and a rolled-back write never reaches the cache', async () => {
    const store = testStore();
    const { workspace } = await provisionWorkspace(store, { name: 'cache-tx', allowPrivateCallbacks: false, now });
    expect(await store.webhookEndpoints.subscribedTo(workspace.id, '*')).toEqual([]);
    await expect(store.transaction(async (repos) => {
      await repos.webhookEndpoints.create({ workspaceId: workspace.id, url: 'https://example.com/tx', events: ['*'], now });
      expect(await repos.webhookEndpoints.subscribedTo(workspace.id, '*')).toHaveLength(1);
      throw new Error('roll back');
    })).rejects.toThrow('roll back');
    expect(await store.webhookEndpoints.subscribedTo(workspace.id, '*')).toEqual([]);
  });
});

describe('ReadCache', () => {
  it('does not store a value read before a write dropped its key', async () => {
    const { ReadCache } = await import('../../src/store/read-cache.js');
    const cache = new ReadCache(Number.POSITIVE_INFINITY);
    const db = { isTransaction: false } as never;
    let release!: () => void;
    const slow = cache.get(db, 'k', () => new Promise<string>((resolve) => { release = () => resolve('old'); }));
    cache.drop('k');
    release();
    expect(await slow).toBe('old');
    expect(await cache.get(db, 'k', async () => 'new')).toBe('new');
  });
});

describe('ReadCache in a SQLite transaction', () => {
  const tx = { isTransaction: true } as never;
  const plain = { isTransaction: false } as never;

  it('stores what a transaction read while nothing was dropped since it began', async () => {
    const { ReadCache } = await import('../../src/store/read-cache.js');
    const cache = new ReadCache(Number.POSITIVE_INFINITY);
    expect(await cache.forTransaction().get(tx, 'k', async () => 'read in tx')).toBe('read in tx');
    expect(await cache.get(plain, 'k', async () => 'read again')).toBe('read in tx');
  });

  it('does not store once anything was dropped since the transaction began (its own write, or anyone else\'s)', async () => {
    const { ReadCache } = await import('../../src/store/read-cache.js');
    const cache = new ReadCache(Number.POSITIVE_INFINITY);
    const view = cache.forTransaction();
    cache.drop('other');
    expect(await view.get(tx, 'k', async () => 'maybe rolled back')).toBe('maybe rolled back');
    expect(await cache.get(plain, 'k', async () => 'committed')).toBe('committed');
  });

  it('PostgreSQL (entries that expire): a transaction always reads the database and stores nothing', async () => {
    const { ReadCache } = await import('../../src/store/read-cache.js');
    const cache = new ReadCache(1000);
    expect(await cache.forTransaction().get(tx, 'k', async () => 'in tx')).toBe('in tx');
    expect(await cache.get(plain, 'k', async () => 'outside')).toBe('outside');
  });
});
