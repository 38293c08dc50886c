/**
 * Caller → socket without the tick: the caller's packets, decoded as they
 * arrive, are put back in sequence order and cut into 20 ms frames that go
 * to the socket at once (SPEC §19: "as soon as the network allows"). The
 * leg's own jitter buffer (60 ms, for an isochronous playout) is not in
 * this path: a WebSocket consumer does not play the audio out on a clock,
 * so the only buffering it needs is for reordering.
 *
 * The adaptive part is how long a missing packet is waited for: in-order
 * packets never wait; a hole holds the packets behind it for `holdMs`,
 * which starts at 20 ms, grows by 10 ms each time a packet arrives after
 * it was given up (the network reorders more than we waited), up to
 * 100 ms, and shrinks back 5 ms after 10 s without that. A hole given up on
 * is filled with silence so the stream's timing stays whole.
 *
 * While the caller sends nothing (silence suppression, hold), a frame of
 * silence goes out every tick after 60 ms, as the tick path did, so a
 * consumer's voice activity detection still sees the pause.
 *
 * Slots and the frame are allocated once; nothing per packet.
 */
import { seqDiff } from '../rtp/rtp-packet.js';
import { FRAME_SAMPLES } from '../sources/audio-source.js';

/** Packets held behind a hole at most (160 ms of 20 ms packets). */
const SLOTS = 8;
/** Largest packet kept, samples (60 ms at 8 kHz); longer ones are cut. */
const SLOT_SAMPLES = 480;
const MIN_HOLD_MS = 20;
const MAX_HOLD_MS = 100;
const CALM_MS = 10_000;
/** Silence fill starts once nothing arrived for this long. */
const QUIET_MS = 60;

export class ArrivalReorder {
  readonly #onFrame: (frame: Int16Array) => void;
  readonly #slots: Int16Array[];
  readonly #lengths = new Int32Array(SLOTS);
  readonly #seqs = new Int32Array(SLOTS).fill(-1);
  readonly #frame = new Int16Array(FRAME_SAMPLES);
  #fill = 0;
  /** The next sequence number due; -1 before the first packet. */
  #expected = -1;
  /** When the current hole opened (ms), or -1. */
  #holeSince = -1;
  #lastLength = FRAME_SAMPLES;
  #lastArrival = -1;
  #lastQuietFill = 0;
  #lastGrow = Number.NEGATIVE_INFINITY;
  holdMs = MIN_HOLD_MS;
  /** Packets that came after their hole was given up on (or duplicates): dropped. */
  late = 0;
  /** Packets given up on and sent as silence. */
  concealed = 0;

  constructor(onFrame: (frame: Int16Array) => void) {
    this.#onFrame = onFrame;
    this.#slots = Array.from({ length: SLOTS }, () => new Int16Array(SLOT_SAMPLES));
  }

  /** An arriving packet: the first `length` samples of `pcm`, RTP sequence `seq`, at `now` (ms). */
  packet(pcm: Int16Array, length: number, seq: number, now: number): void {
    this.#lastArrival = now;
    if (this.#expected < 0) this.#expected = seq;
    const ahead = seqDiff(seq, this.#expected);
    if (ahead < 0) {
      this.late++;
      if (now - this.#lastGrow > 100) {
        // It came after we gave up on it: wait longer next time.
        this.holdMs = Math.min(MAX_HOLD_MS, this.holdMs + 10);
        this.#lastGrow = now;
      }
      return;
    }
    if (ahead >= SLOTS) {
      // A jump (the far end restarted its sequence, or a long loss): send what is held, start over here.
      this.#flushAll();
      this.#expected = seq;
      this.#emit(pcm, length);
      this.#expected = (seq + 1) & 0xffff;
      return;
    }
    if (ahead === 0) {
      this.#emit(pcm, length);
      this.#expected = (this.#expected + 1) & 0xffff;
      this.#drain(now);
      return;
    }
    const slot = seq % SLOTS;
    const n = Math.min(length, SLOT_SAMPLES);
    const dst = this.#slots[slot] as Int16Array;
    for (let i = 0; i < n; i++) dst[i] = pcm[i] ?? 0;
    this.#lengths[slot] = n;
    this.#seqs[slot] = seq;
    if (this.#holeSince < 0) this.#holeSince = now;
  }

  /** Every media tick: give up on a hole held too long; fill silence while the caller sends nothing. */
  tick(now: number): void {
    if (now - this.#lastGrow > CALM_MS && this.holdMs > MIN_HOLD_MS) {
      this.holdMs = Math.max(MIN_HOLD_MS, this.holdMs - 5);
      this.#lastGrow = now;
    }
    if (this.#holeSince >= 0 && now - this.#holeSince >= this.holdMs) {
      // Conceal the missing packets up to the first one held, then play on from there.
      for (let k = 0; k < SLOTS && this.#seqs[this.#expected % SLOTS] !== this.#expected; k++) {
        this.concealed++;
        this.#silence(this.#lastLength);
        this.#expected = (this.#expected + 1) & 0xffff;
      }
      this.#holeSince = -1;
      this.#drain(now);
      return;
    }
    if (this.#lastArrival >= 0 && this.#holeSince < 0 && now - this.#lastArrival >= QUIET_MS && now - this.#lastQuietFill >= 20) {
      this.#lastQuietFill = now;
      this.#silence(FRAME_SAMPLES - this.#fill);
    }
  }

  /** Send the packets held right behind the expected one, in order. */
  #drain(now: number): void {
    for (;;) {
      const slot = this.#expected % SLOTS;
      if (this.#seqs[slot] !== this.#expected) break;
      this.#seqs[slot] = -1;
      this.#emit(this.#slots[slot] as Int16Array, this.#lengths[slot] ?? 0);
      this.#expected = (this.#expected + 1) & 0xffff;
    }
    let held = false;
    for (let i = 0; i < SLOTS; i++) if (this.#seqs[i] !== -1) held = true;
    this.#holeSince = held ? (this.#holeSince >= 0 ? this.#holeSince : now) : -1;
  }

  #flushAll(): void {
    for (let k = 0; k < SLOTS; k++) {
      const seq = (this.#expected + k) & 0xffff;
      const slot = seq % SLOTS;
      if (this.#seqs[slot] !== seq) continue;
      this.#seqs[slot] = -1;
      this.#emit(this.#slots[slot] as Int16Array, this.#lengths[slot] ?? 0);
    }
    this.#seqs.fill(-1);
    this.#holeSince = -1;
  }

  #emit(pcm: Int16Array, length: number): void {
    this.#lastLength = length;
    const frame = this.#frame;
    for (let i = 0; i < length; i++) {
      frame[this.#fill++] = pcm[i] ?? 0;
      if (this.#fill === FRAME_SAMPLES) {
        this.#fill = 0;
        this.#onFrame(frame);
      }
    }
  }

  #silence(samples: number): void {
    const frame = this.#frame;
    for (let i = 0; i < samples; i++) {
      frame[this.#fill++] = 0;
      if (this.#fill === FRAME_SAMPLES) {
        this.#fill = 0;
        this.#onFrame(frame);
      }
    }
  }
}
