import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { ConferenceAction } from '../actions/schema.js';
import { Wallet } from '../billing/wallet.js';
import { ConferenceManager, type ConferenceEvent, type JoinInput, type LeaveReason, type RoomInfo } from '../conference/index.js';
import { reportRoomDigits } from '../conference/room-digits.js';
import { encodeRemoteJoin, parseRemoteJoin, remoteJoinOf, type RemoteJoin } from './remote-join.js';
import { CallLeg, type LegEnd } from '../legs/call-leg.js';
import type { CallMedia, MediaBackend } from '../media/call-media.js';
import type { IncomingCall } from '../sip/ua/incoming-call.js';
import type { NodeRecord } from '../store/repos/node-repo.js';
import type { Clock } from '../shared/clock.js';
import { fetchPolicyOf, isFetchRefused } from '../shared/fetch-policy.js';
import { newId } from '../shared/ids.js';
import { discardTimeline, type TimelineSink } from '../shared/timeline.js';
import { childLogger, type Logger } from '../shared/log.js';
import type { Store } from '../store/store.js';
import type { EventPublisher } from '../webhooks/event-publisher.js';
import type { LiveCall } from './live-call.js';
import type { RoomHomes } from './room-homes.js';
import type { InternalLegs } from './internal-legs.js';

/** The BYE header of an internal conference leg saying why the participant left (a `LeaveReason`). */
const leaveHeader = 'X-Sautikit-Leave';
const leaveReasons: readonly string[] = ['hangup', 'kicked', 'room-ended', 'full', 'aborted'] satisfies LeaveReason[];

/** Why the home ended an internal leg; a leg that ended without saying (the home node died) is the room ending. */
function leaveReasonOf(header: string | undefined): LeaveReason {
  return header !== undefined && leaveReasons.includes(header) ? header as LeaveReason : 'room-ended';
}

/**
 * The first of: the internal leg answering (when `answered` is given) or
 * ending, the call's own leg ending, the action aborting. Listeners go once
 * it is decided, so a call joining rooms again and again keeps none.
 */
function firstOf<T>(internal: CallLeg, leg: CallLeg, signal: AbortSignal, on: {
  answered?: () => T; internalEnded: (end: LegEnd) => T; callEnded: () => T; aborted: () => T;
}): Promise<T> {
  return new Promise((resolve) => {
    const decided = new AbortController();
    const onAnswered = (): void => settle(on.answered!());
    const onInternalEnded = (end: LegEnd): void => settle(on.internalEnded(end));
    const onCallEnded = (): void => settle(on.callEnded());
    function settle(value: T): void {
      if (decided.signal.aborted) return;
      decided.abort();
      internal.off('answered', onAnswered);
      internal.off('ended', onInternalEnded);
      leg.off('ended', onCallEnded);
      resolve(value);
    }
    if (signal.aborted) return settle(on.aborted());
    if (leg.endInfo) return settle(on.callEnded());
    if (internal.endInfo) return settle(on.internalEnded(internal.endInfo));
    if (on.answered && internal.answered) return settle(on.answered());
    if (on.answered) internal.on('answered', onAnswered);
    internal.on('ended', onInternalEnded);
    leg.on('ended', onCallEnded);
    signal.addEventListener('abort', () => settle(on.aborted()), { once: true, signal: decided.signal });
  });
}

/** The participant's number as room events report it (`caller`). */
function callerOf(call: LiveCall['cdr']): string {
  return call.direction === 'inbound' ? call.from : call.to;
}

interface RoomSubscriptions {
  /** statusEventsCallbackUrl → the events it asked for. */
  callbacks: Map<string, Set<string>>;
  /** Calls that joined with `record: true` (the room's recording is filed under the first). */
  recorders: string[];
}

/**
 * Rooms for the `conference` action and the REST API (SPEC §7): joins calls
 * to the room engine, turns room events into signed events with both
 * spellings the product pages read, files the room recording, and keeps
 * each call's `conference` field.
 */
export class ConferenceService {
  readonly manager: ConferenceManager;
  readonly #subscriptions = new Map<string, RoomSubscriptions>();
  /** callId → room name (and its home node when elsewhere), for PATCH /v1/calls/{id} {muted, hold}. */
  readonly #roomOfCall = new Map<string, { workspaceId: string; name: string; home?: string }>();
  /** Per room: the event being published now; the next waits for it, so the outbox holds them in the order they happened. */
  readonly #publishing = new Map<string, Promise<void>>();
  readonly #log: Logger;

