import { categoryOfDestination, lookupRate } from '../billing/rate-table.js';
import { billableSeconds, formatCents } from '../billing/rating.js';
import { Wallet } from '../billing/wallet.js';
import type { LegEnd } from '../legs/call-leg.js';
import type { Clock } from '../shared/clock.js';
import { walletAccount } from '../store/repos/ledger-repo.js';
import type { Repos, Store } from '../store/store.js';
import type { EventPublisher } from '../webhooks/event-publisher.js';
import type { CallRecords } from './call-records.js';
import type { CallSession, HangupBy } from './call-session.js';

/**
 * Billing at hang-up (SPEC §10): each leg is rated on its own (inbound at the
 * inbound rate of the called number, outbound at the destination's rate,
 * sip: legs at the SIP rate) and posted to the ledger once, keyed by the
 * call id; then the CDR gets its final status, duration and price.
 */
/** A charge that takes the balance from at or above this to below it sends wallet.low_balance (KES 50.00). */
export const lowBalanceThresholdCents = 5000;

export class CallBilling {
  constructor(
    private readonly store: Store,
    private readonly records: CallRecords,
    private readonly clock: Clock,
    private readonly events: EventPublisher,
  ) {}

  /** wallet.low_balance when this charge crossed the threshold (once per crossing, not on every call after). */
  async #warnIfLow(repos: Repos, workspaceId: string, chargedCents: number, now: Date): Promise<void> {
    const balanceCents = await repos.ledger.balance(walletAccount(workspaceId));
    if (balanceCents >= lowBalanceThresholdCents || balanceCents + chargedCents < lowBalanceThresholdCents) return;
    await this.events.publish(repos, {
      workspaceId, type: 'wallet.low_balance', now,
      data: { balance: formatCents(balanceCents), currency: 'KES', threshold: formatCents(lowBalanceThresholdCents) },
    });
  }

  /**
   * The charge, the low-balance event, the released reservation and the final
   * CDR with its call.hangup event commit in one transaction: all or nothing,
   * and one commit instead of three on every call's hang-up.
   */
  async settle(session: CallSession, by: HangupBy, cause: string, end: LegEnd): Promise<void> {
    const call = session.cdr;
    const now = this.clock.now();
    const status = session.finalStatus(cause);
    const answeredAt = session.answeredAt ?? null;
    const seconds = billableSeconds(answeredAt, now);
    const ringStart = call.ringingAt ? Date.parse(call.ringingAt) : undefined;
    const ringSeconds = ringStart ? Math.max(0, Math.round(((answeredAt?.getTime() ?? now.getTime()) - ringStart) / 1000)) : null;
    const category = call.direction === 'inbound' ? 'inbound' : categoryOfDestination(call.to);
    const rate = await lookupRate(this.store.rates, category, call.direction === 'inbound' ? call.to : call.to);
    session.markEnded(status);
    session.setCdr(await this.store.transaction(async (repos) => {
      let priceCents = 0;
      if (answeredAt && rate) {
        let applied: boolean;
        ({ priceCents, applied } = await new Wallet(repos).chargeLeg({
          workspaceId: call.workspaceId, callId: call.id, leg: call.direction, durationSeconds: seconds,
          ratePerMinuteCents: rate.ratePerMinuteCents, category, now,
        }));
        if (applied) await this.#warnIfLow(repos, call.workspaceId, priceCents, now);
      }
      await repos.reservations.release(call.id, now);
      return this.records.transitionIn(repos, call.id, status, {
        ended_at: now.toISOString(), duration_seconds: answeredAt ? seconds : 0, ring_seconds: ringSeconds,
        hangup_cause: cause, hangup_by: by, price_cents: priceCents, rate_per_minute_cents: rate?.ratePerMinuteCents ?? null,
        rate_category: category,
      }, { hangup_by: by, hangup_cause: cause, ...(end.sipStatus ? { sip_status: end.sipStatus } : {}) });
    }));
  }
}
