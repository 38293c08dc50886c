import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { hostPart, trunkUri } from './trunk-uri.js';
import type { SipUserAgent } from '../sip/ua/sip-user-agent.js';
import { SipRequestError } from '../sip/ua/sip-session.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import type { Trunk } from '../store/repos/trunk-repo.js';

/** What `GET /v1/admin/trunks/{id}` shows of a trunk's registration (SPEC §13). */
export interface RegistrationView {
  status: 'registered' | 'failed' | 'registering' | 'disabled';
  /** When the registrar's binding runs out (ISO), while registered. */
  expires_at: string | null;
  /** Why the last attempt failed (`'403 Forbidden'`, `'408 Request Timeout'`), until one succeeds. */
  last_error: string | null;
}

export interface RegistrationTiming {
  /** First wait after a failed REGISTER; doubled after each further failure. Default 30 000 ms. */
  retryMinMs: number;
  /** Longest wait between failed attempts. Default 600 000 ms (10 minutes). */
  retryMaxMs: number;
}

export const defaultRegistrationTiming: RegistrationTiming = { retryMinMs: 30_000, retryMaxMs: 600_000 };

/** Refresh when this share of the granted lifetime has passed, well before the registrar drops the binding. */
const REFRESH_AT = 0.85;
/** How long an un-REGISTER (Expires: 0) may hold up a delete or a shutdown. */
const UNREGISTER_WAIT_MS = 2000;

/**
 * ```
 *            start()                2xx                     refresh timer
 *   idle ───────────► registering ───────► registered ───────────────► refreshing
 *                        │   ▲                 ▲                          │
 *          error, 4xx-6xx│   │back-off timer    └──────────2xx────────────┤
 *                        ▼   │                                            │
 *                       failed ◄─────────────── error, 4xx-6xx ───────────┘
 *   any ──stop()──► stopped (Expires: 0 first when a binding may be live)
 * ```
 */
type State = 'idle' | 'registering' | 'registered' | 'refreshing' | 'failed' | 'stopped';

const MOVES: Record<State, readonly State[]> = {
  idle: ['registering', 'stopped'],
  registering: ['registered', 'failed', 'stopped'],
  registered: ['refreshing', 'stopped'],
  refreshing: ['registered', 'failed', 'stopped'],
  failed: ['registering', 'stopped'],
  stopped: [],
};

/**
 * One trunk's registration at its carrier (RFC 3261 §10): REGISTER with
 * digest, refreshed at 85 % of the lifetime the registrar granted, retried
 * with exponential back-off (30 s doubling to 10 min) after a failure, and
 * removed with `Expires: 0` on stop.
 */
export class TrunkRegistration {
  #state: State = 'idle';
  #timer: NodeJS.Timeout | undefined;
  #failures = 0;
  #expiresAt: Date | null = null;
  #lastError: string | null = null;
  #requested: number;
  #inFlight: Promise<void> | undefined;
  /** The addresses the registrar's host name resolved to: INVITEs from them are this trunk's calls. */
  #addresses: readonly string[] = [];

  constructor(
    readonly trunk: Trunk,
    private readonly ua: SipUserAgent,
    private readonly timing: RegistrationTiming,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.#requested = trunk.registerExpires;
  }

