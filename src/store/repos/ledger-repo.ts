import { sql } from 'kysely';
import type { Db, LedgerTransactionsTable } from '../db.js';
import { newId } from '../../shared/ids.js';
import { PreparedQuery } from '../prepared-query.js';
import { runInTransaction } from './run-in-transaction.js';

export type LedgerKind = LedgerTransactionsTable['kind'];

export interface LedgerPosting {
  workspaceId: string;
  kind: LedgerKind;
  /** Exactly-once key: a second posting with the same key changes nothing. */
  postingKey: string;
  callId?: string | null;
  leg?: string | null;
  reference?: string | null;
  description: string;
  /** Signed amounts per account; they must sum to zero (double entry). */
  entries: Array<{ account: string; amountCents: number }>;
  now: Date;
}

export interface LedgerTransaction {
  id: string;
  workspaceId: string;
  kind: LedgerKind;
  amountCents: number;
  /** The wallet's side of the transaction: negative for a charge, positive for a credit. */
  walletAmountCents: number;
  callId: string | null;
  leg: string | null;
  reference: string | null;
  description: string;
  createdAt: string;
}

export const walletAccount = (workspaceId: string): string => `wallet:${workspaceId}`;

const insertTransaction = new PreparedQuery((db: Db, id: string, workspaceId: string, kind: LedgerKind, amountCents: number, postingKey: string,
  callId: string | null, leg: string | null, reference: string | null, description: string, createdAt: string) => db.insertInto('ledger_transactions').values({
  id, workspace_id: workspaceId, kind, amount_cents: amountCents, posting_key: postingKey, call_id: callId, leg, reference, description, created_at: createdAt,
}).onConflict((oc) => oc.column('posting_key').doNothing()));

const insertEntry = new PreparedQuery((db: Db, id: string, transactionId: string, account: string, workspaceId: string, amountCents: number, createdAt: string) =>
  db.insertInto('ledger_entries').values({ id, transaction_id: transactionId, account, workspace_id: workspaceId, amount_cents: amountCents, created_at: createdAt }));

const addToBalance = new PreparedQuery((db: Db, account: string, amountCents: number) => db.insertInto('account_balances').values({ account, balance_cents: amountCents })
  .onConflict((oc) => oc.column('account').doUpdateSet({ balance_cents: sql<number>`account_balances.balance_cents + ${amountCents}` })));

const balanceOf = new PreparedQuery((db: Db, account: string) => db.selectFrom('account_balances').select('balance_cents').where('account', '=', account));

/** The append-only, double-entry ledger. Rows are only ever inserted. */
export class LedgerRepo {
  constructor(private readonly db: Db) {}

  /** Applies the posting once. Answers the transaction id and whether this call applied it. */
  async post(posting: LedgerPosting): Promise<{ transactionId: string; applied: boolean }> {
    const sum = posting.entries.reduce((s, e) => s + e.amountCents, 0);
    if (sum !== 0) throw new Error(`ledger posting ${posting.postingKey} does not balance (sum ${sum})`);
    if (posting.entries.some((e) => !Number.isSafeInteger(e.amountCents))) throw new Error('ledger amounts must be integer cents');
    const amount = posting.entries.reduce((s, e) => s + Math.max(0, e.amountCents), 0);
    return runInTransaction(this.db, async (tx) => {
      const id = newId('txn');
      const at = posting.now.toISOString();
      const inserted = await insertTransaction.execute(tx, id, posting.workspaceId, posting.kind, amount, posting.postingKey,
        posting.callId ?? null, posting.leg ?? null, posting.reference ?? null, posting.description, at);
      if (Number(inserted.numAffectedRows ?? 0n) === 0) {
        const existing = await tx.selectFrom('ledger_transactions').select('id').where('posting_key', '=', posting.postingKey).executeTakeFirstOrThrow();
        return { transactionId: existing.id, applied: false };
      }
      for (const entry of posting.entries) {
        await insertEntry.execute(tx, newId('le'), id, entry.account, posting.workspaceId, entry.amountCents, at);
        await addToBalance.execute(tx, entry.account, entry.amountCents);
      }
      return { transactionId: id, applied: true };
    });
  }

  /**
   * The account balance: the sum of its entries, kept beside them (account_balances)
   * by `post` in the same transaction, so reading it does not grow with the ledger.
   */
  async balance(account: string): Promise<number> {
    const row = await balanceOf.takeFirst(this.db, account);
    return Number(row?.balance_cents ?? 0);
  }

  /** The account's balance summed from its entries: what `balance` must always equal (for checks and audits). */
  async balanceFromEntries(account: string): Promise<number> {
    const row = await this.db.selectFrom('ledger_entries').select((eb) => eb.fn.sum<number>('amount_cents').as('total'))
      .where('account', '=', account).executeTakeFirst();
    return Number(row?.total ?? 0);
  }

  /** Sum of the wallet's debits since `since` (for the daily spend limit), as a positive figure. */
  async spentSince(workspaceId: string, since: Date): Promise<number> {
    const row = await this.db.selectFrom('ledger_entries').select((eb) => eb.fn.sum<number>('amount_cents').as('total'))
      .where('account', '=', walletAccount(workspaceId)).where('amount_cents', '<', 0).where('created_at', '>=', since.toISOString())
      .executeTakeFirst();
    return -Number(row?.total ?? 0);
  }

  /** The workspace's transactions, newest first, with the wallet's side of each. */
  async transactions(workspaceId: string, page: { limit: number; before?: string }): Promise<LedgerTransaction[]> {
    let query = this.db.selectFrom('ledger_transactions as t')
      .innerJoin('ledger_entries as e', (join) => join.onRef('e.transaction_id', '=', 't.id').on('e.account', '=', walletAccount(workspaceId)))
      .select(['t.id', 't.workspace_id', 't.kind', 't.amount_cents', 't.call_id', 't.leg', 't.reference', 't.description', 't.created_at', 'e.amount_cents as wallet_amount'])
      .where('t.workspace_id', '=', workspaceId);
    if (page.before) query = query.where('t.id', '<', page.before);
    const rows = await query.orderBy('t.id', 'desc').limit(page.limit).execute();
    return rows.map((r) => ({
      id: r.id, workspaceId: r.workspace_id, kind: r.kind, amountCents: Number(r.amount_cents), walletAmountCents: Number(r.wallet_amount),
      callId: r.call_id, leg: r.leg, reference: r.reference, description: r.description, createdAt: r.created_at,
    }));
  }

  /** Every entry of the workspace's transactions (for invariant checks and audits). */
  async entriesOfWorkspace(workspaceId: string): Promise<Array<{ transactionId: string; account: string; amountCents: number }>> {
    const rows = await this.db.selectFrom('ledger_entries').select(['transaction_id', 'account', 'amount_cents'])
      .where('workspace_id', '=', workspaceId).execute();
    return rows.map((r) => ({ transactionId: r.transaction_id, account: r.account, amountCents: Number(r.amount_cents) }));
  }
}
