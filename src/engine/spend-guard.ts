import { rateOfLeg } from '../billing/rate-table.js';
import { billableSeconds, priceCents } from '../billing/rating.js';
import type { Clock } from '../shared/clock.js';
import { walletAccount } from '../store/repos/ledger-repo.js';
import type { Store } from '../store/store.js';
import type { LiveCall } from './live-call.js';

/** The first check comes soon after the answer (the clock's pace is learnt from the answer to it), then every few seconds. */
const firstCheckMs = 1000;
const checkEveryMs = 5000;

/**
 * Keeps running calls within the wallet (SPEC §10). Each answered leg holds a
 * reservation of what it has cost so far plus the next minute. At every
 * check the leg works out how many seconds the balance allows, counting what
 * the other running calls reserved, and arms a timer that cuts it one second
 * before that (`hangup_cause: "insufficient_funds"`), so the balance never
 * goes below zero. Time is measured on the platform's clock, converted to
 * timer delays by the pace seen between checks (stalls and test clocks alike).
 */
export class SpendGuard {
  constructor(private readonly store: Store, private readonly clock: Clock) {}

  watch(session: LiveCall): void {
    let check: NodeJS.Timeout | undefined;
    let cut: NodeJS.Timeout | undefined;
    let last: { real: number; clock: number } | undefined;
    let ended = false;
    const run = async (): Promise<void> => {
      const real = performance.now();
      const clockNow = this.clock.now().getTime();
      // Platform-clock milliseconds per real millisecond since the last check.
      const pace = last ? Math.max(0.001, (clockNow - last.clock) / Math.max(1, real - last.real)) : 1;
      last = { real, clock: clockNow };
      const remainingMs = await this.#remainingMs(session, clockNow);
      if (ended || remainingMs === undefined) return;
      clearTimeout(cut);
      const realMs = remainingMs / pace;
      if (realMs <= 0) {
        await session.hangupFrom('system', 'insufficient_funds');
        return;
      }
      // Only a cut due before the next check needs a timer (and timers past 2^31-1 ms would fire at once).
      if (realMs > checkEveryMs * 2) return;
      cut = setTimeout(() => void session.hangupFrom('system', 'insufficient_funds'), realMs);
      cut.unref();
    };
    const schedule = (delay: number) => {
      check = setTimeout(() => {
        void run().catch((error: unknown) => session.log.error({ err: error }, 'spend check failed')).finally(() => {
          if (!ended) schedule(checkEveryMs);
        });
      }, delay);
      check.unref();
    };
    session.onEnd(() => {
      ended = true;
      clearTimeout(check);
      clearTimeout(cut);
    });
    // No check at the answer itself: the call was admitted holding its first minute
    // (`Wallet.reserveFirstMinute`), which covers far more than the time to the first check, and
    // would hold the same amount again. Noting the moment is enough to learn the clock's pace by then.
    last = { real: performance.now(), clock: this.clock.now().getTime() };
    schedule(firstCheckMs);
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
