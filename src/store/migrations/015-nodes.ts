import { sql, type Kysely } from 'kysely';

/**
 * Several nodes form one platform (SPEC §16). `nodes`: one row per node,
 * heart-beaten while it runs, so any node can list its peers, find the one
 * holding a call and declare a silent one dead. `calls.node_id`: the node that
 * runs a live call; requests about the call are carried out there, and the
 * call is ended by a peer if that node dies.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('nodes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('sip_address', 'text', (c) => c.notNull())
    .addColumn('http_url', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().defaultTo('active'))
    .addColumn('live_calls', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('heartbeat_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.alterTable('calls').addColumn('node_id', 'text').execute();
  await db.schema.createIndex('calls_live_node').on('calls').columns(['node_id', 'id'])
    .where(sql.ref('status'), 'in', ['queued', 'initiated', 'ringing', 'in-progress'].map((s) => sql.lit(s))).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('calls_live_node').ifExists().execute();
  await db.schema.alterTable('calls').dropColumn('node_id').execute();
  await db.schema.dropTable('nodes').ifExists().execute();
}
