/**
 * What the caller of a `dial` hears while its targets ring (SPEC §13): our
 * ringback, or — once a target's carrier answers 183 with SDP — that leg's
 * own media (its ringing tone or announcement), bridged to the caller until
 * the answer. If that leg fails while others still ring, the bridge goes and
 * our ringback comes back.
 *
 * ```
 *  ringback --earlyMedia(leg)--> early(leg) --leg ended--> ringback
 *      \                             |
 *       \------------ stop() --------+--> stopped
 * ```
 */
import type { CallMedia, MediaBackend, MediaBridge } from '../media/call-media.js';
import type { LiveCall } from './live-call.js';

type ProgressState = 'ringback' | 'early' | 'stopped';

export class DialProgress {
  readonly #caller: CallMedia;
  readonly #media: MediaBackend;
  readonly #signal: AbortSignal;
  #state: ProgressState = 'ringback';
  #ringback: AbortController | undefined;
  #early: { leg: LiveCall; bridge: Promise<MediaBridge | undefined> } | undefined;
  readonly #unlisten: Array<() => void> = [];

  constructor(caller: CallMedia, media: MediaBackend, signal: AbortSignal) {
    this.#caller = caller;
    this.#media = media;
    this.#signal = signal;
  }

  /** Starts the ringback and listens for early media on every ringing leg. */
  start(legs: readonly LiveCall[]): void {
    this.#playRingback();
    for (const leg of legs) {
      const onEarly = (): void => this.#toEarly(leg);
      const onEnded = (): void => this.#legEnded(leg);
      leg.leg.on('earlyMedia', onEarly);
      leg.leg.on('ended', onEnded);
      this.#unlisten.push(() => {
        leg.leg.off('earlyMedia', onEarly);
        leg.leg.off('ended', onEnded);
      });
      if (leg.leg.earlyMedia) this.#toEarly(leg);
    }
  }

  /** The dial is decided (answered, or nobody did): ringback and early bridge end. Idempotent. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    for (const unlisten of this.#unlisten.splice(0)) unlisten();
    this.#ringback?.abort();
    await this.#closeEarly();
  }

  #playRingback(): void {
    const ringback = new AbortController();
    this.#ringback = ringback;
    void this.#caller.playTone('ringback-uk', { loop: true, signal: AbortSignal.any([ringback.signal, this.#signal]) }).catch(() => undefined);
  }

  #toEarly(leg: LiveCall): void {
    // Only one far end is heard: the first whose 183 brought media.
    if (this.#state !== 'ringback') return;
    this.#state = 'early';
    this.#ringback?.abort();
    this.#early = { leg, bridge: this.#media.bridge(this.#caller, leg.leg.media).catch(() => undefined) };
  }

  #legEnded(leg: LiveCall): void {
    if (this.#state !== 'early' || this.#early?.leg !== leg) return;
    this.#state = 'ringback';
    void this.#closeEarly();
    this.#playRingback();
  }

  async #closeEarly(): Promise<void> {
    const early = this.#early;
    this.#early = undefined;
    (await early?.bridge)?.close();
  }
}
