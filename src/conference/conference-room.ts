/**
 * One conference room: a media mixer, its participants and the rules of
 * SPEC §7 (start on enter, end on exit, capacity, beeps, mute, hold,
 * recording of the mix). Rooms are created and removed by
 * `ConferenceManager`; every state change goes out as a `ConferenceEvent`,
 * in order, through the manager's `emit`.
 */
import type { CallMedia, MediaBackend, RoomMixer } from '../media/call-media.js';
import type { RecordingInfo } from '../media/recorder.js';
import { HoldMusicSource } from '../media/sources/hold-music.js';
import type { Clock } from '../shared/clock.js';
import { publicOnlyPolicy } from '../shared/fetch-policy.js';
import type { Logger } from '../shared/log.js';
import type { ConferenceEvent, ConferenceRecording, JoinInput, LeaveReason, RoomInfo, RoomState } from './conference-types.js';
import { Participant, type WaitAudioFactory } from './participant.js';
import { RoomStateMachine } from './room-state.js';

/** Default (and largest useful) `maxParticipants`, SPEC §7. */
export const DEFAULT_MAX_PARTICIPANTS = 250;

/** What the manager hands a room. */
export interface RoomContext {
  id: string;
  workspaceId: string;
  name: string;
  media: MediaBackend;
  clock: Clock;
  logger: Logger;
  /** Where the room's mix goes if a participant asks for `record`. */
  recordingPath: string;
  /** Reports one event (never throws). */
  emit: (event: ConferenceEvent) => void;
  /** The room ended: forget it (called once, before the `end` event). */
  onEnded: (room: ConferenceRoom) => void;
}

type EventFields = Pick<ConferenceEvent, 'callId' | 'caller' | 'muted' | 'reason' | 'recording'>;

export class ConferenceRoom {
  readonly id: string;
  readonly workspaceId: string;
  readonly name: string;
  readonly createdAt: Date;
  readonly #ctx: RoomContext;
  readonly #log: Logger;
  readonly #machine = new RoomStateMachine();
  readonly #mixer: RoomMixer;
  // Insertion order = join order, which `info()` reports.
  readonly #participants = new Map<string, Participant>();
  #maxParticipants: number | undefined;
  #startedAt: Date | undefined;
  #recordWanted = false;
  #recording: Promise<RecordingInfo | undefined> | undefined;
  readonly #stopRecording = new AbortController();
  #ending: Promise<void> | undefined;

  constructor(ctx: RoomContext) {
    this.#ctx = ctx;
    this.id = ctx.id;
    this.workspaceId = ctx.workspaceId;
    this.name = ctx.name;
    this.createdAt = ctx.clock.now();
    this.#log = ctx.logger.child({ workspaceId: ctx.workspaceId, conference: ctx.name, roomId: ctx.id });
    this.#mixer = ctx.media.createMixer();
    // A leg leaves the mixer by itself when its endpoint closes (hang-up) or something else takes its audio.
    this.#mixer.on('memberLeft', (endpoint) => this.#onMemberLeft(endpoint));
  }

  get state(): RoomState {
    return this.#machine.state;
  }

  get size(): number {
    return this.#participants.size;
  }

