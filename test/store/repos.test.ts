import { expect, it } from 'vitest';
import { provisionWorkspace } from '../../src/store/provision-workspace.js';
import { describeOnEachDialect } from '../helpers/each-dialect.js';

const now = new Date('2026-11-21T10:00:00.000Z');

describeOnEachDialect('store repositories', (testStore) => {
  const workspace = async (name = 'acme') => (await provisionWorkspace(testStore(), { name, allowPrivateCallbacks: true, now })).workspace;

  it('migrations are applied once; reopening the store is a no-op', async () => {
    const store = testStore();
    expect(await store.rates.count()).toBe(0);
  });

  it('reservations.reserve() holds and re-sizes a call\'s reservation, the sums count live ones, release() lets go', async () => {
    const store = testStore();
    const ws = await workspace('reservations');
    await store.reservations.reserve(ws.id, 'call_a', 50, now);
    await store.reservations.reserve(ws.id, 'call_b', 70, now);
    await store.reservations.reserve(ws.id, 'call_a', 50, now);
    expect(await store.reservations.amountFor('call_a')).toBe(50);
    await store.reservations.reserve(ws.id, 'call_a', 51, now);
    expect(await store.reservations.amountFor('call_a')).toBe(51);
    expect(await store.reservations.reservedTotal(ws.id)).toBe(121);
    expect(await store.reservations.reservedByOthers(ws.id, 'call_a')).toBe(70);
    await store.reservations.release('call_a', now);
    expect(await store.reservations.amountFor('call_a')).toBe(0);
    expect(await store.reservations.reservedTotal(ws.id)).toBe(70);
    const rows = await store.db.selectFrom('reservations').select(['call_id', 'amount_cents']).where('workspace_id', '=', ws.id).orderBy('call_id').execute();
    expect(rows.map((r) => [r.call_id, Number(r.amount_cents)])).toEqual([['call_a', 51], ['call_b', 70]]);
  });

  it('apiKeys.findActiveByKey() finds a key by its hash and not after revoke()', async () => {
    const store = testStore();
    const ws = await workspace();
    const { record, key } = await store.apiKeys.create({ kind: 'workspace', workspaceId: ws.id, now });
    expect(key).toMatch(/^sk_live_/);
    const found = await store.apiKeys.findActiveByKey(key);
    expect(found).toMatchObject({ id: record.id, workspaceId: ws.id, kind: 'workspace' });
    const raw = await store.db.selectFrom('api_keys').select('key_hash').where('id', '=', record.id).executeTakeFirstOrThrow();
    expect(raw.key_hash).not.toContain(key.slice(8));
    expect(await store.apiKeys.revoke(record.id, now)).toBe(true);
    expect(await store.apiKeys.findActiveByKey(key)).toBeUndefined();
    expect(await store.apiKeys.revoke(record.id, now)).toBe(false);
  });

  it('numbers.claim() gives one number to one workspace and release() returns it to the inventory', async () => {
    const store = testStore();
    const a = await workspace('a');
    const b = await workspace('b');
    await store.numbers.addToInventory([{ number: '+254711000001', kind: 'mobile' }, { number: '+254711000002', kind: 'mobile' }], now);
    const claimed = await store.numbers.claim({ workspaceId: a.id, number: '+254711000001', urls: { routingUrl: 'https://x.example/ivr' }, now });
    expect(claimed).toMatchObject({ ok: true, number: { number: '+254711000001', routingUrl: 'https://x.example/ivr' } });
    expect(await store.numbers.claim({ workspaceId: b.id, number: '+254711000001', urls: {}, now })).toEqual({ ok: false, reason: 'not_available' });
    const byPrefix = await store.numbers.claim({ workspaceId: b.id, prefix: '+25471100', urls: {}, now });
    expect(byPrefix).toMatchObject({ ok: true, number: { number: '+254711000002' } });
    expect(await store.numbers.claim({ workspaceId: b.id, prefix: '+25471100', urls: {}, now })).toEqual({ ok: false, reason: 'none_available' });
    if (!claimed.ok) throw new Error('unreachable');
    expect(await store.numbers.get(b.id, claimed.number.id)).toBeUndefined();
    expect(await store.numbers.get(a.id, '+254711000001')).toMatchObject({ id: claimed.number.id });
    expect(await store.numbers.release(a.id, claimed.number.id, now)).toBe(true);
    expect((await store.numbers.listAvailable('+25471100', 10)).map((n) => n.number)).toEqual(['+254711000001']);
    expect(await store.numbers.findClaimByNumber('+254711000001')).toBeUndefined();
  });

  it('numbers.claim() run concurrently for one number lets exactly one win', async () => {
    const store = testStore();
    const ws = await Promise.all(Array.from({ length: 5 }, (_, i) => workspace(`race-${i}`)));
    await store.numbers.addToInventory([{ number: '+254712999999', kind: 'mobile' }], now);
    const results = await Promise.all(ws.map((w) => store.numbers.claim({ workspaceId: w.id, number: '+254712999999', urls: {}, now })));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });

  it('numbers.update() changes only the fields given', async () => {
    const store = testStore();
    const ws = await workspace();
    await store.numbers.addToInventory([{ number: '+254713000001', kind: 'mobile' }], now);
    const r = await store.numbers.claim({ workspaceId: ws.id, number: '+254713000001', urls: { statusUrl: 'https://s.example/x' }, now });
    if (!r.ok) throw new Error('claim failed');
    const updated = await store.numbers.update(ws.id, r.number.id, { routingUrl: 'https://r.example/y' });
    expect(updated).toMatchObject({ routingUrl: 'https://r.example/y', statusUrl: 'https://s.example/x' });
  });

  it('calls.list() is newest first, filters, and pages by id', async () => {
    const store = testStore();
    const ws = await workspace();
    const other = await workspace('other');
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const call = await store.calls.create({
        workspaceId: ws.id, direction: i % 2 ? 'inbound' : 'outbound', from: '+254700000001', to: `+25471100000${i}`,
        metadata: { campaign: i < 3 ? 'june' : 'july', lead: String(i) }, now: new Date(now.getTime() + i * 1000),
      });
      ids.push(call.id);
    }
    await store.calls.create({ workspaceId: other.id, direction: 'inbound', from: '+1', to: '+2', now });
    const first = await store.calls.list(ws.id, {}, { limit: 3 });
    expect(first.map((c) => c.id)).toEqual([ids[6], ids[5], ids[4]]);
    const second = await store.calls.list(ws.id, {}, { limit: 3, before: first[2]!.id });
    expect(second.map((c) => c.id)).toEqual([ids[3], ids[2], ids[1]]);
    expect((await store.calls.list(ws.id, { direction: 'inbound' }, { limit: 10 })).map((c) => c.id)).toEqual([ids[5], ids[3], ids[1]]);
    expect((await store.calls.list(ws.id, { metadata: { campaign: 'june' } }, { limit: 10 })).map((c) => c.id)).toEqual([ids[2], ids[1], ids[0]]);
    expect((await store.calls.list(ws.id, { metadata: { campaign: 'june', lead: '1' } }, { limit: 10 })).map((c) => c.id)).toEqual([ids[1]]);
    expect((await store.calls.list(ws.id, { to: '+254711000004' }, { limit: 10 })).map((c) => c.id)).toEqual([ids[4]]);
    expect(await store.calls.list(ws.id, { since: new Date(now.getTime() + 5000).toISOString() }, { limit: 10 })).toHaveLength(2);
    expect(await store.calls.get(other.id, ids[0]!)).toBeUndefined();
  });

  it('calls.update() and addEvent() keep the CDR and its lifecycle in order', async () => {
    const store = testStore();
    const ws = await workspace();
    const call = await store.calls.create({ workspaceId: ws.id, direction: 'outbound', from: '+254700000001', to: '+254711222333', now });
    await store.calls.update(call.id, { status: 'in-progress', answered_at: now.toISOString() });
    for (const name of ['initiated', 'ringing', 'in-progress']) await store.calls.addEvent(call.id, 'status', name, {}, now);
    await store.calls.addEvent(call.id, 'error', 'webhook_timeout', { url: 'https://x.example' }, now);
    expect(await store.calls.get(ws.id, call.id)).toMatchObject({ status: 'in-progress', answeredAt: now.toISOString() });
    expect((await store.calls.events(call.id)).map((e) => `${e.kind}:${e.name}`)).toEqual(['status:initiated', 'status:ringing', 'status:in-progress', 'error:webhook_timeout']);
  });

  it('settings.get() has defaults and update() merges', async () => {
    const store = testStore();
    const ws = await workspace();
    expect(await store.settings.get(ws.id)).toEqual({ allowedDestinations: ['+254'], allowedCallbackHosts: [], allowPrivateCallbacks: true, dailySpendLimitCents: null, softphoneRoutingUrl: null });
    await store.settings.update(ws.id, { dailySpendLimitCents: 50_000 }, now);
    expect(await store.settings.update(ws.id, { allowedCallbackHosts: ['hooks.example.com'] }, now))
      .toEqual({ allowedDestinations: ['+254'], allowedCallbackHosts: ['hooks.example.com'], allowPrivateCallbacks: true, dailySpendLimitCents: 50_000, softphoneRoutingUrl: null });
  });

  it('rates.candidates() sorts matches longest prefix first', async () => {
    const store = testStore();
    await store.rates.replaceAll([
      { category: 'outbound', prefix: '+254', description: 'KE', ratePerMinuteCents: 400 },
      { category: 'outbound', prefix: '+25471', description: 'Safaricom', ratePerMinuteCents: 350 },
      { category: 'outbound', prefix: '+1', description: 'US', ratePerMinuteCents: 100 },
    ], now);
    expect((await store.rates.candidates('outbound', '+254711222333')).map((r) => r.prefix)).toEqual(['+25471', '+254']);
    expect(await store.rates.count()).toBe(3);
  });

  it('idempotency.reserve() admits one request per key and remembers its answer', async () => {
    const store = testStore();
    const ws = await workspace();
    expect(await store.idempotency.reserve(ws.id, 'calls', 'k1', 'h1', now)).toBeUndefined();
    expect(await store.idempotency.reserve(ws.id, 'calls', 'k1', 'h1', now)).toMatchObject({ state: 'in_progress' });
    await store.idempotency.complete(ws.id, 'calls', 'k1', 201, { id: 'call_1' });
    expect(await store.idempotency.reserve(ws.id, 'calls', 'k1', 'h2', now)).toMatchObject({ state: 'completed', requestHash: 'h1', status: 201, body: { id: 'call_1' } });
    const dayLater = new Date(now.getTime() + 25 * 3600_000);
    expect(await store.idempotency.reserve(ws.id, 'calls', 'k1', 'h2', dayLater)).toBeUndefined();
  });

  it('outbox.enqueue() writes one row per target with one event id, and recordAttempt() logs attempts', async () => {
    const store = testStore();
    const ws = await workspace();
    const envelope = await store.outbox.enqueue({
      workspaceId: ws.id, type: 'call.answered', data: { call_id: 'c1' }, now,
      targets: [{ url: 'https://a.example/hook' }, { url: 'https://b.example/hook' }],
    });
    const due = (await store.outbox.due(now, 100)).filter((d) => d.envelope.id === envelope.id);
    expect(due).toHaveLength(2);
    await store.outbox.recordAttempt({ id: due[0]!.id, attempt: 1, statusCode: 500, latencyMs: 12, error: 'HTTP 500', next: { status: 'pending', nextAttemptAt: new Date(now.getTime() + 30_000) }, now });
    expect((await store.outbox.due(now, 100)).filter((d) => d.envelope.id === envelope.id)).toHaveLength(1);
    expect(await store.outbox.attempts(due[0]!.id)).toEqual([expect.objectContaining({ attempt: 1, statusCode: 500, latencyMs: 12 })]);
  });

  it('outbox.due() holds a row back while an older row of its ordering key and target is pending, and only that', async () => {
    const store = testStore();
    const ws = await workspace();
    const room = `conference\n${ws.id}\nroom-${Math.random()}`;
    const targets = [{ url: 'https://a.example/hook' }, { url: 'https://b.example/hook' }];
    const join = await store.outbox.enqueue({ workspaceId: ws.id, type: 'conference.join', data: {}, now, targets, orderingKey: room });
    const start = await store.outbox.enqueue({ workspaceId: ws.id, type: 'conference.start', data: {}, now, targets, orderingKey: room });
    const other = await store.outbox.enqueue({ workspaceId: ws.id, type: 'conference.join', data: {}, now, targets: [targets[0]!], orderingKey: `${room}-other` });
    const dueIds = async (): Promise<string[]> => (await store.outbox.due(now, 1000)).filter((d) => [join.id, start.id, other.id].includes(d.envelope.id)).map((d) => `${d.envelope.id === join.id ? 'join' : d.envelope.id === start.id ? 'start' : 'other'}@${d.targetUrl}`);
    expect((await dueIds()).sort()).toEqual(['join@https://a.example/hook', 'join@https://b.example/hook', 'other@https://a.example/hook']);
    // The join to a is retried later: start to a waits for it; start to b follows b's delivered join.
    const joins = (await store.outbox.due(now, 1000)).filter((d) => d.envelope.id === join.id);
    const joinA = joins.find((d) => d.targetUrl.startsWith('https://a'))!;
    const joinB = joins.find((d) => d.targetUrl.startsWith('https://b'))!;
    await store.outbox.recordAttempt({ id: joinA.id, attempt: 1, statusCode: 500, latencyMs: 1, error: 'HTTP 500', next: { status: 'pending', nextAttemptAt: new Date(now.getTime() + 30_000) }, now });
    await store.outbox.recordAttempt({ id: joinB.id, attempt: 1, statusCode: 200, latencyMs: 1, error: null, next: { status: 'delivered' }, now });
    expect((await dueIds()).sort()).toEqual(['other@https://a.example/hook', 'start@https://b.example/hook']);
    // A join given up for good no longer holds the start back.
    await store.outbox.recordAttempt({ id: joinA.id, attempt: 8, statusCode: 500, latencyMs: 1, error: 'HTTP 500', next: { status: 'failed' }, now });
    expect((await dueIds()).sort()).toEqual(['other@https://a.example/hook', 'start@https://a.example/hook', 'start@https://b.example/hook']);
  });

  it('a store transaction that throws leaves nothing behind', async () => {
    const store = testStore();
    const ws = await workspace();
    await expect(store.transaction(async (repos) => {
      await repos.calls.create({ workspaceId: ws.id, direction: 'inbound', from: '+254700000009', to: '+254700000010', now });
      throw new Error('boom');
    })).rejects.toThrow('boom');
    expect(await store.calls.list(ws.id, { from: '+254700000009' }, { limit: 10 })).toEqual([]);
  });

  it('recordings and webhook endpoints are scoped to their workspace', async () => {
    const store = testStore();
    const ws = await workspace();
    const other = await workspace('other');
    const rec = await store.recordings.create({ workspaceId: ws.id, callId: 'call_x', conference: null, path: '/tmp/x.wav', durationSeconds: 3, channels: 1, now });
    expect(await store.recordings.get(other.id, rec.id)).toBeUndefined();
    expect(await store.recordings.forCall(ws.id, 'call_x')).toMatchObject({ id: rec.id });
    // forCalls: the newest live recording of each call, in one query, only the workspace's own.
    const newer = await store.recordings.create({ workspaceId: ws.id, callId: 'call_x', conference: null, path: '/tmp/x2.wav', durationSeconds: 4, channels: 1, now });
    const gone = await store.recordings.create({ workspaceId: ws.id, callId: 'call_y', conference: null, path: '/tmp/y.wav', durationSeconds: 1, channels: 1, now });
    await store.recordings.markDeleted(ws.id, gone.id, now);
    const found = await store.recordings.forCalls(ws.id, ['call_x', 'call_y', 'call_z']);
    expect([...found.keys()]).toEqual(['call_x']);
    expect(found.get('call_x')!.id).toBe(newer.id);
    expect((await store.recordings.forCalls(other.id, ['call_x'])).size).toBe(0);
    const endpoint = await store.webhookEndpoints.create({ workspaceId: ws.id, url: 'https://h.example/x', events: ['call.hangup'], now });
    expect((await store.webhookEndpoints.subscribedTo(ws.id, 'call.hangup')).map((e) => e.id)).toEqual([endpoint.id]);
    expect(await store.webhookEndpoints.subscribedTo(ws.id, 'call.answered')).toEqual([]);
    expect(await store.webhookEndpoints.delete(other.id, endpoint.id, now)).toBe(false);
  });

  it('trunks keep the carrier fields (SPEC §13), with their defaults for a trunk made without them', async () => {
    const store = testStore();
    const base = { host: '192.0.2.10', port: 5060, transport: 'udp' as const, username: null, password: null, prefixes: ['+254'], inboundAddresses: [] };
    const plain = await store.trunks.create({ name: 'repo-plain', ...base }, now);
    expect(await store.trunks.get(plain!.id)).toMatchObject({
      register: false, authUsername: null, realm: null, registerExpires: 3600, priority: 0, answerTimeout: 5, optionsPing: 30,
      countryCode: '254', numberFormat: 'e164', techPrefix: null, fromDomain: null, sendPai: false,
    });
    const carrier = {
      register: true, username: 'acme', password: 'pw', authUsername: 'acme-auth', realm: 'carrier.example', registerExpires: 120, priority: 3,
      answerTimeout: 2, optionsPing: 0, countryCode: '255', numberFormat: 'national' as const, techPrefix: '99#', fromDomain: 'acme.example', sendPai: true,
    };
    const full = await store.trunks.create({ name: 'repo-full', ...base, ...carrier }, now);
    expect(await store.trunks.get(full!.id)).toMatchObject(carrier);
    const later = new Date(now.getTime() + 1000);
    expect(await store.trunks.update(full!.id, { register: false, sendPai: false, numberFormat: 'international', priority: 1 }, later))
      .toMatchObject({ ...carrier, register: false, sendPai: false, numberFormat: 'international', priority: 1, updatedAt: later.toISOString() });
    await store.trunks.delete(plain!.id);
    await store.trunks.delete(full!.id);
  });
});

