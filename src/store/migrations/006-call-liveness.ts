import { sql, type Kysely } from 'kysely';

/**
 * `calls.alive_at`: the last time the process running a call saw it alive,
 * written for all its live calls at once every few seconds (`CallLiveness`).
 * A run that dies without hanging up (SIGKILL, power loss) leaves its calls
 * live in the store; the next start ends them and bills each up to this time
 * (`recoverCalls`, SPEC §18). The partial index holds only live calls, so
 * finding them at start does not read every call ever made.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('calls').addColumn('alive_at', 'text').execute();
  await db.schema.createIndex('calls_live').on('calls').column('id')
    .where(sql.ref('status'), 'in', ['queued', 'initiated', 'ringing', 'in-progress'].map((s) => sql.lit(s))).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('calls_live').ifExists().execute();
  await db.schema.alterTable('calls').dropColumn('alive_at').execute();
}
