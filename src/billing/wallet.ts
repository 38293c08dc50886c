import { AppError, quoteInput } from '../shared/errors.js';
import { newId } from '../shared/ids.js';
import type { Repos } from '../store/store.js';
import { walletAccount } from '../store/repos/ledger-repo.js';
import type { LedgerTransaction } from '../store/repos/ledger-repo.js';
import type { RateCategory } from '../store/repos/rate-repo.js';
import { lookupRate, rateOfLeg, type RateQuote } from './rate-table.js';
import { priceCents } from './rating.js';

/** Ledger accounts that are not wallets. */
export const accounts = {
  callRevenue: 'revenue:calls',
  recordingRevenue: 'revenue:recordings',
  credits: 'funding:credits',
} as const;

export interface WalletBalance {
  balanceCents: number;
  reservedCents: number;
}

export interface LegCharge {
  workspaceId: string;
  callId: string;
  /** Which leg of the call this is; (callId, leg) is charged at most once. */
  leg: string;
  durationSeconds: number;
  ratePerMinuteCents: number;
  category: RateCategory;
  now: Date;
}

/**
 * Money in and out of a workspace's prepaid wallet, through the double-entry
 * ledger. The balance is the sum of the wallet's ledger entries.
 */
export class Wallet {
  constructor(private readonly repos: Repos) {}

  async balance(workspaceId: string): Promise<WalletBalance> {
    const [balanceCents, reservedCents] = await Promise.all([
      this.repos.ledger.balance(walletAccount(workspaceId)),
      this.repos.reservations.reservedTotal(workspaceId),
    ]);
    return { balanceCents, reservedCents };
  }

  /** An operator top-up. */
  async credit(input: { workspaceId: string; amountCents: number; reference: string | null; now: Date; postingKey?: string }): Promise<string> {
    if (!Number.isSafeInteger(input.amountCents) || input.amountCents <= 0) throw new AppError('validation_failed', 'amount must be a positive amount of KES', 'amount');
    const { transactionId } = await this.repos.ledger.post({
      workspaceId: input.workspaceId, kind: 'credit', postingKey: input.postingKey ?? `credit:${newId('cr')}`, reference: input.reference,
      description: input.reference ? `Credit: ${input.reference}` : 'Credit',
      entries: [
        { account: walletAccount(input.workspaceId), amountCents: input.amountCents },
        { account: accounts.credits, amountCents: -input.amountCents },
      ],
      now: input.now,
    });
    return transactionId;
  }

  /**
   * Charges one call leg for its answered time. Idempotent: a retried hangup
   * with the same (call id, leg) never charges twice. Answers the price.
   */
  async chargeLeg(charge: LegCharge): Promise<{ priceCents: number; applied: boolean }> {
    const price = priceCents(charge.durationSeconds, charge.ratePerMinuteCents);
    if (price === 0) return { priceCents: 0, applied: false };
    const { applied } = await this.repos.ledger.post({
      workspaceId: charge.workspaceId, kind: 'call_charge', postingKey: `call:${charge.callId}:${charge.leg}`,
      callId: charge.callId, leg: charge.leg,
      description: `${charge.category} call, ${charge.durationSeconds} s at ${charge.ratePerMinuteCents} cents/min`,
      entries: [
        { account: walletAccount(charge.workspaceId), amountCents: -price },
        { account: accounts.callRevenue, amountCents: price },
      ],
      now: charge.now,
    });
    return { priceCents: price, applied };
  }

  /**
   * Files a recording: its row and its fee at the recording rate, on the
   * repos of the caller's transaction, so a recording is never on file
   * uncharged (or charged and missing). Answers the fee.
   */
  async fileRecording(input: { id: string; workspaceId: string; callId: string | null; conference: string | null; path: string; durationSeconds: number; channels: number; now: Date }): Promise<number> {
    await this.repos.recordings.create(input);
    const rate = await lookupRate(this.repos.rates, 'recording', '');
    if (!rate) return 0;
    return this.chargeRecording({ workspaceId: input.workspaceId, recordingId: input.id, callId: input.callId, seconds: input.durationSeconds, ratePerMinuteCents: rate.ratePerMinuteCents, now: input.now });
  }

