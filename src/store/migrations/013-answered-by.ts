import type { Kysely } from 'kysely';

/**
 * Answering machine detection (SPEC §17): `answered_by` on the call, what
 * the detector decided (`human`, `machine_start`, … `unknown`); null on calls
 * placed without `machine_detection`. 013: 008–012 are taken by parallel work.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('calls').addColumn('answered_by', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('calls').dropColumn('answered_by').execute();
}
