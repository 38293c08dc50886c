/**
 * Conference mixer. In the clock's mix phase (after every leg has pulled its
 * inbound frame, before any sends) it sums the audible members once and gives
 * each member the total minus its own contribution: O(N) per tick, not
 * O(N^2). Muted members are not summed but hear everyone; members on hold
 * are neither summed nor hear the room: they hear the hold source. Results
 * are clipped to int16. `play` adds an announcement every (non-held) member
 * hears; `fork` taps the whole room (for conference recording). Buffers are
 * allocated when a member joins, never per tick.
 */
import { TypedEmitter } from '../shared/typed-emitter.js';
import type { MediaEndpoint } from './endpoint.js';
import type { PlayResult } from './endpoint-types.js';
import type { MediaClock } from './media-clock.js';
import type { Codec } from './codecs/codec.js';
import { copyPayload, FRAME_SAMPLES, type AudioSource } from './sources/audio-source.js';
import { HoldMusicSource } from './sources/hold-music.js';

/** Options for `Mixer`. */
export interface MixerOptions {
  /** Makes the source members on hold hear. Default: built-in hold music. */
  holdSource?: () => AudioSource;
}

/** Options for `Mixer.add`. */
export interface MemberOptions {
  muted?: boolean;
  hold?: boolean;
}

/**
 * What the mixer needs of a leg: its inbound frame of this tick and a way to
 * feed it the room. A `MediaEndpoint` is one; a leg on another media shard
 * is represented by a stand-in fed through shared memory (`src/media/shard/`).
 */
export type MixerLeg = Pick<MediaEndpoint, 'inboundFrame' | 'inboundActive' | 'attachFeed'>;

export type MixerEvents<L extends MixerLeg = MediaEndpoint> = {
  memberLeft: [L];
  closed: [];
};

export class MixerMember<L extends MixerLeg = MediaEndpoint> {
  readonly endpoint: L;
  muted: boolean;
  hold: boolean;
  /** What this member hears this tick. */
  readonly out = new Int16Array(FRAME_SAMPLES);
  /** @internal Whether this member's frame went into the total this tick (digital silence does not count). */
  contributed = false;
  /** @internal This tick `out` is the room's mix itself (the member added nothing to it and is not on hold). */
  hearsRoom = false;
  readonly #remove: () => void;

  constructor(endpoint: L, options: MemberOptions, remove: () => void) {
    this.endpoint = endpoint;
    this.muted = options.muted ?? false;
    this.hold = options.hold ?? false;
    this.#remove = remove;
  }

  setMuted(muted: boolean): void {
    this.muted = muted;
  }

  setHold(hold: boolean): void {
    this.hold = hold;
  }

  /** Leave the conference (the leg stays up). */
  remove(): void {
    this.#remove();
  }
}

export class Mixer<L extends MixerLeg = MediaEndpoint> extends TypedEmitter<MixerEvents<L>> {
  readonly #clock: MediaClock;
  readonly #holdFactory: () => AudioSource;
  readonly #members = new Map<L, { member: MixerMember<L>; detach: () => void }>();
  // The same members as an array, rebuilt on join/leave, iterated by index on the tick.
  #list: readonly MixerMember<L>[] = [];
  readonly #total = new Int32Array(FRAME_SAMPLES);
  readonly #holdFrame = new Int16Array(FRAME_SAMPLES);
  readonly #announceFrame = new Int16Array(FRAME_SAMPLES);
  readonly #roomFrame = new Int16Array(FRAME_SAMPLES);
  /** The room's mix encoded, per codec, and the mix tick it was encoded on (one entry per codec, made on first use). */
  readonly #roomEncodings = new Map<Codec, { bytes: Uint8Array; length: number; tick: number }>();
  #mixTick = 0;
  #announcement: { source: AudioSource; finish: (result: PlayResult) => void } | undefined;
  #taps: readonly ((frame: Int16Array) => void)[] = [];
  #hold: AudioSource | undefined;
  #unsubscribe: (() => void) | undefined;
  #closed = false;

  constructor(clock: MediaClock, options: MixerOptions = {}) {
    super();
    this.#clock = clock;
    this.#holdFactory = options.holdSource ?? (() => new HoldMusicSource());
  }

  get size(): number {
    return this.#members.size;
  }

