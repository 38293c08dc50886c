import type { Kysely } from 'kysely';

/** Softphone credentials: a user registers as sip:USERNAME@<workspace domain> (SPEC §4). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('sip_credentials')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('username', 'text', (c) => c.notNull())
    // In clear: digest (MD5 and SHA-256 alike) needs it, or one hash per algorithm and realm.
    .addColumn('password', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('sip_credentials_user', ['workspace_id', 'username'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sip_credentials').ifExists().execute();
}
