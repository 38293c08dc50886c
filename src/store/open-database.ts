import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type SqliteDatabase as KyselySqliteDatabase, type SqliteStatement } from 'kysely';
import pg from 'pg';
import type { DatabaseSchema, DialectName } from './db.js';
import { migrationProvider } from './migrations/index.js';

export interface OpenDatabaseOptions {
  /** `postgres://…` or a SQLite file path (`sqlite://path` and `:memory:` also work). */
  url: string;
  /** PostgreSQL only: the schema to use (created if missing); tests use one schema each. */
  schema?: string;
  /** PostgreSQL pool size. Default 10. */
  poolSize?: number;
}

export interface OpenedDatabase {
  db: Kysely<DatabaseSchema>;
  dialect: DialectName;
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** Opens the database named by the URL and runs every pending migration. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<OpenedDatabase> {
  const opened = isPostgresUrl(options.url) ? await openPostgres(options) : openSqlite(options.url);
  try {
    await migrate(opened.db, isPostgresUrl(options.url) ? options.schema : undefined);
  } catch (error) {
    await opened.db.destroy();
    throw error;
  }
  return opened;
}

function openSqlite(url: string): OpenedDatabase {
  const file = url.replace(/^sqlite:\/\//i, '');
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const database = new SqliteDatabase(file);
  // WAL lets readers run beside the writer; NORMAL sync is durable across
  // process crashes (the WAL is fsynced at checkpoints) and much faster.
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  // A checkpoint copies the WAL's pages into the database file and fsyncs it, on this thread,
  // inside whichever commit crosses the threshold. At SQLite's default of 1000 pages (4 MB) a
  // busy platform (about 7 commits per call) checkpointed several times a second and a commit
  // averaged 95 µs at 200 calls/s; at 10000 pages (a WAL of up to 40 MB) it averaged 48 µs, and
  // a page written by many commits is copied once per checkpoint instead of once per 1000 pages.
  database.pragma('wal_autocheckpoint = 10000');
  return { db: new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) }), dialect: 'sqlite' };
}

/** Distinct SQL texts kept compiled; the platform's queries number a few hundred at most. */
const statementCacheSize = 1000;

/**
 * Kysely prepares every query it runs, and better-sqlite3 compiles the SQL
 * each time: on the call path that was the largest single cost of the store.
 * Queries use `?` placeholders, so one SQL text is one statement whatever the
 * values: keep the compiled statements by text (least recently used out).
 * Sharing a statement is safe because better-sqlite3 runs it to completion
 * synchronously; only `iterate` (Kysely's `.stream()`, unused here) holds it.
 */
function withStatementCache(database: SqliteDatabase.Database): KyselySqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => database.close(),
    prepare(sql: string): SqliteStatement {
      let statement = statements.get(sql);
      if (statement) {
        statements.delete(sql);
      } else {
        statement = database.prepare(sql) as unknown as SqliteStatement;
        if (statements.size >= statementCacheSize) statements.delete(statements.keys().next().value!);
      }
      statements.set(sql, statement);
      return statement;
    },
  };
}

/** int8 and numeric (what SUM of bigint gives) as JS numbers: cents stay far below 2^53. */
const pgTypes = {
  getTypeParser(oid: number, format?: string): (value: string) => unknown {
    if (oid === 20 || oid === 1700) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

async function openPostgres(options: OpenDatabaseOptions): Promise<OpenedDatabase> {
  const schema = options.schema;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name '${schema}'`);
  if (schema) {
    const client = new pg.Client({ connectionString: options.url });
    await client.connect();
    try {
      await client.query(`create schema if not exists ${schema}`);
    } finally {
      await client.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    types: pgTypes as never,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client's network error must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  return { db: new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) }), dialect: 'postgres' };
}

async function migrate(db: Kysely<DatabaseSchema>, schema: string | undefined): Promise<void> {
  // Migrations are numbered by the work that adds them and may land out of order (011 before 008):
  // each still runs once, whatever ran before it.
  // With a schema, the migrator is told it: it looks for its lock table among every schema's tables, and without
  // the name would take another schema's (another platform on the same server) for its own, then fail to lock.
  const migrator = new Migrator({ db, provider: migrationProvider, allowUnorderedMigrations: true, ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
