import { categoryOfLeg, rateOfLeg } from '../billing/rate-table.js';
import { billableSeconds, formatCents } from '../billing/rating.js';
import { Wallet } from '../billing/wallet.js';
import type { HangupCause } from '../shared/call-codes.js';
import type { Clock } from '../shared/clock.js';
import type { CallRecord, CallStatus } from '../store/repos/call-repo.js';
import { walletAccount } from '../store/repos/ledger-repo.js';
import type { Repos, Store } from '../store/store.js';
import type { EventPublisher } from '../webhooks/event-publisher.js';
import type { CallRecords } from './call-records.js';
import type { HangupBy } from './live-call.js';

/**
 * Billing at hang-up (SPEC §10): each leg is rated on its own (inbound at the
 * inbound rate of the called number, outbound at the destination's rate,
 * sip: legs at the SIP rate) and posted to the ledger once, keyed by the
 * call id; then the CDR gets its final status, duration and price.
 */
/** A charge that takes the balance from at or above this to below it sends wallet.low_balance (KES 50.00). */
export const lowBalanceThresholdCents = 5000;

/** How a call's record ends (`CallBilling.close`). */
export interface CallEnd {
  status: CallStatus;
  by: HangupBy;
  cause: HangupCause;
  /** When the call was answered; null when it never was (nothing is charged). */
  answeredAt: Date | null;
  /** Where the billed time stops: the hang-up, or for a call a crash left behind, the last time it was seen alive. */
  endedAt: Date;
  /** Added to the final lifecycle event (e.g. the SIP status). */
  detail: Record<string, unknown>;
}

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
   * Ends a call's record: the charge for its answered time, the low-balance
   * event, the released reservation and the final CDR with its call.hangup
   * event commit in one transaction: all or nothing, and one commit instead
   * of three on every call's hang-up. A hang-up and a restart's recovery
   * (`recoverCalls`) both end calls here. The final CDR is written only if
   * the call had not ended yet, and the charge is keyed by call id and leg,
   * so a call ended twice is billed and announced once; answers undefined
   * for the one that came second.
   */
  async close(call: CallRecord, end: CallEnd): Promise<CallRecord | undefined> {
    const { answeredAt, endedAt } = end;
    const seconds = billableSeconds(answeredAt, endedAt);
    const ringStart = call.ringingAt ? Date.parse(call.ringingAt) : undefined;
    const ringSeconds = ringStart ? Math.max(0, Math.round(((answeredAt?.getTime() ?? endedAt.getTime()) - ringStart) / 1000)) : null;
    const category = categoryOfLeg(call);
    const rate = await rateOfLeg(this.store.rates, call);
    const now = this.clock.now();
    return this.store.transaction(async (repos) => {
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
      return this.records.endIn(repos, call.id, end.status, {
        ended_at: endedAt.toISOString(), duration_seconds: answeredAt ? seconds : 0, ring_seconds: ringSeconds,
        hangup_cause: end.cause, hangup_by: end.by, price_cents: priceCents, rate_per_minute_cents: rate?.ratePerMinuteCents ?? null,
        rate_category: category,
      }, { hangup_by: end.by, hangup_cause: end.cause, ...end.detail });
    });
  }
}
