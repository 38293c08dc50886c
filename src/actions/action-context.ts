import type { Logger } from '../shared/log.js';
import type { CallMedia, Listenable } from '../media/call-media.js';
import type { KeyEvents } from '../media/dtmf/digits.js';
import type { CallErrorCode } from '../shared/call-codes.js';
import type { FetchPolicy } from '../shared/fetch-policy.js';
import type { TimelineType } from '../shared/timeline.js';
import type { RecordOptions } from '../media/endpoint.js';
import type { ConferenceAction, DialAction, StreamAction, VoiceAction } from './schema.js';

/** What an action leaves behind: go on with the list, replace its rest, or end the call. */
export type ActionOutcome = { next: 'continue' } | { next: 'replace'; actions: VoiceAction[] } | { next: 'end' };

export const continueWith: ActionOutcome = { next: 'continue' };

/** The result of a dial, as posted to its `action` URL. */
export interface DialResult {
  status: 'completed' | 'busy' | 'no-answer' | 'failed' | 'canceled';
  /** The winning leg, when one answered. */
  callId: string | undefined;
  durationSeconds: number;
  /** Why no leg could be placed at all (`destination_not_allowed`, `no_route`, …), when that was the failure. */
  cause?: string;
}

/**
 * The narrow view of a live call that actions get (DESIGN.md): its media and
 * keys, webhook fetches, error records and call control. Every verb ends early when `signal`
 * aborts (hang-up, barge-in, redirect, live API control).
 */
export interface ActionContext {
  readonly callId: string;
  readonly log: Logger;
  /** The call's media: what `say`, `play` and `record` (its beep) speak and play on. */
  readonly media: Pick<CallMedia, 'say' | 'playUrl' | 'playTone'>;
  /** The keys the caller presses (RFC 4733 events and in-band tones alike). */
  readonly keys: Listenable<KeyEvents>;
  /** Notes what happened on the call's timeline (SPEC §14); returns at once, never fails the action. */
  note(type: TimelineType, data: Record<string, unknown>): void;
  /** The workspace's fetch policy as its settings say now (SPEC §18), for `play` URLs. */
  fetchPolicy(): Promise<FetchPolicy>;
  /** Records an error on the call (`errors`, and a `call.error` event); the call goes on. */
  recordError(code: CallErrorCode, message: string, detail?: Record<string, unknown>): Promise<void>;
  /** Records a fetch the policy refused (`fetch_not_allowed`, `field` names what held the URL). */
  recordRefusedFetch(field: string, url: string, refusal: Error): Promise<void>;
  /**
   * POSTs the call's parameters plus `extra` to `url` and answers the actions
   * it returns; undefined when it failed (the error is recorded on the call).
   * With `signal`, a request not yet sent when it aborts (the caller hung up
   * meanwhile) is not sent at all, and answers undefined.
   */
  fetchActions(url: string, extra: Record<string, unknown>, method: 'POST' | 'GET', signal?: AbortSignal): Promise<VoiceAction[] | undefined>;
  hangup(): Promise<void>;
  reject(reason: 'busy' | 'rejected'): Promise<void>;
  dial(action: DialAction, signal: AbortSignal): Promise<DialResult>;
  /**
   * Records the caller into a recording of this call until `signal` aborts, the
   * maximum length or the silence timeout: filed, charged at the recording rate
   * and announced (`call.recording.ready`) like every recording. Undefined when
   * nothing could be recorded.
   */
  recordAudio(options: Pick<RecordOptions, 'maxDurationMs' | 'silenceTimeoutMs' | 'signal'>): Promise<{ url: string; durationSeconds: number } | undefined>;
  /**
   * Joins a room until the participant leaves it: `continue` when the room
   * ended under them or was full (the list goes on), `end` when the call is over.
   */
  conference(action: ConferenceAction, signal: AbortSignal): Promise<'continue' | 'end'>;
  /** Streams the call's audio to a WebSocket until the socket closes (SPEC §8). */
  stream(action: StreamAction, signal: AbortSignal): Promise<void>;
}
