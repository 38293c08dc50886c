import type { Kysely } from 'kysely';

/**
 * A conference room lives on one node, its home (SPEC §16). `room_homes`: one
 * row per live room, keyed by (workspace, room name), holding the home node.
 * The primary key makes the first insert the only winner, so two nodes whose
 * calls join the same name at once agree on one home.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('room_homes')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('room', 'text', (c) => c.notNull())
    .addColumn('node_id', 'text', (c) => c.notNull())
    .addColumn('claimed_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('room_homes_pk', ['workspace_id', 'room'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('room_homes').ifExists().execute();
}