  /** Put a leg in the room; resolves when it leaves (see `LeaveReason`). */
  join(input: JoinInput): Promise<LeaveReason> {
    if (this.#machine.state === 'ended') throw new Error(`conference room ${this.name} has ended`);
    if (this.#participants.has(input.callId)) throw new Error(`call ${input.callId} is already in conference room ${this.name}`);
    const log = this.#log.child({ callId: input.callId });
    // At least 1, so a room always holds the participant that created it.
    const wanted = Math.max(1, input.maxParticipants ?? DEFAULT_MAX_PARTICIPANTS);
    // The room keeps its creator's capacity; a joiner can only make it stricter for themselves.
    this.#maxParticipants ??= wanted;
    if (this.#participants.size >= Math.min(this.#maxParticipants, wanted)) {
      log.info({ participants: this.#participants.size }, 'conference room full; join refused');
      this.#emit('full', { callId: input.callId, caller: input.caller });
      return Promise.resolve('full');
    }

    const member = this.#mixer.add(input.endpoint, { muted: true });
    const participant = new Participant(input, member, this.#ctx.clock.now(), log);
    this.#participants.set(participant.callId, participant);
    log.info({ participants: this.#participants.size, startOnEnter: participant.startOnEnter, endOnExit: participant.endOnExit }, 'conference participant joined');
    if (input.record) this.#recordWanted = true;
    this.#emit('join', { callId: participant.callId, caller: participant.caller, muted: participant.muted });
    // An event handler may have acted on the room already (kicked them, ended it).
    if (participant.left) return participant.result;

    const signal = input.signal;
    if (signal) {
      const onAbort = (): void => this.#leave(participant, 'aborted');
      signal.addEventListener('abort', onAbort, { once: true });
      void participant.result.then(() => signal.removeEventListener('abort', onAbort));
    }

    if (this.#machine.state === 'waiting' && participant.startOnEnter) {
      this.#start();
    } else if (this.#machine.state === 'waiting') {
      participant.applyMix(false);
      participant.startWait(this.#waitAudio(input, log));
    } else {
      participant.applyMix(true);
      if (this.#recordWanted) this.#startRecording();
    }
    if (participant.beep) this.#beep();
    return participant.result;
  }

  setMuted(callId: string, muted: boolean): boolean {
    const p = this.#participants.get(callId);
    if (!p) return false;
    if (p.muted === muted) return true;
    p.muted = muted;
    p.applyMix(this.#machine.state === 'started');
    p.log.info({ muted }, 'conference participant mute changed');
    this.#emit(muted ? 'mute' : 'unmute', { callId, caller: p.caller, muted });
    return true;
  }

  setHold(callId: string, hold: boolean): boolean {
    const p = this.#participants.get(callId);
    if (!p) return false;
    if (p.hold === hold) return true;
    p.hold = hold;
    p.applyMix(this.#machine.state === 'started');
    p.log.info({ hold }, 'conference participant hold changed');
    return true;
  }

  kick(callId: string): boolean {
    const p = this.#participants.get(callId);
    if (!p) return false;
    this.#leave(p, 'kicked');
    return true;
  }

  /** End the room: everyone leaves with `room-ended`. Resolves after the `end` event. Idempotent. */
  end(): Promise<void> {
    this.#ending ??= this.#end();
    return this.#ending;
  }

  info(): RoomInfo {
    return {
      id: this.id,
      workspaceId: this.workspaceId,
      name: this.name,
      state: this.#machine.state,
      createdAt: this.createdAt,
      startedAt: this.#startedAt,
      recording: this.#recordWanted,
      participants: [...this.#participants.values()].map((p) => p.info()),
    };
  }

  #start(): void {
    this.#machine.transition('started');
    this.#startedAt = this.#ctx.clock.now();
    this.#log.info({ participants: this.#participants.size }, 'conference room started');
    this.#emit('start', {});
    if (this.#machine.state !== 'started') return; // ended by an event handler
    for (const p of this.#participants.values()) {
      p.stopWait();
      p.applyMix(true);
    }
    if (this.#recordWanted) this.#startRecording();
  }

  #leave(p: Participant, reason: LeaveReason): void {
    // Out of the map first: removing the mixer member below re-enters through `memberLeft`.
    if (this.#participants.get(p.callId) !== p) return;
    this.#participants.delete(p.callId);
    if (!p.leave(reason)) return;
    this.#emit('leave', { callId: p.callId, caller: p.caller, muted: p.muted, reason });
    if (this.#machine.state === 'ended') return; // the room is already taking everyone out
    if (this.#participants.size === 0) {
      void this.end();
      return;
    }
    if (p.endOnExit && ![...this.#participants.values()].some((q) => q.endOnExit)) {
      this.#log.info({ callId: p.callId }, 'last endOnExit participant left; ending the room');
      void this.end();
      return;
    }
    if (p.beep) this.#beep();
  }

  #onMemberLeft(endpoint: CallMedia): void {
    for (const p of this.#participants.values()) {
      if (p.endpoint !== endpoint) continue;
      this.#leave(p, endpoint.state === 'closed' ? 'hangup' : 'aborted');
      return;
    }
  }

  async #end(): Promise<void> {
    this.#machine.transition('ended');
    this.#ctx.onEnded(this);
    for (const p of [...this.#participants.values()]) this.#leave(p, 'room-ended');
    this.#stopRecording.abort();
    this.#mixer.close();
    const recording = await this.#finishRecording();
    this.#log.info({ recording: recording?.path }, 'conference room ended');
    this.#emit('end', recording ? { recording } : {});
  }

  /** Beeps are for a room where audio flows; a waiting room hears wait audio instead. */
  #beep(): void {
    if (this.#machine.state !== 'started' || this.#participants.size === 0) return;
    this.#mixer.playTone('beep');
  }

  #startRecording(): void {
    if (this.#recording || this.#machine.state !== 'started') return;
    const path = this.#ctx.recordingPath;
    // Runs until the room ends (#end aborts it); the mixer writes the file, here or on a media worker.
    this.#recording = this.#mixer.record(path, this.#stopRecording.signal).catch((error: unknown) => {
      this.#log.error({ err: error, path }, 'conference recording failed');
      return undefined;
    });
  }

  async #finishRecording(): Promise<ConferenceRecording | undefined> {
    const info = await this.#recording;
    return info ? { path: info.path, durationMs: info.durationMs, bytes: info.bytes } : undefined;
  }

  #waitAudio(input: JoinInput, log: Logger): WaitAudioFactory {
    const media = this.#ctx.media;
    return async (signal) => {
      try {
        if (input.waitSource) return await input.waitSource(signal);
        if (input.waitUrl !== undefined) return await media.loadAudio(input.waitUrl, { policy: input.waitUrlPolicy ?? publicOnlyPolicy, signal });
      } catch (error) {
        if (!signal.aborted) log.warn({ err: error, waitUrl: input.waitUrl }, 'conference wait audio unavailable; playing hold music');
      }
      return new HoldMusicSource();
    };
  }

  #emit(type: ConferenceEvent['type'], fields: EventFields): void {
    this.#ctx.emit({
      type,
      workspaceId: this.workspaceId,
      room: this.name,
      roomId: this.id,
      ...fields,
      participants: this.#participants.size,
      timestamp: this.#ctx.clock.now(),
    });
  }
}
