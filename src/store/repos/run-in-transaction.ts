import type { Db } from '../db.js';

/** Runs `fn` in a transaction, or in the caller's transaction when `db` already is one. */
export async function runInTransaction<T>(db: Db, fn: (tx: Db) => Promise<T>): Promise<T> {
  if (db.isTransaction) return fn(db);
  return db.transaction().execute(fn);
}
