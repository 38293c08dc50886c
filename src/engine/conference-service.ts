import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { ConferenceAction } from '../actions/schema.js';
import { Wallet } from '../billing/wallet.js';
import { ConferenceManager, type ConferenceEvent, type LeaveReason, type RoomInfo } from '../conference/index.js';
import type { MediaBackend } from '../media/call-media.js';
import type { Clock } from '../shared/clock.js';
import { isFetchRefused } from '../shared/fetch-policy.js';
import { newId } from '../shared/ids.js';
import { discardTimeline, type TimelineSink } from '../shared/timeline.js';
import { childLogger, type Logger } from '../shared/log.js';
import type { Store } from '../store/store.js';
import type { EventPublisher } from '../webhooks/event-publisher.js';
import type { LiveCall } from './live-call.js';

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
  /** callId → room name, for PATCH /v1/calls/{id} {muted, hold}. */
  readonly #roomOfCall = new Map<string, { workspaceId: string; name: string }>();
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

  async join(session: LiveCall, action: ConferenceAction, signal: AbortSignal): Promise<LeaveReason> {
    const call = session.cdr;
    const key = `${call.workspaceId}\n${action.name}`;
    const subs: RoomSubscriptions = this.#subscriptions.get(key) ?? { callbacks: new Map(), recorders: [] };
    this.#subscriptions.set(key, subs);
    if (action.statusEventsCallbackUrl) {
      const set = subs.callbacks.get(action.statusEventsCallbackUrl) ?? new Set<string>();
      for (const e of action.statusEvents) set.add(e);
      subs.callbacks.set(action.statusEventsCallbackUrl, set);
    }
    if (action.record) subs.recorders.push(call.id);
    await this.store.calls.update(call.id, { conference: action.name });
    this.#roomOfCall.set(call.id, { workspaceId: call.workspaceId, name: action.name });
    try {
      return await this.manager.join({
        workspaceId: call.workspaceId, name: action.name, callId: call.id, caller: call.direction === 'inbound' ? call.from : call.to,
        endpoint: session.leg.media, startOnEnter: action.startOnEnter, endOnExit: action.endOnExit, beep: action.beep, muted: action.muted,
        maxParticipants: action.maxParticipants, ...(action.waitUrl ? { waitSource: (s: AbortSignal) => this.#waitAudio(session, action.waitUrl!, s) } : {}), record: action.record,
        collectDigits: action.collectDigits, ...(action.numDigits !== undefined ? { numDigits: action.numDigits } : {}), finishOnKey: action.finishOnKey,
        ...(action.collectDigits && action.digitsCallbackUrl ? { onDigits: (digits: string) => void this.#postDigits(session, action, digits) } : {}),
        // The leg's keys: RFC 4733 and SIP INFO DTMF both (SPEC §13).
        keys: session.leg,
        signal,
      });
    } finally {
      this.#roomOfCall.delete(call.id);
    }
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

  roomOf(callId: string): { workspaceId: string; name: string } | undefined {
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
    if (event.type === 'end') this.#subscriptions.delete(key);
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
