import { ActionValidationError } from '../actions/action-node.js';
import type { ActionContext, DialResult } from '../actions/action-context.js';
import { parseActionsReporting, type UnknownActionField } from '../actions/parse-actions.js';
import { executeAction } from '../actions/registry.js';
import type { ConferenceAction, DialAction, StreamAction, VoiceAction } from '../actions/schema.js';
import type { RecordOptions } from '../media/endpoint.js';
import type { CallLeg, LegEnd } from '../legs/call-leg.js';
import type { CallErrorCode, HangupCause } from '../shared/call-codes.js';
import { FETCH_NOT_ALLOWED, fetchPolicyOf, type FetchPolicy } from '../shared/fetch-policy.js';
import type { Logger } from '../shared/log.js';
import type { AnsweredBy } from '../shared/answered-by.js';
import { timelineBody, type TimelineType } from '../shared/timeline.js';
import type { CallRecord, CallStatus, CallUpdate } from '../store/repos/call-repo.js';
import type { Repos } from '../store/store.js';
import type { VoiceCallbackBody, WebhookExchangeObserver } from '../webhooks/voice-callback-fetcher.js';
import { CallState } from './call-state.js';
import type { HangupBy, LiveCall } from './live-call.js';

export type { HangupBy } from './live-call.js';
import type { EngineServices } from './engine-services.js';


/** The status a leg that ended unanswered takes, by the cause of its end. */
function unansweredStatus(cause: HangupCause): CallStatus {
  switch (cause) {
    case 'busy': return 'busy';
    case 'no_answer': return 'no-answer';
    case 'canceled': return 'canceled';
    default: return 'failed';
  }
}

/** Hang-up causes that mean something went wrong: the call's end is logged at warn. */
const failureCauses: ReadonlySet<HangupCause> = new Set<HangupCause>([
  'failed', 'no_ack', 'media_timeout', 'session_expired', 'media_failed', 'no_actions', 'no_routing_url', 'sdp_not_acceptable',
  'no_route', 'no_rate', 'insufficient_funds', 'destination_not_allowed',
]);

/**
 * The reason the running action's signal carries when the call moves on (a new queue, the hang-up).
 * `abort()` without a reason builds a DOMException, stack trace and all, each time: twice a call
 * at its hang-up, about 60 µs of a call's CPU here.
 */
const actionStopped = new DOMException('the call moved on', 'AbortError');

/**
 * One live call: its leg, its state machine, and the voice-action
 * interpreter. Actions run one at a time against the live audio; each gets an
 * AbortSignal that hang-up, redirect and live control abort. When the list
 * runs out the call is hung up. At the end the leg is billed once and every
 * resource released, whatever the path.
 */
export class CallSession implements ActionContext, LiveCall {
  readonly callId: string;
  readonly log: Logger;
  readonly leg: CallLeg;
  /** The caller ID the legs it dials present by default (a softphone's call, SPEC §13). */
  readonly callerId: string | undefined;
  #record: CallRecord;
  readonly #state: CallState;
  readonly #services: EngineServices;
  #queue: VoiceAction[] = [];
  /** The index in its list of the next action to run (the timeline's `index`). */
  #nextIndex = 0;
  #current: AbortController | undefined;
  readonly #ended: Promise<void>;
  #finishing = false;
  #hangupBy: HangupBy | undefined;
  #hangupCause: HangupCause | undefined;
  #resolveEnded!: () => void;
  readonly #cleanups: Array<() => void | Promise<void>> = [];

