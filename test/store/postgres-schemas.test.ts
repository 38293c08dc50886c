import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';
import { postgresAvailable, testPostgresUrl } from '../helpers/dialects.js';

const reachable = await postgresAvailable();
const suffix = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const other = `t_other_${suffix}`;
const mine = `t_mine_${suffix}`;

async function sql(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: testPostgresUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** Platforms (or test runs) in schemas of their own on one PostgreSQL server migrate independently. */
describe.skipIf(!reachable)('PostgreSQL schemas side by side', () => {
  afterAll(async () => {
    await sql(`drop schema if exists ${other} cascade; drop schema if exists ${mine} cascade`);
  });

  it('a fresh schema migrates while another schema already holds a migration lock table', async () => {
    // Another platform's migrations ran in its schema; a new schema must not take that lock table for its own.
    await sql(`create schema ${other}; create table ${other}.kysely_migration_lock (id varchar(255) primary key, is_locked integer not null default 0)`);
    const store = await Store.open({ url: testPostgresUrl, schema: mine, poolSize: 2 });
    try {
      expect(await store.outbox.due(new Date(), 1)).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
