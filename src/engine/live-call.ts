import type { VoiceAction } from '../actions/schema.js';
import type { CallLeg } from '../legs/call-leg.js';
import type { CallErrorCode, HangupCause } from '../shared/call-codes.js';
import type { FetchPolicy } from '../shared/fetch-policy.js';
import type { Logger } from '../shared/log.js';
import type { TimelineType } from '../shared/timeline.js';
import type { CallRecord, CallStatus } from '../store/repos/call-repo.js';

export type HangupBy = 'caller' | 'callee' | 'api' | 'system';

/**
 * What the services around a call (dialer, spend guard, conferences,
 * streams, recordings) see of it. `CallSession` is the one implementation and
 * the only owner of the call's state: these services ask it to move on
 * (`moveTo`, `answered`, `hangupFrom`) and read its record, never write it.
 */
export interface LiveCall {
  readonly callId: string;
  /** Logs with the call id on every line. */
  readonly log: Logger;
  readonly leg: CallLeg;
  /** The call's record as last written. */
  readonly cdr: CallRecord;
  readonly status: CallStatus;
  readonly answeredAt: Date | undefined;
  /** The caller ID legs this call dials present by default (a softphone's `caller_id`, SPEC §13); else the number of the call. */
  readonly callerId?: string;
  /** Notes an entry on the call's timeline (SPEC §14); returns at once. */
  note(type: TimelineType, data: Record<string, unknown>): void;
  /** Records the progress of a leg before its answer. */
  moveTo(status: 'initiated' | 'ringing'): Promise<void>;
  /** The answer: `in-progress` recorded and the wallet watched (SPEC §10), once however often it is called. */
  answered(): Promise<void>;
  /** Ends the call from the platform's side; resolves once it is billed and recorded. */
  hangupFrom(by: HangupBy, cause: HangupCause): Promise<void>;
  /** Adds a clean-up run when the call ends (timers, child legs, bridges). */
  onEnd(cleanup: () => void | Promise<void>): void;
  whenEnded(): Promise<void>;
  /** POSTs (or GETs) the call's fields plus `extra` to `url`; the actions it answers, or undefined (the error is recorded). */
  fetchActions(url: string, extra: Record<string, unknown>, method: 'POST' | 'GET', signal?: AbortSignal): Promise<VoiceAction[] | undefined>;
  /** The workspace's fetch policy as its settings say now. */
  fetchPolicy(): Promise<FetchPolicy>;
  /** Records an error on the call (its `errors`, and the `call.error` event). */
  recordError(code: CallErrorCode, message: string, detail?: Record<string, unknown>): Promise<void>;
  /** Records a fetch the policy refused on the call (`fetch_not_allowed`). */
  recordRefusedFetch(field: string, url: string, refusal: Error): Promise<void>;
}
