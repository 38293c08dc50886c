/**
 * A single-producer, single-consumer ring of 20 ms frames in a
 * `SharedArrayBuffer`: how audio crosses between two media shards (worker
 * threads) without a message per frame. The writer's shard pushes a frame
 * in its tick; the reader's shard pops one in its own tick. No locks: each
 * side only advances its own counter, with `Atomics` making the frame's
 * samples visible before the counter that publishes them.
 *
 * The two shards' clocks tick at the same rate but not in phase, and one
 * may stall; so the reader keeps the ring shallow (`maxDepth`: older
 * frames are skipped, bounding the added delay) and a full ring drops the
 * newest frame rather than block the writer.
 */
import { FRAME_SAMPLES } from '../sources/audio-source.js';

const HEADER_INTS = 2; // [frames written, frames read], uint32 counters that wrap
const DEFAULT_SLOTS = 8;

export class FrameRing {
  readonly buffer: SharedArrayBuffer;
  readonly #counters: Int32Array;
  readonly #frames: Int16Array;
  readonly #slots: number;
  readonly #maxDepth: number;
  /** Frames the writer dropped because the ring was full / the reader skipped to stay shallow. */
  readonly stats = { dropped: 0, skipped: 0 };

  /**
   * A new ring (`slots` frames), or a view of one another thread made, from
   * its `buffer`. `maxDepth`: frames the reader lets wait before skipping
   * the oldest. Default 3 (60 ms).
   */
  constructor(from: { slots?: number; buffer?: SharedArrayBuffer; maxDepth?: number } = {}) {
    const slots = from.buffer ? (from.buffer.byteLength - HEADER_INTS * 4) / (FRAME_SAMPLES * 2) : (from.slots ?? DEFAULT_SLOTS);
    if (!Number.isInteger(slots) || slots < 2) throw new RangeError('a frame ring needs at least two slots');
    this.buffer = from.buffer ?? new SharedArrayBuffer(HEADER_INTS * 4 + slots * FRAME_SAMPLES * 2);
    this.#counters = new Int32Array(this.buffer, 0, HEADER_INTS);
    this.#frames = new Int16Array(this.buffer, HEADER_INTS * 4, slots * FRAME_SAMPLES);
    this.#slots = slots;
    this.#maxDepth = Math.max(1, Math.min(from.maxDepth ?? 3, slots));
  }

  /** Frames waiting to be read. */
  get size(): number {
    return (Atomics.load(this.#counters, 0) - Atomics.load(this.#counters, 1)) >>> 0;
  }

  /** Writer side: append one frame. False (and the frame dropped) when the ring is full. */
  push(frame: Int16Array): boolean {
    const written = Atomics.load(this.#counters, 0);
    const read = Atomics.load(this.#counters, 1);
    if ((written - read) >>> 0 >= this.#slots) {
      this.stats.dropped++;
      return false;
    }
    const slot = (written >>> 0) % this.#slots;
    this.#frames.set(frame.subarray(0, FRAME_SAMPLES), slot * FRAME_SAMPLES);
    // Publishing the counter after the samples: the reader never sees a half-written frame.
    Atomics.store(this.#counters, 0, (written + 1) | 0);
    return true;
  }

  /** Reader side: take the oldest frame into `out`. False when none is waiting. */
  pop(out: Int16Array): boolean {
    const written = Atomics.load(this.#counters, 0);
    let read = Atomics.load(this.#counters, 1);
    let waiting = (written - read) >>> 0;
    if (waiting === 0) return false;
    if (waiting > this.#maxDepth) {
      // The writer got ahead (its clock ran while ours stalled): skip to the newest maxDepth frames.
      this.stats.skipped += waiting - this.#maxDepth;
      read = (read + waiting - this.#maxDepth) | 0;
      waiting = this.#maxDepth;
    }
    const slot = (read >>> 0) % this.#slots;
    out.set(this.#frames.subarray(slot * FRAME_SAMPLES, (slot + 1) * FRAME_SAMPLES));
    Atomics.store(this.#counters, 1, (read + 1) | 0);
    return true;
  }
}