  /** `log`: the call's logger if the caller made one already (it carries the call id). */
  constructor(record: CallRecord, leg: CallLeg, services: EngineServices, options: { callerId?: string; log?: Logger } = {}) {
    this.callId = record.id;
    this.callerId = options.callerId;
    this.#record = record;
    this.leg = leg;
    this.#services = services;
    this.log = options.log ?? services.log.child({ callId: record.id });
    this.#state = new CallState(record.status, services.clock.now());
    this.#ended = new Promise((resolve) => {
      this.#resolveEnded = resolve;
    });
    leg.once('ended', (end) => void this.#onLegEnded(end));
  }

  /**
   * Answering machine detection's decision (SPEC §17): written on the record,
   * and sent as `AnsweredBy` in this call's voice callbacks from now on.
   */
  async setAnsweredBy(answeredBy: AnsweredBy): Promise<void> {
    await this.#services.records.update(this.callId, { answered_by: answeredBy });
    this.#record = { ...this.#record, answeredBy };
  }

  /** The call's record as last written. */
  get cdr(): CallRecord {
    return this.#record;
  }

  get status(): CallStatus {
    return this.#state.status;
  }

  whenEnded(): Promise<void> {
    return this.#ended;
  }

  /** Adds a clean-up run when the call ends (timers, child legs, bridges). */
  onEnd(cleanup: () => void | Promise<void>): void {
    this.#cleanups.push(cleanup);
  }

  async moveTo(status: 'initiated' | 'ringing'): Promise<void> {
    await this.moveThrough([status]);
  }

  /**
   * Several moves in a row (an inbound call: initiated, then ringing), each
   * recorded with its event as `moveTo` does, in one transaction; `first`
   * runs at its start (an inbound call's CDR is inserted there).
   */
  async moveThrough(statuses: readonly CallStatus[], detail: Record<string, unknown> = {}, first?: (repos: Repos) => Promise<void>): Promise<void> {
    const now = this.#services.clock.now();
    const moves: Array<{ status: CallStatus; update: CallUpdate }> = [];
    for (const status of statuses) {
      if (this.#state.status === status || !this.#state.canMove(status)) continue;
      this.#state.transition(status, now);
      moves.push({ status, update: status === 'ringing' ? { ringing_at: now.toISOString() } : status === 'in-progress' ? { answered_at: now.toISOString() } : {} });
    }
    const records = this.#services.records;
    if (moves.length === 0 && !first) return;
    this.#record = moves.length === 1 && !first
      ? await records.transition(this.callId, moves[0]!.status, moves[0]!.update, detail)
      : await records.inTransaction(async (repos) => {
        await first?.(repos);
        let record = this.#record;
        for (const move of moves) record = await records.transitionIn(repos, this.callId, move.status, move.update, detail);
        return record;
      });
  }

  /** Fetches the first actions (routing_url or action_url) and runs the call to its end. */
  async run(url: string, fallbackUrl: string | null): Promise<void> {
    try {
      const first = await this.#fetch(url, {}, 'POST', fallbackUrl);
      if (first) {
        this.#setQueue(first);
        await this.#interpret();
      }
    } catch (error) {
      this.log.error({ err: error }, 'call interpreter failed');
      await this.#services.records.error(this.callId, 'internal_error', 'the call could not continue because of an internal error');
    }
    await this.hangupFrom('system', this.leg.answered ? 'normal_clearing' : 'no_actions');
  }

  #setQueue(actions: VoiceAction[]): void {
    this.#queue = actions;
    this.#nextIndex = 0;
  }

  async #interpret(): Promise<void> {
    while (this.#queue.length > 0 && !this.#finishing) {
      const action = this.#queue.shift()!;
      const index = this.#nextIndex++;
      if (action.kind !== 'reject' && !this.leg.answered) await this.#answer();
      if (this.#finishing) return;
      const controller = new AbortController();
      this.#current = controller;
      this.log.debug({ action: action.kind }, 'action');
      this.note('action.start', { index, name: action.kind });
      const outcome = await executeAction(action, this, controller.signal, this.#queue.length);
      this.#current = undefined;
      // continue: the next action runs; replace: what it fetched replaces the list; end: the call ends; aborted: hang-up or live control stopped it.
      this.note('action.end', { index, name: action.kind, result: controller.signal.aborted ? 'aborted' : outcome.next });
      if (this.#replacement) {
        // Live control replaced the list while the action ran: that wins.
        this.#setQueue(this.#replacement);
        this.#replacement = undefined;
        continue;
      }
      if (outcome.next === 'end') return;
      if (outcome.next === 'replace') this.#setQueue(outcome.actions);
    }
  }

  #replacement: VoiceAction[] | undefined;

  /** Live control: replace what runs now and what follows (SPEC §4 PATCH actions). */
  replaceActions(actions: VoiceAction[]): void {
    this.#replacement = actions;
    this.#current?.abort(actionStopped);
  }

  /** Live control: fetch new actions from `url` and run them instead (SPEC §4 PATCH action_url). */
  async redirect(url: string): Promise<boolean> {
    const actions = await this.#fetch(url, {}, 'POST', null);
    if (!actions) return false;
    this.replaceActions(actions);
    return true;
  }

  async #answer(): Promise<void> {
    this.leg.answer();
    await this.answered();
  }

  async answered(): Promise<void> {
    if (this.#state.status === 'in-progress' || !this.#state.canMove('in-progress')) return;
    await this.moveThrough(['in-progress']);
    this.#services.spendGuard.watch(this);
  }

  /** Ends the call from our side (API, system, an action); the caller side is noticed through the leg. */
  async hangupFrom(by: HangupBy, cause: HangupCause): Promise<void> {
    if (!this.#hangupBy) {
      this.#hangupBy = by;
      this.#hangupCause = cause;
    }
    this.#finishing = true;
    this.#current?.abort(actionStopped);
    await this.leg.hangup(cause);
    await this.#ended;
  }

  async #onLegEnded(end: LegEnd): Promise<void> {
    this.#finishing = true;
    this.#current?.abort(actionStopped);
    const by: HangupBy = this.#hangupBy ?? (end.by === 'remote' ? (this.#record.direction === 'inbound' ? 'caller' : 'callee') : 'system');
    const cause = this.#hangupCause ?? end.cause;
    try {
      // Late offer whose ACK brought no usable answer: the error says why the call had no media.
      if (end.sdpProblem) await this.#services.records.error(this.callId, 'sdp_not_acceptable', end.sdpProblem);
      for (const cleanup of this.#cleanups.splice(0).reverse()) await cleanup();
      await this.#close(by, cause, end);
    } catch (error) {
      this.log.error({ err: error }, 'settling the call failed');
    } finally {
      this.#resolveEnded();
    }
  }

  /** The hang-up: the final state, then the charge and the final record (`CallBilling.close`), up to now. */
  async #close(by: HangupBy, cause: HangupCause, end: LegEnd): Promise<void> {
    const endedAt = this.#services.clock.now();
    const status = this.#state.status === 'in-progress' ? 'completed' : unansweredStatus(cause);
    const answeredAt = this.answeredAt ?? null;
    if (this.#state.canMove(status)) this.#state.transition(status, endedAt);
    // Every call-ending error is a warn line with the call id (SPEC §14).
    if (status === 'failed' || failureCauses.has(cause)) this.log.warn({ status, cause, by, ...(end.sipStatus ? { sipStatus: end.sipStatus } : {}) }, 'call ended by an error');
    const record = await this.#services.billing.close(this.#record, {
      status, by, cause, answeredAt, endedAt, detail: end.sipStatus ? { sip_status: end.sipStatus } : {},
    });
    if (record) this.#record = record;
  }

  get answeredAt(): Date | undefined {
    return this.#state.at('in-progress');
  }

  // ActionContext ------------------------------------------------------------

  get media(): ActionContext['media'] {
    return this.leg.media;
  }

  get keys(): ActionContext['keys'] {
    return this.leg;
  }

  /** Notes an entry on the call's timeline (SPEC §14); returns at once. */
  note(type: TimelineType, data: Record<string, unknown>): void {
    this.#services.records.note(this.callId, type, data);
  }

  async recordError(code: CallErrorCode, message: string, detail: Record<string, unknown> = {}): Promise<void> {
    await this.#services.records.error(this.callId, code, message, detail);
  }

  /** The workspace's fetch policy, read now: a change of settings applies to the next fetch (SPEC §18). */
  async fetchPolicy(): Promise<FetchPolicy> {
    return fetchPolicyOf(await this.#services.workspacePolicy(this.#record.workspaceId));
  }

  /**
   * Records a fetch the policy refused on the call (`errors`, code
   * `fetch_not_allowed`) and sends `call.error`. `field` names what held
   * the URL (`play.url`, `conference.waitUrl`, `stream.url`).
   */
  async recordRefusedFetch(field: string, url: string, refusal: Error): Promise<void> {
    const hop = (refusal as { url?: unknown }).url;
    this.log.info({ field, url, reason: refusal.message }, 'fetch refused by the workspace policy');
    await this.#services.records.error(this.callId, FETCH_NOT_ALLOWED, refusal.message, {
      field, url, ...(typeof hop === 'string' && hop !== url ? { refused_url: hop } : {}),
    });
  }

  async fetchActions(url: string, extra: Record<string, unknown>, method: 'POST' | 'GET', signal?: AbortSignal): Promise<VoiceAction[] | undefined> {
    return this.#fetch(url, extra, method, null, signal);
  }

  async #fetch(url: string, extra: Record<string, unknown>, method: 'POST' | 'GET', fallbackUrl: string | null, signal?: AbortSignal): Promise<VoiceAction[] | undefined> {
    for (const target of [url, fallbackUrl].filter((u): u is string => !!u)) {
      const actions = await this.#fetchOne(target, extra, method, signal);
      if (actions) return actions;
      if (this.#finishing) return undefined;
    }
    return undefined;
  }

  async #fetchOne(url: string, extra: Record<string, unknown>, method: 'POST' | 'GET', signal?: AbortSignal): Promise<VoiceAction[] | undefined> {
    const { secrets, policy } = await this.#services.workspaceCredentials(this.#record.workspaceId);
    // The caller may hang up while the credentials are read: a request that asked for it is then not sent.
    if (signal?.aborted) return undefined;
    const call = this.#record;
    const body: VoiceCallbackBody = {
      ...call.metadata,
      CallId: call.id, From: call.from, To: call.to, Direction: call.direction, CallStatus: this.#state.status, AccountId: call.workspaceId,
      ...(call.parentCallId ? { ParentCallId: call.parentCallId } : {}),
      ...(call.answeredBy ? { AnsweredBy: call.answeredBy } : {}),
      ...extra,
    };
    const result = await this.#services.fetcher.fetchActions({ url, body, method, secrets, policy, observer: this.#webhookObserver });
    for (const e of result.errors) await this.#services.records.error(this.callId, e.code, e.message, { url: e.url });
    if (!result.ok) return undefined;
    try {
      const parsed = parseActionsReporting(result.answer.format === 'json' ? { format: 'json', value: result.answer.value } : { format: 'xml', text: result.answer.text });
      for (const unknown of parsed.unknownFields) await this.#warnUnknownField(url, unknown);
      return parsed.actions;
    } catch (error) {
      if (!(error instanceof ActionValidationError)) throw error;
      await this.#services.records.error(this.callId, 'invalid_actions', error.message, {
        url, ...(error.index >= 0 ? { action_index: error.index } : {}), ...(error.field ? { field: error.field } : {}),
      });
      return undefined;
    }
  }

  /** Each voice callback request and answer on the timeline: what was sent, and what came back (its first 64 KiB). */
  readonly #webhookObserver: WebhookExchangeObserver = {
    request: ({ url, method, body, attempt }) => this.note('webhook.request', { url, method, body, ...(attempt > 1 ? { attempt } : {}) }),
    response: ({ url, durationMs, answer, error }) => this.note('webhook.response', {
      url, duration_ms: Math.round(durationMs),
      ...(answer ? { status: answer.status, content_type: answer.contentType, ...timelineBody(answer.body) } : {}),
      ...(error ? { error: error.message, code: error.code } : {}),
    }),
  };

  /** An unknown field is ignored, the action runs, and it is reported: a timeline warning and an `errors` entry (SPEC §14). */
  async #warnUnknownField(url: string, unknown: UnknownActionField): Promise<void> {
    const hint = unknown.suggestion ? ` (did you mean '${unknown.suggestion}'?)` : '';
    await this.#services.records.warning(this.callId, 'unknown_action_field',
      `${unknown.path}.${unknown.action} has an unknown field '${unknown.field}'${hint}; it was ignored`, {
        url, action_index: unknown.index, action: unknown.action, field: unknown.field, path: unknown.path,
        ...(unknown.suggestion ? { suggestion: unknown.suggestion } : {}),
      });
  }

  async hangup(): Promise<void> {
    await this.hangupFrom('system', 'normal_clearing');
  }

  async reject(reason: 'busy' | 'rejected'): Promise<void> {
    if (this.leg.answered) {
      await this.#services.records.error(this.callId, 'invalid_actions', 'reject only refuses unanswered inbound calls; the call was hung up instead');
      await this.hangupFrom('system', 'normal_clearing');
      return;
    }
    this.#hangupBy = 'system';
    this.#hangupCause = reason === 'busy' ? 'busy' : 'rejected';
    this.#finishing = true;
    this.leg.reject(reason);
    await this.#ended;
  }

  dial(action: DialAction, signal: AbortSignal): Promise<DialResult> {
    return this.#services.dialer.dial(this, action, signal);
  }

  recordAudio(options: Pick<RecordOptions, 'maxDurationMs' | 'silenceTimeoutMs' | 'signal'>): Promise<{ url: string; durationSeconds: number } | undefined> {
    return this.#services.recorder.recordCaller(this, options);
  }

  async conference(action: ConferenceAction, signal: AbortSignal): Promise<'continue' | 'end'> {
    this.note('conference', { event: 'join', room: action.name, start_on_enter: action.startOnEnter, end_on_exit: action.endOnExit, muted: action.muted });
    const reason = await this.#services.conferences.join(this, action, signal);
    this.note('conference', { event: 'leave', room: action.name, reason });
    if (reason === 'kicked') {
      await this.hangupFrom('api', 'kicked');
      return 'end';
    }
    return reason === 'hangup' ? 'end' : 'continue';
  }

  stream(action: StreamAction, signal: AbortSignal): Promise<void> {
    return this.#services.streams.run(this, action, signal);
  }
}
