import type { Db } from './db.js';

/**
 * Rows that every call reads and almost nothing writes (rates, trunks,
 * webhook endpoints, workspace settings), kept in memory per Store. The call
 * path read them about a dozen times per call; they change only through
 * their repositories, which drop what they change.
 *
 * - A read inside a transaction never stores what it read, so a
 *   rolled-back write never reaches the cache. With SQLite it may use what
 *   is cached: statements run one at a time on the one connection, and a
 *   key the transaction wrote was dropped, so it reads its own writes. With
 *   PostgreSQL, where another connection could store a key again while the
 *   transaction runs, reads inside a transaction always go to the database.
 * - A write drops its keys before and after it runs, each time bumping the
 *   generation; a read that began before a drop does not store what it read.
 * - SQLite has one process and one connection, so entries live until a
 *   write drops them. PostgreSQL may be shared by several nodes, whose
 *   writes this node does not see: there an entry lives `ttlMs` (1 s).
 */
export class ReadCache {
  readonly #entries = new Map<string, { value: unknown; at: number }>();
  #generation = 0;

  /** `ttlMs`: how long an entry lives; infinite means one process, one connection (SQLite). */
  constructor(private readonly ttlMs: number) {}

  /** The value under `key`, loaded through `load` (on `db`) when missing or stale. */
  async get<T>(db: Db, key: string, load: () => Promise<T>): Promise<T> {
    const single = this.ttlMs === Number.POSITIVE_INFINITY;
    if (db.isTransaction && !single) return load();
    const now = performance.now();
    const hit = this.#entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value as T;
    if (db.isTransaction) return load();
    const generation = this.#generation;
    const value = await load();
    if (generation === this.#generation) this.#entries.set(key, { value, at: now });
    return value;
  }

  /** Drops every key that starts with `prefix` (call it for each write). */
  drop(prefix: string): void {
    this.#generation++;
    for (const key of this.#entries.keys()) if (key.startsWith(prefix)) this.#entries.delete(key);
  }
}
