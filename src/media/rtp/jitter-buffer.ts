/**
 * A fixed-size jitter buffer for one RTP stream (RFC 3550 sequence numbers).
 * Packets are copied into preallocated slots indexed by sequence number, so
 * reordering costs nothing and the 20 ms pull never allocates. Playout starts
 * once `prefetch` packets are queued; packets older than the playout point are
 * dropped as late; a gap at the playout point is reported as a loss so the
 * caller can conceal it.
 */
import { mediaDefaults } from '../media-defaults.js';
import { seqDiff } from './rtp-packet.js';
import { slotBlock } from './slot-block.js';

/** Options for `JitterBuffer`. */
export interface JitterBufferOptions {
  /** Slots (max packets held). Default 32 (640 ms at 20 ms packets). */
  capacity?: number;
  /** Packets buffered before playout starts. Default 3 (60 ms). */
  prefetch?: number;
  /**
   * Largest payload kept, bytes. Default 1280 (160 ms of G.711, 80 ms of L16
   * at 8 kHz). Slots start at `initialPayload` and grow to the largest
   * packet seen, up to this.
   */
  maxPayload?: number;
  /**
   * Slot size to start with, bytes. Default 320: 40 ms of G.711, 20 ms of
   * L16. A larger packet makes every slot grow once (one allocation on the
   * receive path, not per packet); a 20 ms G.711 leg never grows.
   */
  initialPayload?: number;
  /**
   * Packets held beyond which the oldest is discarded at playout, so a far
   * end whose clock runs fast (or a burst after a stall) cannot build up
   * latency. Default prefetch + 5.
   */
  maxDepth?: number;
  /**
   * Pops per window of the delay check: when the buffer held more than
   * `prefetch + 1` packets at every pop of a whole window (the packet due
   * plus a full prefetch is the steady state), one packet is dropped, so delay added by a burst drains back to the prefetch depth
   * (20 ms per window). Default 50 (one second at 20 ms packets).
   */
  shrinkWindow?: number;
  /**
   * When `quietPayload` is set, a due delay drain waits up to this many pops
   * for a quiet packet at the playout point before dropping a loud one.
   * Default 250 (5 s at 20 ms packets).
   */
  maxShrinkWait?: number;
}

/** What `pop` found at the playout point. */
export type PopResult = 'frame' | 'lost' | 'empty';

export class JitterBuffer {
  readonly #capacity: number;
  readonly #prefetch: number;
  readonly #maxDepth: number;
  readonly #shrinkWindow: number;
  readonly #maxShrinkWait: number;
  /** Pops waited for a quiet packet since a drain became due; 0 when none is due. */
  #shrinkWaited = 0;
  #windowPops = 0;
  #windowMin = 0x7fffffff;
  readonly #maxPayload: number;
  #slotSize: number;
  #payloads: Uint8Array[];
  readonly #lengths: Int32Array;
  readonly #seqs: Int32Array;
  readonly #filled: Uint8Array;
  #count = 0;
  #nextSeq = -1;
  #playing = false;
  /** The payload of the last `pop` that returned 'frame' (a slot view; valid until the next push). */
  payload: Uint8Array;
  payloadLength = 0;
  /**
   * Whether a payload is quiet enough to drop unheard (set by the owner, who
   * knows the codec). With it, the delay drain drops a quiet packet when it
   * can, so the caller does not hear 20 ms of speech cut out.
   */
  quietPayload: ((payload: Uint8Array, length: number) => boolean) | undefined;
  /** Counters for RTCP and diagnostics (`shrunk`: packets dropped to bring delay back down). */
  readonly stats = { received: 0, late: 0, duplicate: 0, lost: 0, overflow: 0, discarded: 0, shrunk: 0 };

  constructor(options: JitterBufferOptions = {}) {
    const defaults = mediaDefaults.jitter;
    this.#capacity = options.capacity ?? defaults.capacity;
    this.#prefetch = Math.max(1, Math.min(options.prefetch ?? defaults.prefetch, this.#capacity - 1));
    this.#maxDepth = Math.max(this.#prefetch, Math.min(options.maxDepth ?? this.#prefetch + defaults.maxDepthOverPrefetch, this.#capacity - 1));
    this.#shrinkWindow = Math.max(1, options.shrinkWindow ?? defaults.shrinkWindow);
    this.#maxShrinkWait = Math.max(0, options.maxShrinkWait ?? defaults.maxShrinkWait);
    this.#maxPayload = Math.max(1, options.maxPayload ?? defaults.maxPayload);
    this.#slotSize = Math.max(1, Math.min(options.initialPayload ?? defaults.initialPayload, this.#maxPayload));
    this.#payloads = slotBlock(this.#capacity, this.#slotSize);
    this.#lengths = new Int32Array(this.#capacity);
    this.#seqs = new Int32Array(this.#capacity).fill(-1);
    this.#filled = new Uint8Array(this.#capacity);
    this.payload = this.#payloads[0] ?? new Uint8Array(0);
  }

  /** Packets currently held. */
  get size(): number {
    return this.#count;
  }

