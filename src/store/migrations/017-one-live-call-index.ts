import { sql, type Kysely } from 'kysely';

/**
 * One partial index of live calls, not two. `calls_live_node` (015) held the
 * same rows as `calls_live` (006), keyed by node first, and both were
 * rewritten on every status change of every call: with both, a status update
 * cost about 2.5× what it costs with neither (bench/README.md, "Later on
 * 2026-12-03"). Every live-call query has the literal live-status predicate,
 * so it reads `calls_live` and filters by node: the live calls of all nodes,
 * a few thousand rows, at start-up and in the dead-node reaper only.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('calls_live_node').ifExists().execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('calls_live_node').on('calls').columns(['node_id', 'id'])
    .where(sql.ref('status'), 'in', ['queued', 'initiated', 'ringing', 'in-progress'].map((s) => sql.lit(s))).execute();
}
