import { sql, type Kysely } from 'kysely';

/**
 * Each ledger account's running balance, kept in the same transaction as the
 * entries that change it. Summing the entries on every balance read cost
 * more with every call the wallet had ever paid for (four reads per call on
 * the call path); the sum stays the definition, and the store's tests check
 * that the two agree.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('account_balances')
    .addColumn('account', 'text', (c) => c.primaryKey())
    .addColumn('balance_cents', 'bigint', (c) => c.notNull())
    .execute();
  await sql`insert into account_balances (account, balance_cents)
    select account, sum(amount_cents) from ledger_entries group by account`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('account_balances').ifExists().execute();
}
