import type { Kysely } from 'kysely';

/**
 * The call timeline (SPEC §14): one row per entry, its fields as JSON text.
 * The primary key (call_id, seq) is the index a call's timeline is read by,
 * in order; `at` has its own index for the retention purge. `seq` is
 * microseconds since the epoch (about 2^51 today): bigint on PostgreSQL, an
 * INTEGER (64-bit) on SQLite. 011: 008–010 are taken by parallel work.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('call_timeline')
    .addColumn('call_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('call_timeline_pkey', ['call_id', 'seq'])
    .execute();
  await db.schema.createIndex('call_timeline_at').on('call_timeline').column('at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('call_timeline').ifExists().execute();
}
