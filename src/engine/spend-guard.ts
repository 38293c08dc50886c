import { rateOfLeg } from '../billing/rate-table.js';
import { billableSeconds, priceCents } from '../billing/rating.js';
import type { Clock } from '../shared/clock.js';
import { walletAccount } from '../store/repos/ledger-repo.js';
import type { Store } from '../store/store.js';
import type { LiveCall } from './live-call.js';

/** Without a pace yet (the platform started under a second ago), the first check comes this soon after the answer. */
const firstCheckMs = 1000;
/** While the wallet is close to empty, checks come this often (real ms), so other calls' reservations and charges are seen soon. */
const closeCheckEveryMs = 5000;
/**
 * While the wallet could pay for the call this much longer (platform-clock ms), it is far from empty:
 * the next check is due only when the call's reservation needs refreshing.
 */
const farFromEmptyMs = 5 * 60_000;
/** A reservation covers what the call has cost plus the next minute; refreshing it half-way keeps it 30 s ahead. */
const refreshEveryClockMs = 30_000;
/** The pace of the platform's clock is learnt over at least this much real time. */
const paceWindowMs = 1000;

/**
 * Keeps running calls within the wallet (SPEC §10). Each answered leg holds a
 * reservation of what it has cost so far plus the next minute. At every
 * check the leg works out how many seconds the balance allows, counting what
 * the other running calls reserved, and arms a timer that cuts it one second
 * before that (`hangup_cause: "insufficient_funds"`), so the balance never
 * goes below zero. Time is measured on the platform's clock, converted to
 * timer delays by the pace seen between checks (stalls and test clocks alike).
 *
 * A check reads the balance, sums every other running call's reservation and
 * writes this one's, so checks are as rare as the money allows: far from
 * empty (the balance pays for this call 5 more minutes), only to refresh the
 * reservation every 30 s of platform time; close to empty, every 5 s. The
 * first check is a refresh too: the call was admitted holding its first
 * minute (`Wallet.reserveFirstMinute`), and a call shorter than 30 s needs
 * none.
 */
export class SpendGuard {
  /** When the guard started, on both clocks: the pace of the platform's clock before any call's own checks. */
  readonly #origin: { real: number; clock: number };

  constructor(private readonly store: Store, private readonly clock: Clock) {
    this.#origin = { real: performance.now(), clock: clock.now().getTime() };
  }

  watch(session: LiveCall): void {
    let check: NodeJS.Timeout | undefined;
    let cut: NodeJS.Timeout | undefined;
    let last = { real: performance.now(), clock: this.clock.now().getTime() };
    // The pace comes from the guard's own life until the call's checks measure it.
    const guardPace = paceBetween(this.#origin, last, paceWindowMs);
    let pace = guardPace ?? 1;
    let ended = false;
    /** Checks one call; answers the real ms to the next check, or undefined when none is needed (ended, cut). */
    const run = async (): Promise<number | undefined> => {
      const real = performance.now();
      const clockNow = this.clock.now().getTime();
      pace = paceBetween(last, { real, clock: clockNow }, 1) ?? pace;
      last = { real, clock: clockNow };
      const remainingMs = await this.#remainingMs(session, clockNow);
      if (ended) return undefined;
      // A free call is looked at again as a far-from-empty one would be (its rate may change); an ended one never.
      if (remainingMs === undefined) return session.status === 'in-progress' ? refreshDelay(pace) : undefined;
      clearTimeout(cut);
      const realMs = remainingMs / pace;
      if (realMs <= 0) {
        await session.hangupFrom('system', 'insufficient_funds');
        return undefined;
      }
      const next = remainingMs >= farFromEmptyMs ? refreshDelay(pace) : Math.min(closeCheckEveryMs, refreshDelay(pace));
      // Only a cut due before the check after next needs a timer (and timers past 2^31-1 ms would fire at once).
      if (realMs <= next * 2) {
        cut = setTimeout(() => void session.hangupFrom('system', 'insufficient_funds'), realMs);
        cut.unref();
      }
      return next;
    };
    const schedule = (delay: number) => {
      check = setTimeout(() => {
        void run().then(
          (next) => { if (!ended && next !== undefined) schedule(next); },
          (error: unknown) => {
            session.log.error({ err: error }, 'spend check failed');
            if (!ended) schedule(closeCheckEveryMs);
          },
        );
      }, delay);
      check.unref();
    };
    session.onEnd(() => {
      ended = true;
      clearTimeout(check);
      clearTimeout(cut);
    });
    // No check at the answer itself: the call was admitted holding its first minute, which the
    // first check refreshes half-way through. A guard too young to know the pace checks soon.
    schedule(guardPace === undefined ? firstCheckMs : refreshDelay(guardPace));
  }

  /** Platform-clock ms the call may still last (undefined: free or not running); refreshes its reservation. */
  async #remainingMs(session: LiveCall, clockNow: number): Promise<number | undefined> {
    const call = session.cdr;
    const answeredAt = session.answeredAt;
    if (!answeredAt || session.status !== 'in-progress') return undefined;
    const rate = await rateOfLeg(this.store.rates, call);
    if (!rate || rate.ratePerMinuteCents === 0) return undefined;
    const [balanceCents, reservedByOthers] = await Promise.all([
      this.store.ledger.balance(walletAccount(call.workspaceId)),
      this.store.reservations.reservedByOthers(call.workspaceId, call.id),
    ]);
    const available = balanceCents - reservedByOthers;
    // The longest billable time whose price fits what is available; cut a second early so rounding up cannot overshoot.
    const maxSeconds = Math.floor((Math.max(0, available) * 60) / rate.ratePerMinuteCents) - 1;
    const elapsed = billableSeconds(answeredAt, new Date(clockNow));
    const reserve = Math.min(priceCents(elapsed + 60, rate.ratePerMinuteCents), Math.max(0, available));
    await this.store.reservations.reserve(call.workspaceId, call.id, reserve, new Date(clockNow));
    return maxSeconds * 1000 - (clockNow - answeredAt.getTime());
  }
}

/** Platform-clock ms per real ms between two moments, or undefined over less than `minRealMs`. */
function paceBetween(from: { real: number; clock: number }, to: { real: number; clock: number }, minRealMs: number): number | undefined {
  const realMs = to.real - from.real;
  if (realMs < minRealMs) return undefined;
  return Math.max(0.001, (to.clock - from.clock) / realMs);
}

/** Real ms to the next refresh of a reservation: 30 s of platform time, never longer than 30 s of real time (a stopped test clock). */
function refreshDelay(pace: number): number {
  return Math.min(refreshEveryClockMs / pace, refreshEveryClockMs);
}
