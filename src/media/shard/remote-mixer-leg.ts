/**
 * A conference room's stand-in for a member whose leg lives on another
 * media shard. The leg's shard writes the caller's audio into `fromLeg`
 * (its side is the same link as a bridge across shards); here, each tick,
 * the receive phase takes that frame as this stand-in's inbound audio, the
 * room mixes it like any member's, and the send phase puts what the member
 * should hear into `toLeg`. One tick of delay each way; nothing allocated
 * per frame.
 */
import type { AudioSource } from '../sources/audio-source.js';
import { FRAME_SAMPLES } from '../sources/audio-source.js';
import type { MediaClock } from '../media-clock.js';
import type { MixerLeg } from '../mixer.js';
import { FeedSlot } from '../feed-slot.js';
import { FrameRing } from './frame-ring.js';

export class RemoteMixerLeg implements MixerLeg {
  readonly inboundFrame = new Int16Array(FRAME_SAMPLES);
  inboundActive = false;
  readonly #fromLeg: FrameRing;
  readonly #toLeg: FrameRing;
  readonly #hears = new Int16Array(FRAME_SAMPLES);
  readonly #unsubscribe: (() => void)[];
  readonly #feed = new FeedSlot();
  #closed = false;

  constructor(clock: MediaClock, fromLeg: SharedArrayBuffer, toLeg: SharedArrayBuffer) {
    this.#fromLeg = new FrameRing({ buffer: fromLeg });
    this.#toLeg = new FrameRing({ buffer: toLeg });
    this.#unsubscribe = [
      clock.add('receive', () => {
        this.inboundActive = this.#fromLeg.pop(this.inboundFrame);
      }),
      clock.add('send', () => {
        if (this.#feed.current?.read(this.#hears)) this.#toLeg.push(this.#hears);
      }),
    ];
  }

  /** Same contract as `MediaEndpoint.attachFeed`: replaces (and detaches) a previous feed. */
  attachFeed(feed: AudioSource, onDetach?: () => void): () => void {
    return this.#feed.attach(feed, onDetach);
  }

  /** Stop ticking and let the room go. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#feed.detach();
  }
}
