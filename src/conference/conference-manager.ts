/**
 * `ConferenceManager`: the process's conference rooms, keyed by
 * (workspace, name). The call engine calls `join()` from the `conference`
 * voice action and the live-control methods from the REST API; rooms are
 * created on the first join and forgotten when they end. The manager works
 * on media endpoints only: SIP, HTTP and the database are the engine's.
 *
 *   const conferences = new ConferenceManager({ media, clock, logger, onEvent: (e) => outbox.add(e) });
 *   const reason = await conferences.join({ workspaceId, name, callId, caller, endpoint, ...action, signal });
 *   // 'room-ended' | 'full' → continue the action list; 'hangup' → the call is over
 */
import path from 'node:path';
import { tmpdir } from 'node:os';
import type { MediaBackend } from '../media/call-media.js';
import type { MediaEngine } from '../media/engine.js';
import { asMediaBackend } from '../media/local-media-backend.js';
import type { Clock } from '../shared/clock.js';
import { systemClock } from '../shared/clock.js';
import { newId } from '../shared/ids.js';
import type { Logger } from '../shared/log.js';
import { childLogger, silentLogger } from '../shared/log.js';
import { ConferenceRoom } from './conference-room.js';
import type { ConferenceEvent, JoinInput, LeaveReason, RoomInfo } from './conference-types.js';

/** Options for `ConferenceManager`. */
export interface ConferenceManagerOptions {
  /** Makes the rooms' mixers, and loads `waitUrl` audio. */
  /** Call media; a bare `MediaEngine` is used in process. */
  media: MediaBackend | MediaEngine;
  /** Every room event, in order per room. Must not throw (a throw is logged and ignored). */
  onEvent: (event: ConferenceEvent) => void;
  /** Timestamps of events, `joinedAt`, `createdAt`, `startedAt`. Default: the system clock. */
  clock?: Clock;
  logger?: Logger;
  /** Folder for room recordings, named `<roomId>.wav`. Default: the OS temp folder. */
  recordingDir?: string;
  /** Full control over a room recording's file path (overrides `recordingDir`). */
  recordingPath?: (room: { id: string; workspaceId: string; name: string }) => string;
}

export class ConferenceManager {
  readonly #options: ConferenceManagerOptions;
  readonly #media: MediaBackend;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #rooms = new Map<string, ConferenceRoom>();
  #closing: Promise<void> | undefined;

  constructor(options: ConferenceManagerOptions) {
    this.#options = options;
    this.#media = asMediaBackend(options.media);
    this.#clock = options.clock ?? systemClock;
    this.#log = childLogger(options.logger ?? silentLogger, { component: 'conference' });
  }

  /** Rooms alive now, across workspaces. */
  get roomCount(): number {
    return this.#rooms.size;
  }

  /**
   * Put a call leg into the room `(workspaceId, name)`, creating the room if
   * needed. Resolves when the participant is out of the room, with why
   * (`full` at once when the room is at capacity). Never rejects except for
   * a call that is already in that room.
   */
  async join(input: JoinInput): Promise<LeaveReason> {
    if (this.#closing || input.signal?.aborted) return 'aborted';
    if (input.endpoint.state !== 'open') return 'hangup';
    const key = roomKey(input.workspaceId, input.name);
    let room = this.#rooms.get(key);
    if (!room) {
      room = this.#createRoom(input.workspaceId, input.name);
      this.#rooms.set(key, room);
    }
    return room.join(input);
  }

  /** Live rooms of a workspace. */
  list(workspaceId: string): RoomInfo[] {
    const rooms: RoomInfo[] = [];
    for (const room of this.#rooms.values()) if (room.workspaceId === workspaceId) rooms.push(room.info());
    return rooms;
  }

  /** One live room, or undefined (never started or already ended). */
  get(workspaceId: string, name: string): RoomInfo | undefined {
    return this.#rooms.get(roomKey(workspaceId, name))?.info();
  }

  /** Mute or unmute a participant (emits `mute`/`unmute` on a change). False when room or participant is unknown. */
  setMuted(workspaceId: string, name: string, callId: string, muted: boolean): boolean {
    return this.#rooms.get(roomKey(workspaceId, name))?.setMuted(callId, muted) ?? false;
  }

  /** Put a participant on hold (hears hold music, is not heard) or take it off. False when unknown. */
  setHold(workspaceId: string, name: string, callId: string, hold: boolean): boolean {
    return this.#rooms.get(roomKey(workspaceId, name))?.setHold(callId, hold) ?? false;
  }

  /**
   * Remove a participant (its join resolves `kicked`; the engine hangs the
   * call up, SPEC §4). Emits `leave`, and ends the room if the rules say so.
   */
  kick(workspaceId: string, name: string, callId: string): boolean {
    return this.#rooms.get(roomKey(workspaceId, name))?.kick(callId) ?? false;
  }

  /**
   * End a room: every participant leaves with `room-ended`, then `end` is
   * emitted (with the recording, once written). Resolves after that; false
   * when there is no such room.
   */
  async end(workspaceId: string, name: string): Promise<boolean> {
    const room = this.#rooms.get(roomKey(workspaceId, name));
    if (!room) return false;
    await room.end();
    return true;
  }

  /** End every room (shutdown). Later joins resolve `aborted`. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= Promise.all([...this.#rooms.values()].map((room) => room.end())).then(() => undefined);
    return this.#closing;
  }

  #createRoom(workspaceId: string, name: string): ConferenceRoom {
    const id = newId('conf');
    const recordingPath = this.#options.recordingPath?.({ id, workspaceId, name }) ?? path.join(this.#options.recordingDir ?? tmpdir(), `${id}.wav`);
    const room = new ConferenceRoom({
      id,
      workspaceId,
      name,
      media: this.#media,
      clock: this.#clock,
      logger: this.#log,
      recordingPath,
      emit: (event) => this.#emit(event),
      onEnded: (ended) => {
        const key = roomKey(ended.workspaceId, ended.name);
        if (this.#rooms.get(key) === ended) this.#rooms.delete(key);
      },
    });
    return room;
  }

  #emit(event: ConferenceEvent): void {
    try {
      this.#options.onEvent(event);
    } catch (error) {
      this.#log.error({ err: error, event: event.type, callId: event.callId, conference: event.room }, 'conference onEvent threw');
    }
  }
}

/** Names are arbitrary strings; NUL cannot appear in a workspace id, so the key is unambiguous. */
function roomKey(workspaceId: string, name: string): string {
  return `${workspaceId}\u0000${name}`;
}
