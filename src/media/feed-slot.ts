/**
 * The background audio of a leg (what it hears when nothing is played): a
 * bridge's or a conference mixer's feed. One at a time: attaching a feed
 * detaches the previous one, calling its owner's `onDetach` (e.g. so the old
 * bridge closes and its other leg stops hearing this one). Shared by
 * `MediaEndpoint` and a conference's stand-in for a leg on another shard.
 */
import type { AudioSource } from './sources/audio-source.js';

export class FeedSlot {
  /** The attached feed, read on the tick. */
  current: AudioSource | undefined;
  #detachCurrent: (() => void) | undefined;

  /** Attach `feed`, detaching the previous one. Returns a function that removes `feed` (a no-op once replaced). */
  attach(feed: AudioSource, onDetach?: () => void): () => void {
    this.#detachCurrent?.();
    const detach = (): void => {
      if (this.current !== feed) return;
      this.current = undefined;
      this.#detachCurrent = undefined;
      onDetach?.();
    };
    this.current = feed;
    this.#detachCurrent = detach;
    return detach;
  }

  /** Detach whatever is attached. */
  detach(): void {
    this.#detachCurrent?.();
  }
}
