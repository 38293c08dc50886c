import type { Kysely } from 'kysely';

/**
 * Trunks as carriers sell them (SPEC §13): registration (`register`,
 * `auth_username`, `realm`, `register_expires`), several trunks per prefix
 * (`priority`) with failover (`answer_timeout`), OPTIONS health
 * (`options_ping`), and number presentation (`country_code`,
 * `number_format`, `tech_prefix`, `from_domain`, `send_pai`). Every column
 * has a default, so trunks made before keep working as they did: no
 * registration, priority 0, E.164 numbers, pings every 30 s.
 * Booleans are 0/1 integers, like everywhere in this store.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const columns: Array<[string, 'integer' | 'text', number | string | null]> = [
    ['register', 'integer', 0],
    ['auth_username', 'text', null],
    ['realm', 'text', null],
    ['register_expires', 'integer', 3600],
    ['priority', 'integer', 0],
    ['answer_timeout', 'integer', 5],
    ['options_ping', 'integer', 30],
    ['country_code', 'text', '254'],
    ['number_format', 'text', 'e164'],
    ['tech_prefix', 'text', null],
    ['from_domain', 'text', null],
    ['send_pai', 'integer', 0],
  ];
  // One statement per column: SQLite's ALTER TABLE adds one column at a time.
  for (const [name, type, value] of columns) {
    await db.schema.alterTable('trunks').addColumn(name, type, (c) => (value === null ? c : c.notNull().defaultTo(value))).execute();
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const name of ['register', 'auth_username', 'realm', 'register_expires', 'priority', 'answer_timeout', 'options_ping', 'country_code', 'number_format', 'tech_prefix', 'from_domain', 'send_pai']) {
    await db.schema.alterTable('trunks').dropColumn(name).execute();
  }
}
