import { TypedEmitter } from '../shared/typed-emitter.js';
import type { CallFailure, OutgoingCall, OutgoingCallEvents } from '../sip/ua/outgoing-call.js';

/** One INVITE of a failover sequence: the call to one trunk. */
export interface FailoverAttempt {
  /** Starts this attempt's INVITE. */
  start(): OutgoingCall;
  /** Time the carrier has to answer anything (100 Trying included) before the next attempt starts; none: wait. */
  answerTimeoutMs?: number;
  /** Names the attempt in logs (the trunk's name). */
  label: string;
}

/**
 * A failure the next trunk may do better with (SPEC §13): a server error
 * (5xx, 503 among them) or 408 — the carrier's trouble. Other 4xx (404,
 * 486…) and 6xx are the callee's answer and end the call.
 */
export function failsOver(failure: Pick<CallFailure, 'status' | 'cancelled'>): boolean {
  return !failure.cancelled && (failure.status === 408 || (failure.status >= 500 && failure.status < 600));
}

/**
 * An outbound INVITE tried on several trunks in turn, seen by the call leg
 * as one `OutgoingCall`: the next trunk is tried when the current one fails
 * with `failsOver`, or answers nothing at all within its answer timeout
 * (then its INVITE is cancelled: RFC 3261 §9.1 sends the CANCEL should a
 * provisional still come). Once a trunk rang (18x) the call stays there.
 *
 * ```
 *  attempt i ──5xx/408, or silent for answerTimeoutMs, before any 18x──► attempt i+1
 *      │ 18x: no more failover     │ 2xx: answered     │ other failure, or the last attempt: failed
 * ```
 */
export class FailoverInvite extends TypedEmitter<OutgoingCallEvents> {
  readonly #attempts: readonly FailoverAttempt[];
  #index = -1;
  #current: OutgoingCall | undefined;
  #timer: NodeJS.Timeout | undefined;
  #rang = false;
  #cancelled = false;
  #settled = false;

  /** `onFailover`: an attempt was given up and the next one starts (for the log). */
  constructor(attempts: readonly FailoverAttempt[], private readonly onFailover: (from: string, to: string, why: string) => void = () => undefined) {
    super();
    if (attempts.length === 0) throw new Error('FailoverInvite needs at least one attempt');
    this.#attempts = attempts;
  }

  /** Sends the first INVITE. */
  start(): this {
    this.#next();
    return this;
  }

  /** Cancels the attempt under way and starts no other. */
  cancel(reason?: string): void {
    if (this.#settled || this.#cancelled) return;
    this.#cancelled = true;
    clearTimeout(this.#timer);
    this.#current?.cancel(reason);
  }

  #next(): void {
    this.#index += 1;
    const attempt = this.#attempts[this.#index]!;
    let call: OutgoingCall;
    try {
      call = attempt.start();
    } catch (error) {
      // The user agent is closing.
      this.#settle({ status: 503, reason: error instanceof Error ? error.message : 'Service Unavailable', response: undefined, cancelled: false });
      return;
    }
    this.#current = call;
    const last = this.#index === this.#attempts.length - 1;
    if (!last && attempt.answerTimeoutMs !== undefined) {
      this.#timer = setTimeout(() => {
        // Not even 100 Trying: the carrier is not there. A call that got a provisional keeps its own timers.
        if (this.#current === call && call.state === 'calling') this.#failOver(call, `no answer within ${attempt.answerTimeoutMs} ms`);
      }, attempt.answerTimeoutMs);
      this.#timer.unref();
    }
    call.on('provisional', (p) => {
      if (this.#current !== call || this.#settled) return;
      if (p.status >= 180 && p.status < 190) {
        this.#rang = true;
        clearTimeout(this.#timer);
      }
      this.emit('provisional', p);
    });
    call.on('answered', (session) => {
      if (this.#current !== call || this.#settled) return;
      clearTimeout(this.#timer);
      this.#settled = true;
      this.emit('answered', session);
    });
    call.on('failed', (failure) => {
      if (this.#current !== call || this.#settled) return;
      clearTimeout(this.#timer);
      if (!last && !this.#rang && !this.#cancelled && failsOver(failure)) this.#failOver(call, `${failure.status} ${failure.reason}`);
      else this.#settle(failure);
    });
  }

  #failOver(from: OutgoingCall, why: string): void {
    from.cancel();
    this.onFailover(this.#attempts[this.#index]!.label, this.#attempts[this.#index + 1]!.label, why);
    this.#next();
  }

  #settle(failure: CallFailure): void {
    if (this.#settled) return;
    this.#settled = true;
    this.emit('failed', { ...failure, cancelled: failure.cancelled || this.#cancelled });
  }
}
