import type { Kysely } from 'kysely';

/** SIP trunks to carriers (SPEC §4 admin trunks). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('trunks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('port', 'integer', (c) => c.notNull())
    .addColumn('transport', 'text', (c) => c.notNull())
    .addColumn('username', 'text')
    // In clear: the platform must answer the carrier's digest challenges with it.
    .addColumn('password', 'text')
    .addColumn('prefixes', 'text', (c) => c.notNull())
    .addColumn('inbound_addresses', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('trunks').ifExists().execute();
}
