import { formatCents } from '../billing/rating.js';
import type { CallErrorCode } from '../shared/call-codes.js';
import type { Clock } from '../shared/clock.js';
import { silentLogger, type Logger } from '../shared/log.js';
import { discardTimeline, type TimelineSink, type TimelineType } from '../shared/timeline.js';
import { draftCall, type CallDraft, type CallRecord, type CallStatus, type CallUpdate, type NewCall } from '../store/repos/call-repo.js';
import type { Repos, Store } from '../store/store.js';
import type { EventPublisher } from '../webhooks/event-publisher.js';
import type { EventType } from '../webhooks/event-types.js';

/** The event each lifecycle state sends (SPEC §9); terminal states all send call.hangup. */
function eventOf(status: CallStatus): EventType | undefined {
  switch (status) {
    case 'initiated': return 'call.initiated';
    case 'ringing': return 'call.ringing';
    case 'in-progress': return 'call.answered';
    case 'queued': return undefined;
    default: return 'call.hangup';
  }
}

/** The event body of a call: the call object's essentials plus what the state adds. */
export function callEventData(call: CallRecord): Record<string, unknown> {
  return {
    call_id: call.id, direction: call.direction, from: call.from, to: call.to, status: call.status, parent_call_id: call.parentCallId,
    answered_at: call.answeredAt, ended_at: call.endedAt, duration_seconds: call.durationSeconds,
    price: call.priceCents === null ? null : formatCents(call.priceCents), currency: 'KES',
    rate_per_minute: call.ratePerMinuteCents === null ? null : formatCents(call.ratePerMinuteCents),
    hangup_cause: call.hangupCause, hangup_by: call.hangupBy, metadata: call.metadata,
    ...(call.answeredBy ? { answered_by: call.answeredBy } : {}),
  };
}

/**
 * Writes a call's record: each state change updates the CDR, appends a
 * lifecycle event and puts the matching webhook event in the outbox, all in
 * one transaction. State changes, errors and warnings are also noted on the
 * call's timeline (SPEC §14), and errors logged at warn with the call id.
 */
export class CallRecords {
  constructor(
    private readonly store: Store,
    private readonly events: EventPublisher,
    private readonly clock: Clock,
    /** Where timeline entries go (written in batches, off the call's path). */
    readonly timeline: TimelineSink = discardTimeline,
    private readonly log: Logger = silentLogger,
  ) {}

  /** Notes an entry on the call's timeline; returns at once. */
  note(callId: string, type: TimelineType, data: Record<string, unknown>): void {
    this.timeline.note(callId, type, data);
  }

  async create(input: Omit<NewCall, 'now'>): Promise<CallRecord> {
    return this.store.calls.create({ ...input, now: this.clock.now() });
  }

  /** A call's row and record, not written yet: `insert` (or `insertIn` a transaction) writes it. */
  draft(input: Omit<NewCall, 'now'>): CallDraft {
    return draftCall({ ...input, now: this.clock.now() });
  }

  async insert(draft: CallDraft): Promise<void> {
    await this.store.calls.insert(draft);
  }

  async transition(callId: string, status: CallStatus, update: CallUpdate = {}, detail: Record<string, unknown> = {}): Promise<CallRecord> {
    return this.store.transaction((repos) => this.transitionIn(repos, callId, status, update, detail));
  }

  /** Runs `fn` in one store transaction (several transitions that commit together). */
  inTransaction<T>(fn: (repos: Repos) => Promise<T>): Promise<T> {
    return this.store.transaction(fn);
  }

  /** `transition` inside the caller's transaction (billing at hang-up writes the charge and the final CDR together). */
  async transitionIn(repos: Repos, callId: string, status: CallStatus, update: CallUpdate = {}, detail: Record<string, unknown> = {}): Promise<CallRecord> {
    return (await this.#writeIn(repos, callId, status, update, detail, false))!;
  }

  /**
   * The final transition, only while the call has not ended in the store: a
   * call ended twice (a hang-up racing a recovery, two recoveries) gets one
   * final record and one call.hangup. Answers undefined, having written
   * nothing, when the call had already ended.
   */
  async endIn(repos: Repos, callId: string, status: CallStatus, update: CallUpdate, detail: Record<string, unknown>): Promise<CallRecord | undefined> {
    return this.#writeIn(repos, callId, status, update, detail, true);
  }

  async #writeIn(repos: Repos, callId: string, status: CallStatus, update: CallUpdate, detail: Record<string, unknown>, onlyIfLive: boolean): Promise<CallRecord | undefined> {
    const now = this.clock.now();
    const call = await repos.calls.updateReturning(callId, { ...update, status }, { onlyIfLive });
    if (!call) return undefined;
    await repos.calls.addEvent(callId, 'status', status, detail, now);
    this.timeline.note(callId, 'status', { status, ...detail });
    const type = eventOf(status);
    if (type) await this.events.publish(repos, { workspaceId: call.workspaceId, type, data: callEventData(call), statusUrl: call.statusUrl, callId, now });
    return call;
  }

  async update(callId: string, update: CallUpdate): Promise<void> {
    await this.store.calls.update(callId, update);
  }

  /**
   * Records an error on the call (`errors` in the API) and sends call.error;
   * it is an `error` entry on the timeline and a warn log line with the call id.
   */
  async error(callId: string, code: CallErrorCode, message: string, detail: Record<string, unknown> = {}): Promise<void> {
    this.log.warn({ callId, code, ...detail }, message);
    this.timeline.note(callId, 'error', { code, message, ...detail });
    await this.#addError(callId, code, message, detail);
  }

  /**
   * Records something the call went on despite (an unknown action field):
   * a `warning` entry on the timeline, and in `errors` (with call.error) like
   * any error, so an app that reads only `errors` sees it too.
   */
  async warning(callId: string, code: CallErrorCode, message: string, detail: Record<string, unknown> = {}): Promise<void> {
    this.log.info({ callId, code, ...detail }, message);
    this.timeline.note(callId, 'warning', { code, message, ...detail });
    await this.#addError(callId, code, message, { ...detail, severity: 'warning' });
  }

  async #addError(callId: string, code: CallErrorCode, message: string, detail: Record<string, unknown>): Promise<void> {
    const now = this.clock.now();
    await this.store.transaction(async (repos) => {
      await repos.calls.addEvent(callId, 'error', code, { message, ...detail }, now);
      const call = (await repos.calls.getById(callId))!;
      await this.events.publish(repos, {
        workspaceId: call.workspaceId, type: 'call.error', data: { call_id: callId, code, message, ...detail }, statusUrl: call.statusUrl, callId, now,
      });
    });
  }
}
