/**
 * Bans of source addresses that guess passwords (SPEC §13, "Abuse"): a
 * source with `threshold` failed digest attempts within `windowMs` gets 403
 * on every request for `banMs`. Whoever verifies a digest answer reports a
 * wrong one with `failed(address)` (the registrar; the INVITE challenge);
 * the user agent asks `isBanned(address)` before it looks at a request.
 *
 * Per node and in memory: a restart forgets them. Memory is bounded: at
 * most `maxSources` addresses with recent failures and as many bans are
 * kept, the least recently touched dropped first, so a spray of addresses
 * cannot grow it without end.
 */
import { silentLogger, type Logger } from '../../shared/log.js';

export interface SourceBansOptions {
  /** Failed attempts that earn a ban. Default 10. */
  threshold?: number;
  /** Window the failures are counted in. Default 60 000 ms. */
  windowMs?: number;
  /** How long a ban lasts. Default 600 000 ms (10 minutes). */
  banMs?: number;
  /** Most sources tracked (failures, and bans, each). Default 100 000. */
  maxSources?: number;
  /** Time source. Default `Date.now`. */
  now?: () => number;
  logger?: Logger;
}

export interface SourceBan {
  address: string;
  /** ms since epoch. */
  bannedAt: number;
  expiresAt: number;
  /** Failed attempts counted when the ban began. */
  failures: number;
}

export class SourceBans {
  readonly #threshold: number;
  readonly #windowMs: number;
  readonly #banMs: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #log: Logger;
  /** Times of recent failures per address, oldest first; Map order is least recently touched first. */
  readonly #failures = new Map<string, number[]>();
  readonly #bans = new Map<string, SourceBan>();

  constructor(options: SourceBansOptions = {}) {
    this.#threshold = options.threshold ?? 10;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#banMs = options.banMs ?? 600_000;
    this.#max = options.maxSources ?? 100_000;
    this.#now = options.now ?? Date.now;
    this.#log = options.logger ?? silentLogger;
  }

  /** One failed digest attempt from `address` (a wrong password, an unknown user); not a first request that is merely challenged. */
  failed(address: string): void {
    const source = bare(address);
    const now = this.#now();
    if (this.#activeBan(source, now)) return;
    const times = (this.#failures.get(source) ?? []).filter((t) => now - t < this.#windowMs);
    times.push(now);
    this.#failures.delete(source);
    if (times.length < this.#threshold) {
      this.#failures.set(source, times);
      evictOldest(this.#failures, this.#max);
      return;
    }
    const ban: SourceBan = { address: source, bannedAt: now, expiresAt: now + this.#banMs, failures: times.length };
    this.#bans.delete(source);
    this.#bans.set(source, ban);
    evictOldest(this.#bans, this.#max);
    this.#log.warn({ source, failures: times.length, windowMs: this.#windowMs, until: new Date(ban.expiresAt).toISOString() }, 'SIP source banned after failed authentication');
  }

  isBanned(address: string): boolean {
    return this.#activeBan(bare(address), this.#now()) !== undefined;
  }

  /** Bans in force, oldest first. */
  list(): SourceBan[] {
    const now = this.#now();
    return [...this.#bans.values()].filter((ban) => this.#activeBan(ban.address, now)).map((ban) => ({ ...ban }));
  }

  /** Lifts the ban of `address` and forgets its failures; false when it was not banned. */
  lift(address: string): boolean {
    const source = bare(address);
    const banned = this.#activeBan(source, this.#now()) !== undefined;
    this.#bans.delete(source);
    this.#failures.delete(source);
    if (banned) this.#log.info({ source }, 'SIP source ban lifted');
    return banned;
  }

  #activeBan(source: string, now: number): SourceBan | undefined {
    const ban = this.#bans.get(source);
    if (ban && ban.expiresAt <= now) {
      this.#bans.delete(source);
      return undefined;
    }
    return ban;
  }
}

/** One key per host however a socket spelled it (`::ffff:1.2.3.4` → `1.2.3.4`). */
function bare(address: string): string {
  const host = address.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return host.startsWith('::ffff:') && host.includes('.') ? host.slice(7) : host;
}

function evictOldest<V>(map: Map<string, V>, max: number): void {
  while (map.size > max) {
    const oldest = map.keys().next();
    if (oldest.done) return;
    map.delete(oldest.value);
  }
}