  get view(): RegistrationView {
    const status = this.#state === 'registered' || this.#state === 'refreshing' ? 'registered' : this.#state === 'failed' ? 'failed' : 'registering';
    return { status, expires_at: status === 'registered' ? (this.#expiresAt?.toISOString() ?? null) : null, last_error: this.#lastError };
  }

  /** Whether the carrier may send us calls now: a binding of ours is live at the registrar. */
  get live(): boolean {
    return this.#expiresAt !== null && this.#expiresAt.getTime() > this.clock.now().getTime();
  }

  get addresses(): readonly string[] {
    return this.#addresses;
  }

  start(): void {
    this.#attempt();
  }

  /** Stops refreshing; removes the binding (Expires: 0) when one may be live. Waits 2 s at most. Idempotent. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#transition('stopped');
    clearTimeout(this.#timer);
    const unregister = (async () => {
      // A REGISTER still under way that succeeds un-registers by itself (see #register).
      await this.#inFlight;
      if (this.#expiresAt === null) return;
      this.#expiresAt = null;
      await this.#unregister();
    })();
    await Promise.race([unregister, new Promise((r) => setTimeout(r, UNREGISTER_WAIT_MS).unref())]);
  }

  async #unregister(): Promise<void> {
    try {
      await this.ua.register({ ...this.#request(), expires: 0 });
      this.log.info({ trunk: this.trunk.name }, 'trunk unregistered');
    } catch (error) {
      this.log.info({ trunk: this.trunk.name, err: error }, 'trunk un-REGISTER failed');
    }
  }

  #transition(to: State): void {
    if (!MOVES[this.#state].includes(to)) throw new Error(`trunk registration: illegal transition ${this.#state} -> ${to}`);
    this.#state = to;
  }

  #request(): Parameters<SipUserAgent['register']>[0] {
    const t = this.trunk;
    const user = t.username ?? '';
    return {
      registrar: trunkUri(t),
      aor: `sip:${user}@${hostPart(t.fromDomain ?? t.host)}`,
      contactUser: user,
      ...(t.password ? { auth: { username: t.authUsername ?? user, password: t.password, ...(t.realm ? { realm: t.realm } : {}) } } : {}),
    };
  }

  #attempt(): void {
    if (this.#state === 'stopped') return;
    this.#transition(this.#state === 'registered' ? 'refreshing' : 'registering');
    const attempt: Promise<void> = this.#register().finally(() => {
      // A 423 starts the next attempt from inside this one: that one is in flight now.
      if (this.#inFlight === attempt) this.#inFlight = undefined;
    });
    this.#inFlight = attempt;
  }

  async #register(): Promise<void> {
    const t = this.trunk;
    try {
      this.#addresses = await resolve(t.host);
      const { expires } = await this.ua.register({ ...this.#request(), expires: this.#requested });
      if (this.#state === 'stopped') {
        // Stopped while this REGISTER was under way: the binding it made goes at once.
        await this.#unregister();
        return;
      }
      // A registrar that names no lifetime keeps what we asked for (§10.2.4).
      const granted = expires > 0 ? expires : this.#requested;
      this.#expiresAt = new Date(this.clock.now().getTime() + granted * 1000);
      this.#lastError = null;
      this.#failures = 0;
      this.#transition('registered');
      this.log.info({ trunk: t.name, expires: granted }, 'trunk registered');
      this.#schedule(granted * 1000 * REFRESH_AT);
    } catch (error) {
      if (this.#state === 'stopped') return;
      const minExpires = error instanceof SipRequestError && error.status === 423 ? Number(error.response?.headers.get('Min-Expires')) : NaN;
      // §10.2.8: 423 Interval Too Brief names the shortest lifetime the registrar takes; ask again with it at once.
      if (Number.isInteger(minExpires) && minExpires > this.#requested) {
        this.#requested = minExpires;
        this.#transition('failed');
        this.#attempt();
        return;
      }
      this.#failures += 1;
      this.#lastError = error instanceof Error ? error.message : String(error);
      this.#expiresAt = this.#expiresAt && this.live ? this.#expiresAt : null;
      this.#transition('failed');
      const wait = Math.min(this.timing.retryMaxMs, this.timing.retryMinMs * 2 ** (this.#failures - 1));
      this.log.warn({ trunk: t.name, error: this.#lastError, retryInMs: wait }, 'trunk registration failed');
      this.#schedule(wait);
    }
  }

  #schedule(ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#attempt(), Math.max(1000, ms));
    this.#timer.unref();
  }
}

/** The addresses of a trunk's host (itself when it is one); none when it does not resolve. */
async function resolve(host: string): Promise<string[]> {
  if (isIP(host) !== 0) return [host];
  try {
    return (await lookup(host, { all: true })).map((a) => a.address);
  } catch {
    return [];
  }
}
