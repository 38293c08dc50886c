/**
 * One call leg in a room: its mixer membership, the wait audio it hears
 * before the room starts, the digits it reports, and the promise `join()`
 * returns. The room decides the rules; a participant only applies them to
 * its own leg and cleans up after itself exactly once.
 */
import type { CallMedia, RoomMember } from '../media/call-media.js';
import { FRAME_SAMPLES, type AudioSource } from '../media/sources/audio-source.js';
import type { Logger } from '../shared/log.js';
import { reportRoomDigits } from './room-digits.js';
import type { JoinInput, LeaveReason, ParticipantInfo, WaitAudio } from './conference-types.js';

/** Produces a participant's wait audio; never rejects (falls back to hold music). */
export type WaitAudioFactory = (signal: AbortSignal) => Promise<WaitAudio>;

/** Samples of a looping source rendered for a leg that takes PCM only: the built-in hold music's 16 beats. */
const RENDERED_LOOP_SAMPLES = 64_000;

export class Participant {
  readonly callId: string;
  readonly caller: string;
  readonly endpoint: CallMedia;
  readonly startOnEnter: boolean;
  readonly endOnExit: boolean;
  readonly beep: boolean;
  readonly joinedAt: Date;
  /** Carries `callId` (and the room) on every line. */
  readonly log: Logger;
  /** Resolves once, when the participant is out of the room. */
  readonly result: Promise<LeaveReason>;
  muted: boolean;
  hold = false;

  readonly #input: JoinInput;
  readonly #member: RoomMember;
  // Aborted on leave: stops the digit loop and anything else tied to the stay in the room.
  readonly #stay = new AbortController();
  #wait: AbortController | undefined;
  #resolve!: (reason: LeaveReason) => void;
  #left = false;

  constructor(input: JoinInput, member: RoomMember, joinedAt: Date, log: Logger) {
    this.#input = input;
    this.#member = member;
    this.callId = input.callId;
    this.caller = input.caller;
    this.endpoint = input.endpoint;
    this.startOnEnter = input.startOnEnter ?? true;
    this.endOnExit = input.endOnExit ?? false;
    this.beep = input.beep ?? true;
    this.muted = input.muted ?? false;
    this.joinedAt = joinedAt;
    this.log = log;
    this.result = new Promise((resolve) => {
      this.#resolve = resolve;
    });
    if (input.collectDigits) void this.#collectDigits();
  }

  get left(): boolean {
    return this.#left;
  }

  /**
   * Set what the mixer does with this leg. Before the room starts nobody is
   * heard (everyone hears their own wait audio); after, the participant's own
   * muted and hold flags apply.
   */
  applyMix(roomStarted: boolean): void {
    this.#member.setMuted(!roomStarted || this.muted);
    this.#member.setHold(roomStarted && this.hold);
  }

  /** Play the wait audio until `stopWait()` or leaving. Idempotent. */
  startWait(factory: WaitAudioFactory): void {
    if (this.#wait || this.#left) return;
    const wait = new AbortController();
    this.#wait = wait;
    void factory(wait.signal).then(async (audio) => {
      if (wait.signal.aborted) {
        if (!(audio instanceof Int16Array)) audio.close?.();
        return;
      }
      // Playing has priority over the mixer feed, so the wait audio hides the (silent) room.
      const result = await this.#playWait(audio, wait.signal);
      if (result === 'failed') this.log.warn('conference wait audio failed');
    });
  }

  #playWait(audio: WaitAudio, signal: AbortSignal): Promise<string> {
    if (audio instanceof Int16Array) return this.endpoint.playPcm(audio, { loop: 0, signal });
    if (this.endpoint.play) return this.endpoint.play(audio, { signal });
    // A leg on a media worker takes PCM, not a source object: send it one loop of the source.
    return this.endpoint.playPcm(renderLoop(audio), { loop: 0, signal });
  }

  /** Stop the wait audio (the room started); the leg hears the room again. */
  stopWait(): void {
    this.#wait?.abort();
    this.#wait = undefined;
  }

  /** Take the leg out of the room and resolve `result`. Returns false if it had already left. */
  leave(reason: LeaveReason): boolean {
    if (this.#left) return false;
    this.#left = true;
    this.stopWait();
    this.#stay.abort();
    this.#member.remove();
    this.log.info({ reason }, 'conference participant left');
    this.#resolve(reason);
    return true;
  }

  info(): ParticipantInfo {
    return {
      callId: this.callId,
      caller: this.caller,
      muted: this.muted,
      hold: this.hold,
      startOnEnter: this.startOnEnter,
      endOnExit: this.endOnExit,
      joinedAt: this.joinedAt,
    };
  }

  /** Report digits while in the room (`reportRoomDigits`), until the participant leaves. */
  async #collectDigits(): Promise<void> {
    const input = this.#input;
    await reportRoomDigits(this.endpoint, input.keys, input, this.#stay.signal, (digits) => input.onDigits?.(digits), this.log);
  }
}

/** The first `RENDERED_LOOP_SAMPLES` of a (looping) source, as PCM. */
function renderLoop(source: AudioSource): Int16Array {
  const pcm = new Int16Array(RENDERED_LOOP_SAMPLES);
  const frame = new Int16Array(FRAME_SAMPLES);
  for (let at = 0; at + FRAME_SAMPLES <= pcm.length; at += FRAME_SAMPLES) {
    if (!source.read(frame)) break;
    pcm.set(frame, at);
  }
  source.close?.();
  return pcm;
}
