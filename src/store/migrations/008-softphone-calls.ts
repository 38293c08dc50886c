import type { Kysely } from 'kysely';

/**
 * Agents' softphones place calls (SPEC §13): a credential may have its own
 * `routing_url` and `caller_id`, and the workspace a `softphone_routing_url`
 * for credentials without one. All nullable: without them a softphone's call
 * is routed directly, like a PBX.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('sip_credentials').addColumn('routing_url', 'text').execute();
  await db.schema.alterTable('sip_credentials').addColumn('caller_id', 'text').execute();
  await db.schema.alterTable('settings').addColumn('softphone_routing_url', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('settings').dropColumn('softphone_routing_url').execute();
  await db.schema.alterTable('sip_credentials').dropColumn('caller_id').execute();
  await db.schema.alterTable('sip_credentials').dropColumn('routing_url').execute();
}
