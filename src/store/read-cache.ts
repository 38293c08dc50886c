import type { Db } from './db.js';

/** What a cache and its transactions' views share. */
interface CacheState {
  entries: Map<string, { value: unknown; at: number }>;
  /** Bumped by every drop. */
  generation: number;
}

/**
 * Rows that every call reads and almost nothing writes (rates, trunks,
 * webhook endpoints, workspace settings), kept in memory per Store. The call
 * path read them about a dozen times per call; they change only through
 * their repositories, which drop what they change.
 *
 * - With PostgreSQL, where another connection could store a key again
 *   while a transaction runs, reads inside a transaction always go to the
 *   database and never store what they read.
 * - With SQLite a transaction (`forTransaction`) may use what is cached:
 *   statements run one at a time on the one connection, and a key the
 *   transaction wrote was dropped, so it reads its own writes. It stores
 *   what it read only while nothing at all was dropped since it began: then
 *   neither it nor anyone else wrote a cached row meanwhile, so what it read
 *   is what is committed, and a roll-back cannot take it back. (Most of the
 *   call path reads inside transactions: without this, the webhook
 *   endpoints, read by every event published, were never cached.)
 * - A write drops its keys before and after it runs, each time bumping the
 *   generation; a read that began before a drop does not store what it read.
 * - SQLite has one process and one connection, so entries live until a
 *   write drops them. PostgreSQL may be shared by several nodes, whose
 *   writes this node does not see: there an entry lives `ttlMs` (1 s).
 */
export class ReadCache {
  readonly #state: CacheState;
  /** For a transaction's view: the generation when the transaction began. */
  readonly #since: number | undefined;

  /** `ttlMs`: how long an entry lives; infinite means one process, one connection (SQLite). */
  constructor(private readonly ttlMs: number, state?: CacheState, since?: number) {
    this.#state = state ?? { entries: new Map(), generation: 0 };
    this.#since = since;
  }

  /** The view a transaction beginning now reads through (same entries; stores only while nothing was dropped since now). */
  forTransaction(): ReadCache {
    return new ReadCache(this.ttlMs, this.#state, this.#state.generation);
  }

  /** The value under `key`, loaded through `load` (on `db`) when missing or stale. */
  async get<T>(db: Db, key: string, load: () => Promise<T>): Promise<T> {
    const single = this.ttlMs === Number.POSITIVE_INFINITY;
    if (db.isTransaction && !single) return load();
    const now = performance.now();
    const hit = this.#state.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value as T;
    const generation = this.#state.generation;
    if (db.isTransaction && generation !== this.#since) return load();
    const value = await load();
    if (generation === this.#state.generation) this.#state.entries.set(key, { value, at: now });
    return value;
  }

  /** Drops every key that starts with `prefix` (call it for each write). */
  drop(prefix: string): void {
    this.#state.generation++;
    for (const key of this.#state.entries.keys()) if (key.startsWith(prefix)) this.#state.entries.delete(key);
  }
}