  /** Insert a packet's payload (copied). */
  push(sequence: number, data: Uint8Array, offset: number, length: number): void {
    this.stats.received++;
    if (this.#nextSeq >= 0) {
      const d = seqDiff(sequence, this.#nextSeq);
      if (d < 0 && this.#playing) {
        this.stats.late++;
        return;
      }
      if (d >= this.#capacity || d <= -this.#capacity) {
        // The stream jumped (new source, long gap): restart around the new sequence.
        this.stats.overflow++;
        this.reset();
      }
    }
    const slot = sequence % this.#capacity;
    if (this.#filled[slot] && this.#seqs[slot] === sequence) {
      this.stats.duplicate++;
      return;
    }
    if (this.#filled[slot]) this.#count--;
    if (length > this.#slotSize && this.#slotSize < this.#maxPayload) this.#grow(Math.min(length, this.#maxPayload));
    const dest = this.#payloads[slot];
    if (!dest) return;
    const n = Math.min(length, dest.length);
    dest.set(data.subarray(offset, offset + n));
    this.#lengths[slot] = n;
    this.#seqs[slot] = sequence;
    this.#filled[slot] = 1;
    this.#count++;
    // Before playout starts, the earliest packet seen sets the playout point.
    if (this.#nextSeq < 0 || (!this.#playing && seqDiff(sequence, this.#nextSeq) < 0)) this.#nextSeq = sequence;
  }

  /**
   * Take the packet due at this 20 ms tick. 'frame' sets `payload`/`payloadLength`;
   * 'lost' means a gap the caller should conceal; 'empty' means nothing is
   * buffered (before start, or the far end stopped sending).
   */
  pop(): PopResult {
    if (!this.#playing) {
      if (this.#count < this.#prefetch) return 'empty';
      this.#playing = true;
    }
    if (this.#count === 0) {
      // Underrun: wait for the buffer to refill before playing again.
      this.#playing = false;
      return 'empty';
    }
    if (this.#count > this.#maxDepth) this.#discardOldest();
    else this.#drainExcessDelay();
    const slot = this.#nextSeq % this.#capacity;
    this.#nextSeq = (this.#nextSeq + 1) & 0xffff;
    if (this.#filled[slot] && this.#seqs[slot] === (this.#nextSeq - 1 + 0x10000) % 0x10000) {
      this.#filled[slot] = 0;
      this.#count--;
      this.payload = this.#payloads[slot] ?? this.payload;
      this.payloadLength = this.#lengths[slot] ?? 0;
      return 'frame';
    }
    this.stats.lost++;
    return 'lost';
  }

  /**
   * After an underrun the buffer refills to `prefetch` behind the late burst
   * and would keep that extra delay for good. If it never ran down to the
   * prefetch depth through a whole window, the excess is not needed: drop
   * one packet (20 ms) per window until it is — a quiet one when
   * `quietPayload` is set and one comes within `maxShrinkWait` pops.
   */
  #drainExcessDelay(): void {
    if (this.#shrinkWaited > 0) {
      // A drain is due: drop when the packet at the playout point is quiet, or when waiting took too long.
      if (this.#count <= this.#prefetch + 1) this.#shrinkWaited = 0; // the excess went by itself
      else if (this.#headIsQuiet() || ++this.#shrinkWaited > this.#maxShrinkWait) this.#shrink();
      return;
    }
    if (this.#count < this.#windowMin) this.#windowMin = this.#count;
    if (++this.#windowPops < this.#shrinkWindow) return;
    this.#windowPops = 0;
    const due = this.#windowMin > this.#prefetch + 1;
    this.#windowMin = 0x7fffffff;
    if (!due) return;
    if (!this.quietPayload || this.#headIsQuiet()) this.#shrink();
    else this.#shrinkWaited = 1;
  }

  #shrink(): void {
    this.#shrinkWaited = 0;
    this.#discardOldest();
    this.stats.discarded--;
    this.stats.shrunk++;
  }

  /** The packet at the playout point is held and `quietPayload` calls it quiet. */
  #headIsQuiet(): boolean {
    const slot = this.#nextSeq % this.#capacity;
    if (this.#filled[slot] !== 1 || this.#seqs[slot] !== this.#nextSeq) return false;
    return this.quietPayload?.(this.#payloads[slot] ?? new Uint8Array(0), this.#lengths[slot] ?? 0) ?? true;
  }

  /** Skip the playout point past the oldest held packet (and any gap before it). */
  #discardOldest(): void {
    for (let i = 0; i < this.#capacity; i++) {
      const slot = this.#nextSeq % this.#capacity;
      const held = this.#filled[slot] === 1 && this.#seqs[slot] === this.#nextSeq;
      this.#nextSeq = (this.#nextSeq + 1) & 0xffff;
      if (held) {
        this.#filled[slot] = 0;
        this.#count--;
        this.stats.discarded++;
        return;
      }
    }
  }

  /** Bytes of payload storage held (all slots). */
  get allocatedBytes(): number {
    return this.#capacity * this.#slotSize;
  }

  /** Larger packets than the slots hold: move to bigger slots, keeping what is queued. */
  #grow(size: number): void {
    const next = slotBlock(this.#capacity, size);
    for (let i = 0; i < this.#capacity; i++) {
      if (this.#filled[i]) next[i]?.set((this.#payloads[i] ?? new Uint8Array(0)).subarray(0, this.#lengths[i] ?? 0));
    }
    this.#payloads = next;
    this.#slotSize = size;
    // `payload` (the last pop) stays a view of the old block: it is only valid until this push anyway.
  }

  /** Drop everything and wait for a fresh prefetch. */
  reset(): void {
    this.#shrinkWaited = 0;
    this.#windowPops = 0;
    this.#windowMin = 0x7fffffff;
    this.#filled.fill(0);
    this.#seqs.fill(-1);
    this.#count = 0;
    this.#nextSeq = -1;
    this.#playing = false;
  }
}
