import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { defaultRates } from '../../src/billing/default-rates.js';
import { Wallet } from '../../src/billing/wallet.js';
import type { HangupBy, LiveCall } from '../../src/engine/live-call.js';
import { SpendGuard } from '../../src/engine/spend-guard.js';
import type { HangupCause } from '../../src/shared/call-codes.js';
import { silentLogger } from '../../src/shared/log.js';
import { provisionWorkspace } from '../../src/store/provision-workspace.js';
import type { Store } from '../../src/store/store.js';
import { openTestStore } from '../helpers/dialects.js';

/**
 * How often the spend guard checks a running call (SPEC §10), on a real
 * store, with time driven by hand: far from empty, a check only refreshes the
 * reservation every 30 s of platform time; close to empty, every 5 s, and the
 * cut comes a second before the money runs out. The e2e spend-guard test cuts
 * a real call; this one counts the checks.
 */
describe('SpendGuard', () => {
  let opened: { store: Store; cleanup: () => Promise<void> };
  const t0 = new Date('2026-12-03T08:00:00.000Z');
  /** The platform clock: real (faked) time, times `pace`. */
  let pace = 1;
  let clockOrigin = { real: 0, clock: t0.getTime() };
  const clock = { now: () => new Date(clockOrigin.clock + (performance.now() - clockOrigin.real) * pace) };

  beforeAll(async () => {
    opened = await openTestStore('sqlite');
    await opened.store.rates.replaceAll(defaultRates, t0);
  });
  afterAll(async () => opened?.cleanup());
  afterEach(() => vi.useRealTimers());

  /** A workspace holding `cents`, and an inbound call (KES 0.50 a minute) answered now and admitted holding its first minute. */
  const answeredCall = async (cents: number) => {
    const store = opened.store;
    const { workspace } = await provisionWorkspace(store, { name: `ws-${Math.random()}`, allowPrivateCallbacks: true, now: t0 });
    await new Wallet(store).credit({ workspaceId: workspace.id, amountCents: cents, reference: null, now: t0 });
    const answeredAt = clock.now();
    const created = await store.calls.create({
      workspaceId: workspace.id, direction: 'inbound', from: '+254711000001', to: '+254700000001', status: 'in-progress',
      parentCallId: null, statusUrl: null, now: answeredAt,
    });
    const cdr = (await store.calls.updateReturning(created.id, { answered_at: answeredAt.toISOString() }))!;
    await store.reservations.reserve(workspace.id, cdr.id, 50, answeredAt);
    const cuts: Array<{ cause: HangupCause; atSeconds: number }> = [];
    const ends: Array<() => void | Promise<void>> = [];
    // The services' view of a call (`LiveCall`), as much of it as the guard reads.
    const session = {
      callId: cdr.id, log: silentLogger, cdr, status: 'in-progress', answeredAt,
      hangupFrom: async (_by: HangupBy, cause: HangupCause) => {
        cuts.push({ cause, atSeconds: (clock.now().getTime() - answeredAt.getTime()) / 1000 });
        for (const end of ends.splice(0)) await end();
      },
      onEnd: (cleanup: () => void | Promise<void>) => { ends.push(cleanup); },
    } as unknown as LiveCall;
    const reserved = () => store.reservations.amountFor(cdr.id);
    const end = async () => { for (const e of ends.splice(0)) await e(); };
    return { session, cuts, reserved, end };
  };

  /** A guard started `ageMs` of real time ago, with the platform clock at `clockPace`. */
  const guardOfAge = async (ageMs: number, clockPace: number) => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    pace = clockPace;
    clockOrigin = { real: performance.now(), clock: t0.getTime() };
    const guard = new SpendGuard(opened.store, clock);
    await vi.advanceTimersByTimeAsync(ageMs);
    return guard;
  };

  /** A call holding `cents`, answered and watched by a guard started `ageMs` ago with the clock at `clockPace`. */
  const watchedCall = async (ageMs: number, clockPace: number, cents: number) => {
    const guard = await guardOfAge(ageMs, clockPace);
    const call = await answeredCall(cents);
    guard.watch(call.session);
    return call;
  };

  it('far from empty, refreshes the reservation every 30 s and checks nothing in between', async () => {
    const call = await watchedCall(5000, 1, 100_000);
    await vi.advanceTimersByTimeAsync(29_000);
    expect(await call.reserved()).toBe(50); // the first minute, as admitted: no check yet
    await vi.advanceTimersByTimeAsync(2000);
    expect(await call.reserved()).toBe(75); // 30 s so far + the next minute, at KES 0.50
    await vi.advanceTimersByTimeAsync(28_000);
    expect(await call.reserved()).toBe(75);
    await vi.advanceTimersByTimeAsync(2000);
    expect(await call.reserved()).toBe(100);
    await call.end();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(await call.reserved()).toBe(100); // no check after the end
    expect(call.cuts).toEqual([]);
  });

  it('close to empty, checks every 5 s and cuts a second before the balance would go below zero', async () => {
    // KES 1.00 at KES 0.50 a minute: 120 s, cut at 119 s.
    const call = await watchedCall(5000, 1, 100);
    await vi.advanceTimersByTimeAsync(31_000);
    expect(await call.reserved()).toBe(75);
    await vi.advanceTimersByTimeAsync(5000);
    expect(await call.reserved()).toBe(80); // 35 s + the next minute: checks now come every 5 s
    await vi.advanceTimersByTimeAsync(100_000);
    expect(call.cuts).toEqual([{ cause: 'insufficient_funds', atSeconds: 119 }]);
    expect(await call.reserved()).toBe(100); // never more than the balance
  });

  it('learns a fast clock from its own life: at 30× the first refresh comes after one real second', async () => {
    const call = await watchedCall(2000, 30, 100_000);
    await vi.advanceTimersByTimeAsync(900);
    expect(await call.reserved()).toBe(50);
    await vi.advanceTimersByTimeAsync(200);
    expect(await call.reserved()).toBe(75); // 30 s of platform time + the next minute
    await call.end();
  });

  it('a guard too young to know the pace checks a second after the answer', async () => {
    const call = await watchedCall(100, 1, 100_000);
    await vi.advanceTimersByTimeAsync(1100);
    expect(await call.reserved()).toBe(51); // 1 s + the next minute
    await call.end();
  });
});
