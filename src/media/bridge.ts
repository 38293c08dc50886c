/**
 * Two legs back to back: each hears the other's inbound audio. Audio crosses
 * as PCM, so legs on different codecs (PCMU on one, PCMA on the other) are
 * transcoded for free by each leg's own encoder; between legs of one codec a
 * whole 20 ms packet is forwarded as it arrived. Closing either leg, or the
 * bridge, unbridges both; a leg's own `play`/`inject` still takes priority
 * over bridged audio (whisper, announcements).
 */
import { TypedEmitter } from '../shared/typed-emitter.js';
import type { MediaEndpoint } from './endpoint.js';
import type { AudioSource } from './sources/audio-source.js';

export type BridgeEvents = {
  closed: [];
};

/**
 * Hears a leg's inbound audio of the current tick. Where both legs use the
 * same codec the packet itself goes on (`encodeInto`): no encode, and the
 * far end gets the bytes as sent; the PCM is still read for taps and recorders.
 */
function inboundOf(endpoint: MediaEndpoint): AudioSource {
  return {
    read(out: Int16Array): boolean {
      if (!endpoint.inboundActive) return false;
      out.set(endpoint.inboundFrame);
      return true;
    },
    encodeInto: (codec, out, offset) => endpoint.copyInboundPayload(codec, out, offset),
  };
}

export class Bridge extends TypedEmitter<BridgeEvents> {
  readonly a: MediaEndpoint;
  readonly b: MediaEndpoint;
  readonly #detach: (() => void)[] = [];
  #closed = false;

  constructor(a: MediaEndpoint, b: MediaEndpoint) {
    super();
    if (a === b) throw new Error('cannot bridge a leg to itself');
    this.a = a;
    this.b = b;
    this.#detach.push(a.attachFeed(inboundOf(b), () => this.close()));
    this.#detach.push(b.attachFeed(inboundOf(a), () => this.close()));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Unbridge. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const detach of this.#detach) detach();
    this.emit('closed');
  }
}

/** Bridge two open legs. */
export function bridge(a: MediaEndpoint, b: MediaEndpoint): Bridge {
  return new Bridge(a, b);
}