  /** The per-minute recording fee for a recording, once per recording id. */
  async chargeRecording(input: { workspaceId: string; recordingId: string; callId: string | null; seconds: number; ratePerMinuteCents: number; now: Date }): Promise<number> {
    const price = priceCents(input.seconds, input.ratePerMinuteCents);
    if (price === 0) return 0;
    await this.repos.ledger.post({
      workspaceId: input.workspaceId, kind: 'recording_charge', postingKey: `recording:${input.recordingId}`, callId: input.callId,
      leg: 'recording', description: `Recording, ${input.seconds} s`,
      entries: [
        { account: walletAccount(input.workspaceId), amountCents: -price },
        { account: accounts.recordingRevenue, amountCents: price },
      ],
      now: input.now,
    });
    return price;
  }

  transactions(workspaceId: string, page: { limit: number; before?: string }): Promise<LedgerTransaction[]> {
    return this.repos.ledger.transactions(workspaceId, page);
  }

  /**
   * The funds check for placing a call (SPEC §10): the balance less what is
   * reserved must cover one minute at the destination's rate, and the daily
   * spend limit must leave room for that minute beside what running calls
   * hold. Answers the rate that applies. `reserveFirstMinute` is the check
   * that admits a call; this one only looks.
   */
  async checkFundsFor(workspaceId: string, destination: string, field = 'to', now = new Date()): Promise<RateQuote> {
    const rate = await rateOfLeg(this.repos.rates, { direction: 'outbound', to: destination });
    if (!rate) throw new AppError('no_rate', `no rate applies to ${quoteInput(destination)}`, field);
    await this.#checkRoomFor(workspaceId, rate.ratePerMinuteCents, destination, field, now);
    return rate;
  }

  /**
   * Admits a call: checks the funds as `checkFundsFor` does and reserves one
   * minute at the call's rate for `callId`, atomically. Concurrent calls of
   * one workspace are admitted one after another (the workspace row is
   * locked), so no more calls start than the balance covers at one minute
   * each. Runs on the repos of a transaction (`store.transaction`); the
   * reservation commits with it and is released when the call is billed.
   * `inbound` calls without a rate cost nothing and reserve nothing.
   */
  async reserveFirstMinute(input: { workspaceId: string; callId: string; destination: string; inbound?: boolean; field?: string; now: Date }): Promise<RateQuote | undefined> {
    const field = input.field ?? 'to';
    await this.repos.workspaces.lockForUpdate(input.workspaceId);
    if (!input.inbound) {
      const rate = await this.checkFundsFor(input.workspaceId, input.destination, field, input.now);
      await this.repos.reservations.reserve(input.workspaceId, input.callId, rate.ratePerMinuteCents, input.now);
      return rate;
    }
    const rate = await rateOfLeg(this.repos.rates, { direction: 'inbound', to: input.destination });
    // Inbound calls answer to the balance only: the daily limit caps what the workspace places (SPEC §10).
    await this.#checkRoomFor(input.workspaceId, rate?.ratePerMinuteCents ?? 0, input.destination, field, undefined);
    if (rate && rate.ratePerMinuteCents > 0) await this.repos.reservations.reserve(input.workspaceId, input.callId, rate.ratePerMinuteCents, input.now);
    return rate;
  }

  /** Throws `insufficient_funds` unless one more minute fits the balance (and, given `now`, the day's spend limit). */
  async #checkRoomFor(workspaceId: string, oneMinute: number, destination: string, field: string, now: Date | undefined): Promise<void> {
    const { balanceCents, reservedCents } = await this.balance(workspaceId);
    if (balanceCents - reservedCents < oneMinute || balanceCents <= 0) {
      throw new AppError('insufficient_funds', `the wallet cannot cover one minute to ${quoteInput(destination)} (${oneMinute} cents needed)`, field);
    }
    if (!now) return;
    const { dailySpendLimitCents } = await this.repos.settings.get(workspaceId);
    if (dailySpendLimitCents === null) return;
    const dayStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
    const spent = await this.repos.ledger.spentSince(workspaceId, dayStart);
    // What running calls hold counts too: it is spent today as soon as they end.
    if (spent + reservedCents + oneMinute > dailySpendLimitCents) {
      throw new AppError('insufficient_funds', `the daily spend limit of ${dailySpendLimitCents} cents would be exceeded`, field);
    }
  }
}