  constructor(
    private readonly store: Store,
    private readonly events: EventPublisher,
    private readonly media: MediaBackend,
    private readonly clock: Clock,
    logger: Logger,
    dataDir: string,
    private readonly publicUrl: () => string,
    /** The room's recording goes on the timeline of the call it is filed under. */
    private readonly timeline: TimelineSink = discardTimeline,
    /** Rooms' home nodes and the legs between nodes, when several nodes form one platform (SPEC §16); undefined on a single node. */
    private readonly cluster?: { homes: RoomHomes; legs: InternalLegs },
  ) {
    this.#log = childLogger(logger, { component: 'conference' });
    const recordingDir = path.join(dataDir, 'recordings', 'conferences');
    // The room engine writes recordings here without creating folders.
    mkdirSync(recordingDir, { recursive: true });
    this.manager = new ConferenceManager({
      media, clock, logger: this.#log, recordingDir,
      onEvent: (event) => this.#queueEvent(event),
    });
  }

  /**
   * The `conference` action: the call joins the room here, or, when the room
   * lives on another node (SPEC §16), over an internal leg to that node.
   * Resolves with why the participant left.
   */
  async join(session: LiveCall, action: ConferenceAction, signal: AbortSignal): Promise<LeaveReason> {
    const call = session.cdr;
    await this.store.calls.update(call.id, { conference: action.name });
    const room = { workspaceId: call.workspaceId, name: action.name };
    this.#roomOfCall.set(call.id, room);
    try {
      const homes = this.cluster?.homes;
      if (!homes) return await this.#joinHere(session, action, signal, () => {});
      // A room's home may change between our claim and our INVITE (it ended there): claim again, a few times.
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const place = await homes.place(call.workspaceId, action.name);
        if (place.here) return await this.#joinHere(session, action, signal, place.done);
        this.#roomOfCall.set(call.id, { ...room, home: place.node.id });
        const left = await this.#joinThere(session, action, signal, place.node);
        if (left !== 'not-home') return left;
      }
      await session.recordError('conference_unreachable', `room ${action.name} moved between nodes three times while joining; the action list went on`);
      return 'room-ended';
    } finally {
      this.#roomOfCall.delete(call.id);
    }
  }

  /** A call of this node joins a room of this node. */
  #joinHere(session: LiveCall, action: ConferenceAction, signal: AbortSignal, placed: () => void): Promise<LeaveReason> {
    const call = session.cdr;
    return this.#enter({
      workspaceId: call.workspaceId, name: action.name, callId: call.id, caller: callerOf(call), endpoint: session.leg.media, fields: action, placed,
      input: {
        ...(action.waitUrl ? { waitSource: (s: AbortSignal) => this.#waitAudio(session, action.waitUrl!, s) } : {}),
        collectDigits: action.collectDigits, ...(action.numDigits !== undefined ? { numDigits: action.numDigits } : {}), finishOnKey: action.finishOnKey,
        ...(action.collectDigits && action.digitsCallbackUrl ? { onDigits: (digits: string) => void this.#postDigits(session, action, digits) } : {}),
        // The leg's keys: RFC 4733 and SIP INFO DTMF both (SPEC §13).
        keys: session.leg,
        signal,
      },
    });
  }

  /** Puts an endpoint into a room of this node, with the subscriptions its join asked for. */
  #enter(p: {
    workspaceId: string; name: string; callId: string; caller: string; endpoint: CallMedia; fields: RemoteJoin | ConferenceAction;
    input: Partial<JoinInput>; placed: () => void;
  }): Promise<LeaveReason> {
    const { fields } = p;
    const key = `${p.workspaceId}\n${p.name}`;
    const subs: RoomSubscriptions = this.#subscriptions.get(key) ?? { callbacks: new Map(), recorders: [] };
    this.#subscriptions.set(key, subs);
    if (fields.statusEventsCallbackUrl) {
      const set = subs.callbacks.get(fields.statusEventsCallbackUrl) ?? new Set<string>();
      for (const e of fields.statusEvents) set.add(e);
      subs.callbacks.set(fields.statusEventsCallbackUrl, set);
    }
    if (fields.record) subs.recorders.push(p.callId);
    try {
      // The room is created (synchronously) by this call: from here on a release of its home sees it.
      return this.manager.join({
        workspaceId: p.workspaceId, name: p.name, callId: p.callId, caller: p.caller, endpoint: p.endpoint,
        startOnEnter: fields.startOnEnter, endOnExit: fields.endOnExit, beep: fields.beep, muted: fields.muted,
        maxParticipants: fields.maxParticipants, record: fields.record, ...p.input,
      });
    } finally {
      p.placed();
    }
  }

  /**
   * A call of this node joins a room whose home is `node` (SPEC §16): an
   * internal leg to the home carries the participant (joined there under the
   * call's own id), bridged to the call here. Digits are collected here,
   * where the call's webhooks are. `not-home`: that node no longer holds the
   * room (claim again).
   */
  async #joinThere(session: LiveCall, action: ConferenceAction, signal: AbortSignal, node: NodeRecord): Promise<LeaveReason | 'not-home'> {
    const call = session.cdr;
    const log = this.#log.child({ callId: call.id, conference: action.name, home: node.id });
    const unreachable = async (why: string): Promise<LeaveReason> => {
      log.warn({ why }, 'room home not reached');
      await session.recordError('conference_unreachable', `room ${action.name} lives on node ${node.id}, which could not be reached: ${why}; the action list went on`);
      return 'room-ended';
    };
    let internal: CallLeg;
    try {
      internal = await this.cluster!.legs.dial(node, {
        workspaceId: call.workspaceId, room: action.name, callId: call.id, joinOptions: encodeRemoteJoin(remoteJoinOf(action, callerOf(call))),
      }, session.leg.media, log);
    } catch (error) {
      return unreachable(error instanceof Error ? error.message : String(error));
    }
    const answered = await firstOf(internal, session.leg, signal, {
      answered: () => 'answered' as const, internalEnded: () => 'failed' as const, callEnded: () => 'hangup' as const, aborted: () => 'aborted' as const,
    });
    if (answered === 'hangup' || answered === 'aborted') {
      await internal.hangup('normal_clearing', [[leaveHeader, answered]]);
      return answered;
    }
    if (answered === 'failed') {
      const status = internal.endInfo?.sipStatus;
      if (status === 404) return 'not-home';
      return unreachable(status ? `it answered SIP ${status}` : `the leg ended (${internal.endInfo?.cause ?? 'unknown'})`);
    }
    const bridge = await this.media.bridge(session.leg.media, internal.media);
    const inRoom = new AbortController();
    if (action.collectDigits && action.digitsCallbackUrl) {
      void reportRoomDigits(session.leg.media, session.leg, action, inRoom.signal, (digits) => void this.#postDigits(session, action, digits), log);
    }
    const reason = await firstOf<LeaveReason>(internal, session.leg, signal, {
      internalEnded: (end) => leaveReasonOf(end.byeHeader?.(leaveHeader)), callEnded: () => 'hangup', aborted: () => 'aborted',
    });
    inRoom.abort();
    bridge.close();
    // The home hears why this participant left: its own hang-up, or the action aborted (redirect, live control).
    if (!internal.endInfo) await internal.hangup('normal_clearing', [[leaveHeader, reason]]);
    return reason;
  }

  /**
   * An internal INVITE from another node (SPEC §16): a participant of one of
   * this node's rooms whose call runs there. Checked by its signature; taken
   * only while this node is (or becomes) the room's home, else 404 so the
   * other node claims again. The participant is listed, muted and kicked
   * under its real call id; when it leaves the room here, the BYE says why.
   */
  async acceptInternalLeg(incoming: IncomingCall): Promise<void> {
    const cluster = this.cluster;
    if (!cluster) return incoming.reject(403, 'Forbidden (this node runs alone)');
    const check = await cluster.legs.verify(incoming);
    if (!check.ok) {
      this.#log.warn({ source: incoming.remote, why: check.reason }, 'internal conference INVITE refused');
      return incoming.reject(403, 'Forbidden');
    }
    const { workspaceId, room, callId } = check.fields;
    let fields: RemoteJoin;
    try {
      fields = parseRemoteJoin(check.fields.joinOptions);
    } catch (error) {
      return incoming.reject(400, `Bad Request (${error instanceof Error ? error.message : 'X-Sautikit-Join'})`);
    }
    const log = this.#log.child({ callId, conference: room, internal: true });
    const policy = fields.waitUrl ? fetchPolicyOf(await this.store.settings.get(workspaceId)) : undefined;
    const place = await cluster.homes.place(workspaceId, room);
    if (!place.here) {
      log.info({ home: place.node.id }, 'internal INVITE for a room that lives on another node');
      return incoming.reject(404, 'Not Found', [['Warning', `399 sautikit "room ${room.replace(/["\\]/g, "'")} lives on node ${place.node.id}"`]]);
    }
    let leg: CallLeg | undefined;
    try {
      const made = await CallLeg.fromIncoming(incoming, this.media, log);
      // An offer we cannot take was answered 488 already.
      if (!('problem' in made)) {
        leg = made;
        leg.answer();
      }
    } finally {
      // Without a leg no room is entered: the claim is settled now (else #enter settles it once the room exists).
      if (!leg) place.done();
    }
    if (!leg) return;
    const reason = await this.#enter({
      workspaceId, name: room, callId, caller: fields.caller, endpoint: leg.media, fields, placed: place.done,
      // A waitUrl that answers voice actions needs the call's webhooks, which are on the other node: hold music then.
      input: fields.waitUrl && policy ? { waitUrl: fields.waitUrl, waitUrlPolicy: policy } : {},
    });
    if (!leg.endInfo) await leg.hangup('normal_clearing', [[leaveHeader, reason]]);
  }
  /**
   * Wait audio from `waitUrl` (SPEC §7): an audio file (WAV/MP3, looped), or
   * a URL answering voice actions, whose say/play/pause become one looped
   * clip. Both kinds are fetched within the workspace's fetch policy; a
   * refusal is recorded on the call (`fetch_not_allowed`). A failure falls
   * back to the built-in hold music (the room engine's default when this
   * rejects).
   */
  async #waitAudio(session: LiveCall, url: string, signal: AbortSignal): Promise<Int16Array> {
    const policy = await session.fetchPolicy();
    const load = async (audioUrl: string): Promise<Int16Array> => {
      try {
        return await this.media.loadAudio(audioUrl, { policy, signal });
      } catch (error) {
        if (!signal.aborted && isFetchRefused(error)) await session.recordRefusedFetch('conference.waitUrl', audioUrl, error);
        throw error;
      }
    };
    let asAudio: string;
    try {
      return await load(url);
    } catch (error) {
      // Refused: asking the same URL for actions would be refused too (and recorded twice).
      if (signal.aborted || isFetchRefused(error)) throw error;
      // Not audio: ask it for actions, as the page's hold-music endpoints do.
      asAudio = error instanceof Error ? error.message : String(error);
    }
    const actions = await session.fetchActions(url, {}, 'POST');
    // Neither audio nor actions: say what each attempt met (a 404 is a 404), not only that no prompt came back.
    if (!actions) throw new Error(`waitUrl ${url} gave no wait audio: as audio: ${asAudio}; as voice actions: the request failed (the call's errors say how)`);
    const clips: Int16Array[] = [];
    for (const a of actions ?? []) {
      if (a.kind === 'say') clips.push(await this.media.speak({ text: a.text, language: a.language, ...(a.voice ? { voice: a.voice } : {}), signal }));
      else if (a.kind === 'play') clips.push(await load(a.url));
      else if (a.kind === 'pause') clips.push(new Int16Array(Math.round(a.lengthSeconds * 8000)));
    }
    const total = clips.reduce((n, c) => n + c.length, 0);
    if (total === 0) throw new Error(`waitUrl ${url} gave no wait audio: as audio: ${asAudio}; as voice actions: it answered no say, play or pause`);
    const pcm = new Int16Array(total);
    let at = 0;
    for (const c of clips) {
      pcm.set(c, at);
      at += c.length;
    }
    return pcm;
  }

  /** The room a call of this node is in; `home` names the node holding the room when it is not this one. */
  roomOf(callId: string): { workspaceId: string; name: string; home?: string } | undefined {
    return this.#roomOfCall.get(callId);
  }

  list(workspaceId: string): RoomInfo[] {
    return this.manager.list(workspaceId);
  }

  get(workspaceId: string, name: string): RoomInfo | undefined {
    return this.manager.get(workspaceId, name);
  }

  async #postDigits(session: LiveCall, action: ConferenceAction, digits: string): Promise<void> {
    session.note('digits', { digits, room: action.name });
    await session.fetchActions(action.digitsCallbackUrl!, { Digits: digits, ConferenceName: action.name }, 'POST');
  }

  /** Room events are published one after another, in the order the room emitted them (an `end` first files its recording). */
  #queueEvent(event: ConferenceEvent): void {
    const key = `${event.workspaceId}\n${event.room}`;
    const published = (this.#publishing.get(key) ?? Promise.resolve())
      .then(() => this.#onEvent(event))
      .catch((error: unknown) => this.#log.error({ err: error, room: event.room }, 'conference event failed'));
    this.#publishing.set(key, published);
    void published.finally(() => {
      if (this.#publishing.get(key) === published) this.#publishing.delete(key);
    });
  }

  async #onEvent(event: ConferenceEvent): Promise<void> {
    const key = `${event.workspaceId}\n${event.room}`;
    const subs = this.#subscriptions.get(key);
    const now = this.clock.now();
    let recordingUrl: string | undefined;
    if (event.type === 'end' && event.recording) recordingUrl = await this.#fileRecording(event, subs?.recorders[0] ?? null);
    const data: Record<string, unknown> = {
      event: event.type, conference_name: event.room, participants: event.participants, timestamp: event.timestamp.toISOString(),
      StatusCallbackEvent: event.type, ConferenceName: event.room,
      ...(event.callId ? { call_id: event.callId, CallId: event.callId } : {}),
      ...(event.caller ? { caller: event.caller } : {}),
      ...(event.muted !== undefined ? { muted: event.muted } : {}),
      ...(event.reason ? { reason: event.reason } : {}),
      ...(recordingUrl ? { recording_url: recordingUrl } : {}),
    };
    const urls = [...(subs?.callbacks ?? new Map<string, Set<string>>())].filter(([, types]) => types.has(event.type)).map(([url]) => url);
    await this.store.transaction((repos) => this.events.publish(repos, {
      workspaceId: event.workspaceId, type: `conference.${event.type}`, data, statusUrl: urls, callId: event.callId ?? null, now,
      // Each receiver gets a room's events in the order they happened (join before start, leave before end).
      orderingKey: `conference\n${key}`,
    }));
    if (event.type === 'end') {
      this.#subscriptions.delete(key);
      // The room is over here: its name is free for any node to hold next (unless it lives here again already).
      await this.cluster?.homes.release(event.workspaceId, event.room, () => this.manager.get(event.workspaceId, event.room) !== undefined);
    }
  }

  /** The room's mix becomes a recording (of the first call that asked for it), charged and announced once. */
  async #fileRecording(event: ConferenceEvent, callId: string | null): Promise<string> {
    const recording = event.recording!;
    const id = newId('rec');
    const now = this.clock.now();
    const url = `${this.publicUrl()}/v1/recordings/${id}/audio`;
    // Whole seconds rounded up, as calls are: the fee is reckoned on the same figure.
    const durationSeconds = Math.ceil(recording.durationMs / 1000);
    await this.store.transaction(async (repos) => {
      await new Wallet(repos).fileRecording({ id, workspaceId: event.workspaceId, callId, conference: event.room, path: recording.path, durationSeconds, channels: 1, now });
      const call = callId ? await repos.calls.getById(callId) : undefined;
      await this.events.publish(repos, {
        workspaceId: event.workspaceId, type: 'call.recording.ready', callId, now, statusUrl: call?.statusUrl ?? null,
        data: { call_id: callId, recording_id: id, recording_url: url, duration_seconds: durationSeconds, conference: event.room },
      });
    });
    if (callId) this.timeline.note(callId, 'recording', { recording_id: id, url, duration_seconds: durationSeconds, room: event.room });
    return url;
  }

  close(): Promise<void> {
    return this.manager.close();
  }
}
