/**
 * The plain types of the conference room engine: what the call engine passes
 * to `ConferenceManager.join`, what a participant's join resolves with, what
 * the live-control calls answer and the events the manager reports.
 */
import type { FetchPolicy } from '../shared/fetch-policy.js';
import type { CallMedia, Listenable } from '../media/call-media.js';
import type { KeyEvents } from '../media/dtmf/digits.js';
import type { AudioSource } from '../media/sources/audio-source.js';

/**
 * Why a participant left the room (what `join()` resolves with):
 * - `hangup`: the leg's media endpoint closed (the caller hung up);
 * - `kicked`: removed through `kick()` (the REST API's DELETE participant);
 * - `room-ended`: the room ended under them (`endOnExit`, `end()`);
 * - `full`: the room was at `maxParticipants`; they never entered;
 * - `aborted`: the join's `signal` aborted (redirect, live control, shutdown),
 *   or the leg's audio was taken over by something else (a new bridge).
 *
 * After `room-ended` and `full` the call's action list continues (SPEC §7).
 */
/**
 * Wait audio: a source that loops itself (played on an in-process leg), or
 * 8 kHz PCM played looped, which is what a leg on a media worker takes.
 */
export type WaitAudio = AudioSource | Int16Array;

export type LeaveReason = 'hangup' | 'kicked' | 'room-ended' | 'full' | 'aborted';

/** Everything one participant brings to `join()`: the SPEC §7 fields, already parsed. */
export interface JoinInput {
  workspaceId: string;
  /** Room name, scoped to the workspace. */
  name: string;
  callId: string;
  /** The participant's phone number (or SIP user), reported as `caller` in events. */
  caller: string;
  /** The media endpoint of the participant's call leg (not closed by the room). */
  endpoint: CallMedia;
  /** The room starts when a participant with this flag is in it. Default true. */
  startOnEnter?: boolean;
  /** When the last participant with this flag leaves, the room ends. Default false. */
  endOnExit?: boolean;
  /** A beep to the room when this participant joins or leaves. Default true. */
  beep?: boolean;
  /** Hears but is not heard. Default false. */
  muted?: boolean;
  /**
   * Largest number of participants the room may hold; a join beyond it
   * resolves `full` at once. The smallest value of the room's creator and of
   * this participant applies. Default 250.
   */
  maxParticipants?: number;
  /**
   * Audio (WAV or MP3) URL played looped while the room waits to start,
   * loaded through the media engine's URL loader. Ignored when `waitSource`
   * is given. Default (and on a load failure): the built-in hold music.
   */
  waitUrl?: string;
  /** The fetch policy `waitUrl` is loaded within. Default `publicOnlyPolicy` (public addresses, any host). */
  waitUrlPolicy?: FetchPolicy;
  /**
   * Supplies the wait audio instead of `waitUrl`, e.g. for a `waitUrl` that
   * answers voice actions (the engine fetches them and builds the audio).
   * Called once when the participant starts waiting; the source should loop
   * itself (it is closed when the room starts or the participant leaves).
   * `signal` aborts when the wait audio is no longer needed. A rejection
   * falls back to the built-in hold music.
   */
  waitSource?: (signal: AbortSignal) => WaitAudio | Promise<WaitAudio>;
  /** Record the room's mix from its start; the file is reported in the `end` event. Default false. */
  record?: boolean;
  /** Report digits this participant presses through `onDigits`. Default false. */
  collectDigits?: boolean;
  /** Digits per report. Default: 1 when `finishOnKey` is '' (or unset), otherwise unlimited. */
  numDigits?: number;
  /** A key that ends a report (not included); '' for none. Default ''. */
  finishOnKey?: string;
  /** Pause after a digit that ends a report with what was pressed so far. Default 5000 ms. */
  digitTimeoutMs?: number;
  /** Called with each report of digits when `collectDigits` is set. */
  onDigits?: (digits: string) => void;
  /**
   * Where the participant's keys come from: its call leg's DTMF, RFC 4733 and SIP INFO alike
   * (SPEC §13). Default: the endpoint's own digits (RFC 4733 and in-band only).
   */
  keys?: Listenable<KeyEvents>;
  /** Aborting makes the participant leave with `aborted`. */
  signal?: AbortSignal;
}

/** One participant as `get()`/`list()` report it. */
export interface ParticipantInfo {
  callId: string;
  caller: string;
  muted: boolean;
  hold: boolean;
  startOnEnter: boolean;
  endOnExit: boolean;
  joinedAt: Date;
}

/** Room life cycle; see `room-state.ts`. */
export type RoomState = 'waiting' | 'started' | 'ended';

/** One room as `get()`/`list()` report it. */
export interface RoomInfo {
  /** Unique per room life (a name reused after the room ended gets a new id). */
  id: string;
  workspaceId: string;
  name: string;
  state: RoomState;
  createdAt: Date;
  startedAt: Date | undefined;
  /** Whether the room's mix is being recorded (or will be, once it starts). */
  recording: boolean;
  participants: ParticipantInfo[];
}

/** The finished recording of a room, reported with its `end` event. */
export interface ConferenceRecording {
  path: string;
  durationMs: number;
  bytes: number;
}

export type ConferenceEventType = 'start' | 'end' | 'join' | 'leave' | 'mute' | 'unmute' | 'full';

/**
 * One room event, reported in order per room. The call engine turns them
 * into signed webhooks (`conference.<type>`, and the room's status callback
 * with both spellings of SPEC §7).
 */
export interface ConferenceEvent {
  type: ConferenceEventType;
  workspaceId: string;
  /** Room name. */
  room: string;
  roomId: string;
  /** The participant concerned (join, leave, mute, unmute, full). */
  callId?: string;
  caller?: string;
  /** Participants in the room after the event. */
  participants: number;
  /** The participant's muted flag after the event (join, leave, mute, unmute). */
  muted?: boolean;
  /** Why the participant left (leave only). */
  reason?: LeaveReason;
  timestamp: Date;
  /** On `end`, when the room was recorded and the file was written. */
  recording?: ConferenceRecording;
}
