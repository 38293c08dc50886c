import type { Kysely } from 'kysely';

/**
 * Softphone registrations (SPEC §13): the durable copy of the registrar's
 * bindings, so a restarted server reaches agents without them registering
 * again. One row per (AOR, contact); the primary key, led by `aor`, is the
 * index lookups by AOR use. `expires_at` (ISO text, like every time here)
 * has its own index for sweeping expired rows.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('sip_registrations')
    .addColumn('aor', 'text', (c) => c.notNull())
    .addColumn('contact', 'text', (c) => c.notNull())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('source_address', 'text', (c) => c.notNull())
    .addColumn('source_port', 'integer', (c) => c.notNull())
    .addColumn('transport', 'text', (c) => c.notNull())
    .addColumn('call_id', 'text', (c) => c.notNull())
    // CSeq numbers are below 2^31 (RFC 3261 §8.1.1.5): an integer in both dialects.
    .addColumn('cseq', 'integer', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    // q (0–1, at most three decimals, RFC 3261 §20.10) in thousandths: an integer both dialects keep exactly.
    .addColumn('q_thousandths', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('sip_registrations_pkey', ['aor', 'contact'])
    .execute();
  await db.schema.createIndex('sip_registrations_expiry').on('sip_registrations').column('expires_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sip_registrations').ifExists().execute();
}
