import { describe, expect, it } from 'vitest';
import { TimelineWriter } from '../../src/store/timeline-writer.js';
import type { Clock } from '../../src/shared/clock.js';
import { describeOnEachDialect } from '../helpers/each-dialect.js';
import { openTestStore } from '../helpers/dialects.js';

/** A clock the test sets: entries' `at` and the purge's cut-off follow it. */
function settableClock(start: string): Clock & { set(iso: string): void } {
  let now = new Date(start);
  return { now: () => now, set: (iso) => { now = new Date(iso); } };
}

describeOnEachDialect('the call timeline store', (store) => {
  it('writes noted entries in batches, in order, and a flush makes them readable at once', async () => {
    const clock = settableClock('2026-03-02T09:00:00.000Z');
    // An interval far beyond the test: only a full batch or flush() writes.
    const writer = new TimelineWriter(store().timeline, { clock, flushIntervalMs: 60_000, batchSize: 200 });
    const callId = `call_t${Math.random().toString(36).slice(2, 10)}`;
    for (let i = 0; i < 450; i++) writer.note(callId, i % 2 ? 'action.start' : 'action.end', { index: i, name: 'say', nested: { body: 'ü€😀' } });
    // Two full batches have gone (or are going) out; 50 wait for the flush.
    expect(writer.queued).toBeLessThanOrEqual(250);
    await writer.flush();
    expect(writer.queued).toBe(0);
    const entries = await store().timeline.list(callId);
    expect(entries).toHaveLength(450);
    expect(entries.map((e) => e.data['index'])).toEqual([...Array(450).keys()]);
    expect(entries[1]).toMatchObject({ callId, type: 'action.start', at: '2026-03-02T09:00:00.000Z', data: { index: 1, name: 'say', nested: { body: 'ü€😀' } } });
    // seq is strictly increasing, even for entries noted in the same millisecond.
    for (let i = 1; i < entries.length; i++) expect(entries[i]!.seq).toBeGreaterThan(entries[i - 1]!.seq);
    await writer.close();
  });

  it('a batch is written on its own within the flush interval, without a read asking for it', async () => {
    const writer = new TimelineWriter(store().timeline, { clock: { now: () => new Date() }, flushIntervalMs: 50 });
    const callId = `call_i${Math.random().toString(36).slice(2, 10)}`;
    writer.note(callId, 'status', { status: 'ringing' });
    const deadline = Date.now() + 10_000;
    while ((await store().timeline.list(callId)).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await store().timeline.list(callId)).toMatchObject([{ type: 'status', data: { status: 'ringing' } }]);
    await writer.close();
  });

  it('purges entries older than the retention period and keeps the rest', async () => {
    const clock = settableClock('2026-01-01T00:00:00.000Z');
    const writer = new TimelineWriter(store().timeline, { clock, retentionDays: 30 });
    const callId = `call_p${Math.random().toString(36).slice(2, 10)}`;
    writer.note(callId, 'status', { status: 'ringing' });
    clock.set('2026-01-20T00:00:00.000Z');
    writer.note(callId, 'status', { status: 'completed' });
    await writer.flush();
    clock.set('2026-02-05T00:00:00.000Z');
    expect(await writer.purge()).toBeGreaterThanOrEqual(1);
    expect((await store().timeline.list(callId)).map((e) => e.data['status'])).toEqual(['completed']);
    clock.set('2026-03-01T00:00:00.000Z');
    await writer.purge();
    expect(await store().timeline.list(callId)).toEqual([]);
    await writer.close();
  });
});

describe('the call timeline writer while the store is down', () => {
  it('keeps entries for the next try, bounded: past maxQueued the oldest are dropped and counted; nothing throws into the call', async () => {
    const opened = await openTestStore('sqlite');
    const { store } = opened;
    const writer = new TimelineWriter(store.timeline, { clock: { now: () => new Date() }, flushIntervalMs: 60_000, batchSize: 10, maxQueued: 25 });
    // The database goes away under the writer (a real closed connection, not a stand-in).
    await store.close();
    for (let i = 0; i < 40; i++) writer.note('call_down', 'status', { i });
    await writer.flush();
    expect(writer.queued).toBe(25);
    expect(writer.dropped).toBe(15);
    await writer.close();
    await opened.cleanup();
  });
});
