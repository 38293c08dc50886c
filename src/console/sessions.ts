import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Who a console session acts as: the API key it was opened with and what kind of key it is. */
export interface ConsoleSession {
  id: string;
  /** The key itself, kept in this process only (never in the cookie): the console calls the API with it. */
  key: string;
  kind: 'workspace' | 'admin';
  /** A short fingerprint of the key to show ("signed in as key …a1b2c3"). */
  keyHint: string;
  /** Sent in every form and htmx request, checked on every change (CSRF). */
  csrf: string;
  expiresAt: number;
  /** A message to show once on the next page (the outcome of the last action). */
  flash?: { kind: 'ok' | 'error'; text: string };
}

export interface ConsoleSessionOptions {
  /** How long a session lasts without use, in ms. Default 12 hours. */
  idleMs?: number;
  now?: () => number;
}

/**
 * Console sessions in memory: a random 256-bit id (the cookie) maps to the
 * key it was opened with. A restart signs everyone out, which is the safe
 * direction; a revoked key fails at its next API call anyway.
 */
export class ConsoleSessions {
  readonly #sessions = new Map<string, ConsoleSession>();
  readonly #idleMs: number;
  readonly #now: () => number;

  constructor(options: ConsoleSessionOptions = {}) {
    this.#idleMs = options.idleMs ?? 12 * 3600_000;
    this.#now = options.now ?? Date.now;
  }

  open(key: string, kind: ConsoleSession['kind']): ConsoleSession {
    this.#sweep();
    const session: ConsoleSession = {
      id: randomBytes(32).toString('base64url'), key, kind,
      keyHint: createHash('sha256').update(key).digest('hex').slice(0, 8),
      csrf: randomBytes(24).toString('base64url'), expiresAt: this.#now() + this.#idleMs,
    };
    this.#sessions.set(session.id, session);
    return session;
  }

  /** The live session with that id (its expiry slides forward), or undefined. */
  find(id: string | undefined): ConsoleSession | undefined {
    if (!id) return undefined;
    const session = this.#sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAt <= this.#now()) {
      this.#sessions.delete(id);
      return undefined;
    }
    session.expiresAt = this.#now() + this.#idleMs;
    return session;
  }

  /** Whether the session is still open, without counting this as use (a live view's stream polling does not keep a session alive). */
  isOpen(id: string): boolean {
    const session = this.#sessions.get(id);
    return session !== undefined && session.expiresAt > this.#now();
  }

  close(id: string): void {
    this.#sessions.delete(id);
  }

  /** Compares in constant time. */
  static csrfMatches(session: ConsoleSession, token: unknown): boolean {
    if (typeof token !== 'string') return false;
    const a = Buffer.from(session.csrf);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  #sweep(): void {
    const now = this.#now();
    for (const [id, s] of this.#sessions) if (s.expiresAt <= now) this.#sessions.delete(id);
  }
}
