import { categoryOfDestination, lookupRate } from '../billing/rate-table.js';
import { billableSeconds, priceCents } from '../billing/rating.js';
import type { Wallet } from '../billing/wallet.js';
import type { Clock } from '../shared/clock.js';
import type { Store } from '../store/store.js';
import type { CallSession } from './call-session.js';

/** How often running calls are re-checked against the balance. */
const checkEveryMs = 5000;

/**
 * Keeps running calls within the wallet (SPEC §10). Each answered leg holds a
 * reservation of what it has cost so far plus the next minute; a leg whose
 * next check would take the balance below zero, counting what the other
 * running calls reserved, is cut with `hangup_cause: "insufficient_funds"`.
 */
export class SpendGuard {
  constructor(private readonly store: Store, private readonly wallet: Wallet, private readonly clock: Clock) {}

  watch(session: CallSession): void {
    const timer = setInterval(() => void this.#check(session).catch((error: unknown) => session.log.error({ err: error }, 'spend check failed')), checkEveryMs);
    timer.unref();
    session.onEnd(() => clearInterval(timer));
    void this.#check(session).catch((error: unknown) => session.log.error({ err: error }, 'spend check failed'));
  }

  async #check(session: CallSession): Promise<void> {
    const call = session.cdr;
    const answeredAt = session.answeredAt;
    if (!answeredAt || session.status !== 'in-progress') return;
    const category = call.direction === 'inbound' ? 'inbound' : categoryOfDestination(call.to);
    const rate = await lookupRate(this.store.rates, category, call.to);
    if (!rate || rate.ratePerMinuteCents === 0) return;
    const now = this.clock.now();
    const elapsed = billableSeconds(answeredAt, now);
    const soFar = priceCents(elapsed, rate.ratePerMinuteCents);
    const nextCheck = priceCents(elapsed + checkEveryMs / 1000, rate.ratePerMinuteCents);
    const { balanceCents, reservedCents } = await this.wallet.balance(call.workspaceId);
    const ownReservation = await this.store.reservations.amountFor(call.id);
    const othersReserved = reservedCents - ownReservation;
    if (balanceCents - othersReserved < nextCheck) {
      session.log.info({ balanceCents, othersReserved, soFar }, 'balance exhausted; cutting the call');
      await session.hangupFrom('system', 'insufficient_funds');
      return;
    }
    await this.store.reservations.reserve(call.workspaceId, call.id, Math.min(soFar + rate.ratePerMinuteCents, balanceCents - othersReserved), now);
  }
}
