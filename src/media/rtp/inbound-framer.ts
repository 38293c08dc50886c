/**
 * Turns the packets of the jitter buffer into the 20 ms frames of the media
 * clock, whatever the far end's packetization (ptime 10, 20, 30, 40...):
 * decoded packets go into a small FIFO and each tick takes 160 samples,
 * pulling as many packets as that needs. A lost packet is concealed with the
 * last packet repeated at half the level each time (three times at most,
 * then silence of the same length, so timing is kept). Fixed buffers, sized
 * for packets up to 40 ms and grown once if longer ones arrive.
 */
import type { Codec } from '../codecs/codec.js';
import type { JitterBuffer, PopResult } from './jitter-buffer.js';

const FRAME = 160;
/** Samples per packet the buffers start with (40 ms); they grow once for longer packets. */
const INITIAL_PACKET_SAMPLES = 320;

export class InboundFramer {
  #fifo = new Int16Array(FRAME + INITIAL_PACKET_SAMPLES);
  #decoded = new Int16Array(INITIAL_PACKET_SAMPLES);
  #last = new Int16Array(INITIAL_PACKET_SAMPLES);
  #length = 0;
  #lastLength = 0;
  #concealed = 0;
  /**
   * The last `next` decoded exactly one whole packet into its frame: the
   * jitter buffer's `payload` (its first `payloadLength` bytes) is that
   * frame encoded, until the next packet arrives.
   */
  verbatim = false;

  /**
   * Fill `out` (160 samples) for this tick. Returns true when it holds the
   * far end's audio (received or concealed), false for silence because
   * nothing is arriving.
   */
  next(jitter: JitterBuffer, codec: Codec, out: Int16Array): boolean {
    // The usual case, nothing queued and a 20 ms packet due: decode it straight into `out`, no FIFO round trip.
    this.verbatim = false;
    let result: PopResult = this.#length === 0 ? jitter.pop() : 'empty';
    if (result === 'frame' && jitter.payloadLength === codec.payloadSize(FRAME)) {
      const n = codec.decode(jitter.payload, 0, jitter.payloadLength, out);
      this.#keepLast(out, n);
      if (n === FRAME) {
        this.verbatim = true;
        return true;
      }
      this.#append(out, n, 1);
      result = 'empty';
    }
    if (result !== 'empty' || this.#length > 0) {
      // Anything else takes the FIFO: packets of other sizes, losses, a remainder queued from the last tick.
      for (;;) {
        if (result === 'frame') {
          // A payload byte decodes to at most one sample (G.711; L16 takes two).
          if (jitter.payloadLength > this.#decoded.length) this.#grow(jitter.payloadLength);
          const n = codec.decode(jitter.payload, 0, jitter.payloadLength, this.#decoded);
          this.#keepLast(this.#decoded, n);
          this.#append(this.#decoded, n, 1);
        } else if (result === 'lost') {
          const n = this.#lastLength > 0 ? this.#lastLength : FRAME;
          this.#concealed++;
          this.#append(this.#last, n, this.#concealed <= 3 ? 1 / (1 << this.#concealed) : 0);
        }
        if (this.#length >= FRAME) break;
        result = jitter.pop();
        if (result === 'empty') break;
      }
    }
    if (this.#length < FRAME) {
      // Underrun: the stream paused or ended. Drop the remainder rather than play it late.
      out.fill(0);
      this.#length = 0;
      return false;
    }
    out.set(this.#fifo.subarray(0, FRAME));
    this.#fifo.copyWithin(0, FRAME, this.#length);
    this.#length -= FRAME;
    return true;
  }

  /** Remember the packet just decoded (`n` samples of `from`) for concealment. */
  #keepLast(from: Int16Array, n: number): void {
    const last = this.#last;
    if (n === from.length) last.set(from);
    else for (let i = 0; i < n; i++) last[i] = from[i] ?? 0;
    this.#lastLength = n;
    this.#concealed = 0;
  }

  /** Room for packets of `samples` samples, keeping what is queued and the last packet. */
  #grow(samples: number): void {
    const fifo = new Int16Array(FRAME + samples);
    fifo.set(this.#fifo.subarray(0, this.#length));
    const last = new Int16Array(samples);
    last.set(this.#last.subarray(0, this.#lastLength));
    this.#fifo = fifo;
    this.#last = last;
    this.#decoded = new Int16Array(samples);
  }

  reset(): void {
    this.#length = 0;
    this.#lastLength = 0;
    this.#concealed = 0;
  }

  #append(src: Int16Array, n: number, gain: number): void {
    const fifo = this.#fifo;
    const count = Math.min(n, fifo.length - this.#length);
    if (gain === 1) {
      fifo.set(src.subarray(0, count), this.#length);
    } else {
      for (let i = 0; i < count; i++) fifo[this.#length + i] = (src[i] ?? 0) * gain;
    }
    this.#length += count;
  }
}
