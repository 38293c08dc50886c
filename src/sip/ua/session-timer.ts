/**
 * RFC 4028 session timers: what the Session-Expires / Min-SE headers of an
 * INVITE (or a refresh) ask for, what we answer, and the one timer a session
 * runs — either "refresh at half the interval" (we are the refresher) or
 * "give up shortly before expiry" (the peer is).
 *
 * ```
 *  armed(local) --interval/2--> onRefresh() --refresh 2xx--> armed(local|remote)
 *  armed(remote) --interval - min(32, interval/3)--> onExpire()
 *  any --close()--> closed
 * ```
 */
import type { SipMessage, SipRequest } from '../message/message.js';
import { parseOptionTags } from '../message/header-values.js';

/** RFC 4028 §4: the Min-SE floor no element may go below. */
export const RFC_MIN_SE = 90;

/** What we ask for when we refresh and nothing else was agreed (seconds). */
export const DEFAULT_SESSION_EXPIRES = 1800;

export type Refresher = 'uac' | 'uas';

export interface SessionExpires {
  /** Seconds. */
  interval: number;
  refresher: Refresher | undefined;
}

/** The agreement of one session: the interval and who refreshes, seen from our side. */
export interface SessionTimerAgreement {
  interval: number;
  refresher: Refresher;
  /** Whether we are the refresher (`refresher` is our role in the dialog). */
  local: boolean;
  /** Whether the peer understands `timer` (then our 2xx carries `Require: timer`, RFC 4028 §9). */
  peerSupports: boolean;
}

/** `Session-Expires: 1800;refresher=uac` (RFC 4028 §4); undefined when absent or malformed. */
export function parseSessionExpires(message: SipMessage): SessionExpires | undefined {
  const value = message.headers.get('Session-Expires');
  const match = value === undefined ? null : /^\s*(\d{1,10})\s*((?:;[^;]*)*)$/.exec(value);
  if (!match) return undefined;
  const refresher = /;\s*refresher\s*=\s*(uac|uas)\b/i.exec(match[2] ?? '')?.[1]?.toLowerCase() as Refresher | undefined;
  return { interval: Number(match[1]), refresher };
}

/** `Min-SE: 90` (RFC 4028 §5); undefined when absent or malformed. */
export function parseMinSE(message: SipMessage): number | undefined {
  const match = /^\s*(\d{1,10})\s*(;.*)?$/.exec(message.headers.get('Min-SE') ?? '');
  return match ? Number(match[1]) : undefined;
}

export function supportsOption(message: SipMessage, tag: string): boolean {
  try {
    return [...parseOptionTags('Supported', message.headers.getAll('Supported')), ...parseOptionTags('Require', message.headers.getAll('Require'))]
      .some((t) => t.toLowerCase() === tag);
  } catch {
    return false;
  }
}

/**
 * The UAS side of an INVITE (initial or refresh), RFC 4028 §8.1 and §9:
 * `{ tooSmall }` when its Session-Expires is under our Min-SE (answer 422
 * with `Min-SE`), the agreement when it asks for a timer, undefined when it
 * does not.
 */
export function negotiateAsUas(request: SipRequest, minSE: number): { tooSmall: number } | SessionTimerAgreement | undefined {
  const asked = parseSessionExpires(request);
  if (!asked) return undefined;
  // §8.1: a Session-Expires below what we accept is refused with 422 and our Min-SE.
  if (asked.interval < minSE) return { tooSmall: minSE };
  const peerSupports = supportsOption(request, 'timer');
  // §9: a UAC without timer support cannot refresh: we must. Otherwise its choice holds; if it made none, it refreshes.
  const refresher: Refresher = !peerSupports ? 'uas' : (asked.refresher ?? 'uac');
  return { interval: asked.interval, refresher, local: refresher === 'uas', peerSupports };
}

/** RFC 4028 §7.2: what a UAC learns from the 2xx to its INVITE (or refresh); undefined when the UAS runs no timer. */
export function negotiateAsUac(response: SipMessage): SessionTimerAgreement | undefined {
  const given = parseSessionExpires(response);
  if (!given) return undefined;
  const refresher = given.refresher ?? 'uac';
  return { interval: given.interval, refresher, local: refresher === 'uac', peerSupports: true };
}

/** The headers of our 2xx to an INVITE/UPDATE that agreed on a timer (RFC 4028 §9). */
export function agreementHeaders(agreement: SessionTimerAgreement): Array<[string, string]> {
  const headers: Array<[string, string]> = [['Session-Expires', `${agreement.interval};refresher=${agreement.refresher}`]];
  if (agreement.peerSupports) headers.push(['Require', 'timer']);
  return headers;
}

/**
 * The headers of a refresh we send (RFC 4028 §7.4). `refresher` names a role in the
 * refresh's own transaction: we send it and stay the refresher, so `uac`.
 */
export function refreshHeaders(agreement: SessionTimerAgreement, minSE: number): Array<[string, string]> {
  return [['Session-Expires', `${agreement.interval};refresher=uac`], ['Min-SE', String(minSE)], ['Supported', 'timer']];
}

/** Seconds before expiry at which the non-refresher gives up (RFC 4028 §10): min(32, interval/3). */
export function expiryMargin(interval: number): number {
  return Math.min(32, interval / 3);
}

/** The one timer of a session. `arm()` replaces whatever was armed; `close()` is idempotent. */
export class SessionTimer {
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #onRefresh: () => void;
  readonly #onExpire: () => void;
  agreement: SessionTimerAgreement | undefined;

  constructor(handlers: { onRefresh: () => void; onExpire: () => void }) {
    this.#onRefresh = handlers.onRefresh;
    this.#onExpire = handlers.onExpire;
  }

  /** (Re)starts the timer after the agreement is made or a refresh succeeded (RFC 4028 §10). */
  arm(agreement: SessionTimerAgreement): void {
    if (this.#closed) return;
    this.agreement = agreement;
    clearTimeout(this.#timer);
    this.#timer = agreement.local
      ? setTimeout(this.#onRefresh, (agreement.interval / 2) * 1000)
      : setTimeout(this.#onExpire, (agreement.interval - expiryMargin(agreement.interval)) * 1000);
    this.#timer.unref();
  }

  /** A refresh we sent failed: no new one is tried; the session ends near the old expiry unless the peer refreshes. */
  armExpiry(remainingSeconds: number): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(this.#onExpire, Math.max(0, remainingSeconds - (this.agreement ? expiryMargin(this.agreement.interval) : 0)) * 1000);
    this.#timer.unref();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
