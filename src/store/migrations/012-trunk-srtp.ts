import type { Kysely } from 'kysely';

/**
 * SRTP towards a trunk (SPEC §13): `srtp` is `off` (plain RTP, the default,
 * as every trunk made before), `optional` (our offers carry SDES keys in
 * `RTP/AVP`, used when the carrier answers with keys) or `mandatory`
 * (`RTP/SAVP` both ways; plain RTP offers from it get 488).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('trunks').addColumn('srtp', 'text', (c) => c.notNull().defaultTo('off')).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('trunks').dropColumn('srtp').execute();
}
