/**
 * Builds the binary frames we send: each 20 ms media frame of the chosen
 * track(s), resampled to the stream's rate, as 16-bit little-endian PCM —
 * mono for one track, interleaved stereo (left = caller, right = what the
 * caller hears) for both, or both summed to mono ("mixed"). Runs on the media tick, so everything is
 * allocated here once and reused for every frame.
 */
import { endianness } from 'node:os';
import { FRAME_SAMPLES } from '../sources/audio-source.js';
import { FrameUpsampler } from './fir-resampler.js';
import type { StreamSampleRate, StreamTrack } from './stream-protocol.js';

const BIG_ENDIAN_HOST = endianness() === 'BE';

export class UplinkFramer {
  /** The frame to send; overwritten by the next one (`ws.send` copies it). */
  readonly frame: Buffer;
  readonly #samples: Int16Array;
  readonly #track: StreamTrack;
  readonly #left: FrameUpsampler;
  readonly #right: FrameUpsampler | undefined;
  /** For "mixed": the caller's 8 kHz frame of this tick, summed with what the caller hears. */
  readonly #mix: Int16Array | undefined;

  constructor(track: StreamTrack, rate: StreamSampleRate, mixed = false) {
    const factor = (rate / 8000) as 1 | 2 | 3;
    const summed = mixed && track === 'both_tracks';
    const channels = track === 'both_tracks' && !summed ? 2 : 1;
    const samples = FRAME_SAMPLES * factor * channels;
    // Buffer.alloc never hands out a slice of the shared pool, so the Int16Array view is aligned.
    this.frame = Buffer.alloc(samples * 2);
    this.#samples = new Int16Array(this.frame.buffer, this.frame.byteOffset, samples);
    this.#track = track;
    this.#left = new FrameUpsampler(factor, FRAME_SAMPLES);
    this.#right = channels === 2 ? new FrameUpsampler(factor, FRAME_SAMPLES) : undefined;
    this.#mix = summed ? new Int16Array(FRAME_SAMPLES) : undefined;
  }

  get frameBytes(): number {
    return this.frame.length;
  }

  /** The caller's frame of this tick (receive phase). True when `frame` is ready to send. */
  inbound(pcm: Int16Array): boolean {
    if (this.#track === 'outbound_track') return false;
    if (this.#mix) {
      for (let i = 0; i < FRAME_SAMPLES; i++) this.#mix[i] = pcm[i] ?? 0;
      return false; // summed with the outbound half later in the same tick
    }
    if (this.#track === 'both_tracks') {
      this.#left.process(pcm, this.#samples, 0, 2);
      return false; // completed by the outbound half later in the same tick
    }
    this.#left.process(pcm, this.#samples);
    return this.#finish();
  }

  /** What the caller hears this tick (send phase). True when `frame` is ready to send. */
  outbound(pcm: Int16Array): boolean {
    if (this.#track === 'inbound_track') return false;
    const mix = this.#mix;
    if (mix) {
      for (let i = 0; i < FRAME_SAMPLES; i++) {
        const v = (mix[i] ?? 0) + (pcm[i] ?? 0);
        mix[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      }
      this.#left.process(mix, this.#samples);
      return this.#finish();
    }
    if (this.#right) this.#right.process(pcm, this.#samples, 1, 2);
    else this.#left.process(pcm, this.#samples);
    return this.#finish();
  }

  #finish(): boolean {
    if (BIG_ENDIAN_HOST) this.frame.swap16(); // the wire is little-endian whatever the host
    return true;
  }
}