  members(): MixerMember<L>[] {
    return [...this.#list];
  }

  /** Add a leg; it hears the room instead of any bridge it was in. */
  add(endpoint: L, options: MemberOptions = {}): MixerMember<L> {
    if (this.#closed) throw new Error('mixer is closed');
    const existing = this.#members.get(endpoint);
    if (existing) return existing.member;
    const member = new MixerMember<L>(endpoint, options, () => this.#remove(endpoint));
    const feed: AudioSource = {
      read(out: Int16Array): boolean {
        out.set(member.out);
        return true;
      },
      // Everyone who hears the room's mix itself sends the same bytes: encoded once per codec and tick.
      encodeInto: (codec, out, offset) => (member.hearsRoom ? this.#roomEncoded(codec, out, offset) : 0),
    };
    const detach = endpoint.attachFeed(feed, () => this.#remove(endpoint));
    this.#members.set(endpoint, { member, detach });
    this.#list = [...this.#list, member];
    this.#unsubscribe ??= this.#clock.add('mix', this.#mix);
    return member;
  }

  /**
   * Play a source to the whole room (not to members on hold), on top of the
   * conversation. Resolves when done, aborted, replaced by another `play`,
   * or when the mixer closes or empties.
   */
  play(source: AudioSource, options: { signal?: AbortSignal } = {}): Promise<PlayResult> {
    if (this.#closed) return Promise.resolve('closed');
    if (options.signal?.aborted) return Promise.resolve('aborted');
    this.#announcement?.finish('replaced');
    return new Promise((resolve) => {
      const signal = options.signal;
      const onAbort = (): void => entry.finish('aborted');
      const entry = {
        source,
        finish: (result: PlayResult): void => {
          if (this.#announcement === entry) this.#announcement = undefined;
          signal?.removeEventListener('abort', onAbort);
          source.close?.();
          resolve(result);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#announcement = entry;
    });
  }

  /**
   * Tap the room: everything audible (all unmuted, not held members plus
   * announcements), once per tick. The buffer is reused; copy what you keep.
   */
  fork(onFrame: (frame: Int16Array) => void): () => void {
    this.#taps = [...this.#taps, onFrame];
    return () => {
      this.#taps = this.#taps.filter((t) => t !== onFrame);
    };
  }

  /** Remove every member and stop. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#announcement?.finish('closed');
    this.#taps = [];
    for (const endpoint of [...this.#members.keys()]) this.#remove(endpoint);
    this.emit('closed');
  }

  #remove(endpoint: L): void {
    const entry = this.#members.get(endpoint);
    if (!entry) return;
    this.#members.delete(endpoint);
    this.#list = this.#list.filter((m) => m !== entry.member);
    entry.detach();
    this.emit('memberLeft', endpoint);
    if (this.#members.size === 0) {
      this.#announcement?.finish('closed');
      this.#unsubscribe?.();
      this.#unsubscribe = undefined;
      this.#hold?.close?.();
      this.#hold = undefined;
    }
  }

  /** `codec` payload of this tick's room mix into `out` at `offset` (encoded on the first ask of the tick); its length. */
  #roomEncoded(codec: Codec, out: Uint8Array, offset: number): number {
    let entry = this.#roomEncodings.get(codec);
    if (!entry) {
      entry = { bytes: new Uint8Array(codec.payloadSize(FRAME_SAMPLES)), length: 0, tick: -1 };
      this.#roomEncodings.set(codec, entry);
    }
    if (entry.tick !== this.#mixTick) {
      entry.length = codec.encode(this.#roomFrame, entry.bytes, 0);
      entry.tick = this.#mixTick;
    }
    return copyPayload(entry.bytes, entry.length, out, offset);
  }

  /** One tick: sum once, then subtract each member's own contribution. */
  readonly #mix = (): void => {
    this.#mixTick++;
    const total = this.#total;
    total.fill(0);
    let anyHold = false;
    const list = this.#list;
    for (let m = 0; m < list.length; m++) {
      const member = list[m];
      if (!member) continue;
      const ep = member.endpoint;
      if (member.hold) anyHold = true;
      member.contributed = false;
      if (member.muted || member.hold || !ep.inboundActive) continue;
      const frame = ep.inboundFrame;
      // Digital silence (members who only listen, on many phones) adds nothing: such a member hears the room's mix itself.
      let any = 0;
      for (let i = 0; i < FRAME_SAMPLES; i++) {
        const x = frame[i] ?? 0;
        total[i] = (total[i] ?? 0) + x;
        any |= x;
      }
      member.contributed = any !== 0;
    }
    if (anyHold) {
      this.#hold ??= this.#holdFactory();
      if (!this.#hold.read(this.#holdFrame)) this.#holdFrame.fill(0);
    }
    // An announcement goes into the total but is nobody's own contribution, so everyone hears it.
    const announcement = this.#announcement;
    if (announcement) {
      let playing = false;
      try {
        playing = announcement.source.read(this.#announceFrame);
        if (!playing) announcement.finish('done');
      } catch {
        announcement.finish('failed');
      }
      if (playing) for (let i = 0; i < FRAME_SAMPLES; i++) total[i] = (total[i] ?? 0) + (this.#announceFrame[i] ?? 0);
    }
    // The room's mix, clipped: what the taps and every member who added nothing hear.
    const room = this.#roomFrame;
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      const v = total[i] ?? 0;
      room[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
    const taps = this.#taps;
    if (taps.length > 0) {
      for (let t = 0; t < taps.length; t++) {
        const tap = taps[t];
        try {
          tap?.(room);
        } catch {
          // A faulty consumer is dropped rather than stalling the room.
          this.#taps = this.#taps.filter((x) => x !== tap);
        }
      }
    }
    for (let m = 0; m < list.length; m++) {
      const member = list[m];
      if (!member) continue;
      const out = member.out;
      member.hearsRoom = !member.hold && !member.contributed;
      if (member.hold) {
        out.set(this.#holdFrame);
        continue;
      }
      if (member.hearsRoom) {
        out.set(room);
        continue;
      }
      const own = member.endpoint.inboundFrame;
      for (let i = 0; i < FRAME_SAMPLES; i++) {
        const v = (total[i] ?? 0) - (own[i] ?? 0);
        out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      }
    }
  };
}
