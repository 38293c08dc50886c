import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { Store } from '../../src/store/store.js';

/** PostgreSQL used by the tests; the node-svc machines run one at this address. */
export const testPostgresUrl = process.env['SAUTIKIT_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

let postgresReachable: Promise<boolean> | undefined;

/**
 * Whether PostgreSQL answers. In CI it must: there an unreachable server is a
 * failure, not a skip. On a laptop without PostgreSQL the PostgreSQL half of
 * the store tests is skipped with a warning.
 */
export function postgresAvailable(): Promise<boolean> {
  postgresReachable ??= (async () => {
    const client = new pg.Client({ connectionString: testPostgresUrl, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.end();
      return true;
    } catch (error) {
      if (process.env['CI']) throw new Error(`PostgreSQL at ${testPostgresUrl} is required in CI: ${String(error)}`);
      console.warn(`PostgreSQL not reachable at ${testPostgresUrl}; its store tests are skipped`);
      return false;
    }
  })();
  return postgresReachable;
}

export type TestDialect = 'sqlite' | 'postgres';
export const testDialects: TestDialect[] = ['sqlite', 'postgres'];

/** A fresh, migrated store: a temporary SQLite file, or a schema of its own on PostgreSQL. */
export async function openTestStore(dialect: TestDialect): Promise<{ store: Store; cleanup: () => Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sautikit-test-'));
    const store = await Store.open({ url: path.join(dir, 'test.db') });
    return {
      store,
      cleanup: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const store = await Store.open({ url: testPostgresUrl, schema, poolSize: 4 });
  return {
    store,
    cleanup: async () => {
      await store.close();
      const client = new pg.Client({ connectionString: testPostgresUrl });
      await client.connect();
      await client.query(`drop schema if exists ${schema} cascade`);
      await client.end();
    },
  };
}

/** Skips the PostgreSQL half when no server answers outside CI. */
export async function dialectUsable(dialect: TestDialect): Promise<boolean> {
  return dialect === 'sqlite' ? true : postgresAvailable();
}
