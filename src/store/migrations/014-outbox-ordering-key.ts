import type { Kysely } from 'kysely';

/**
 * Events delivered in causal order (docs/webhooks.md): an outbox row may
 * carry an ordering key (a conference room, per target), and a row is not
 * due while an older pending row with the same key exists. The index serves
 * that look-up. 014: 012 and 013 are taken by parallel work.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('outbox').addColumn('ordering_key', 'text').execute();
  await db.schema.createIndex('outbox_ordering').on('outbox').columns(['ordering_key', 'status', 'id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('outbox_ordering').ifExists().execute();
  await db.schema.alterTable('outbox').dropColumn('ordering_key').execute();
}
