/**
 * Built-in hold music, synthesized: a slow pentatonic melody of soft plucked
 * notes over a quiet two-note pad, looping every 16 beats. Generated sample
 * by sample from a few oscillators and envelopes, so there is no audio file
 * to ship and no licence to track.
 */
import { FRAME_SAMPLES, SAMPLE_RATE, type AudioSource } from './audio-source.js';
import { sinCycles } from './sine-table.js';

// MIDI notes; 0 = rest. C major pentatonic, a calm rising and falling line.
const MELODY = [72, 76, 79, 76, 74, 72, 69, 0, 67, 69, 72, 74, 76, 74, 72, 0];
// One pad chord (root, fifth) per four beats.
const PADS: readonly [number, number][] = [
  [48, 55],
  [45, 52],
  [41, 48],
  [43, 50],
];

const BEAT_SAMPLES = Math.round(SAMPLE_RATE * 0.5);

function hz(midi: number): number {
  return 440 * 2 ** ((midi - 69) / 12);
}

/** Options for `HoldMusicSource`. */
export interface HoldMusicOptions {
  /** Overall level, 0..1. Default 0.5. */
  volume?: number;
  /** Stop after this long. Default: forever. */
  maxMs?: number;
}

export class HoldMusicSource implements AudioSource {
  readonly #volume: number;
  #samplesLeft: number;
  #sample = 0;
  #beat = -1;
  #melodyPhase = 0;
  #melodyStep = 0;
  #melodyEnv = 0;
  #padPhase1 = 0;
  #padPhase2 = 0;
  #padStep1 = 0;
  #padStep2 = 0;
  readonly #decay = Math.exp(-1 / (SAMPLE_RATE * 0.35));

  constructor(options: HoldMusicOptions = {}) {
    this.#volume = Math.max(0, Math.min(1, options.volume ?? 0.5));
    this.#samplesLeft = options.maxMs === undefined ? Infinity : Math.round((options.maxMs * SAMPLE_RATE) / 1000);
  }

  read(out: Int16Array): boolean {
    if (this.#samplesLeft <= 0) return false;
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      const beat = Math.floor(this.#sample / BEAT_SAMPLES) % MELODY.length;
      if (beat !== this.#beat) this.#onBeat(beat);
      const posInBeat = this.#sample % BEAT_SAMPLES;
      // 15 ms attack avoids clicks, then an exponential decay like a soft pluck.
      const attack = posInBeat < 120 ? posInBeat / 120 : 1;
      this.#melodyEnv *= this.#decay;
      const second = 2 * this.#melodyPhase;
      const m = sinCycles(this.#melodyPhase) + 0.25 * sinCycles(second >= 1 ? second - 1 : second);
      const pad = 0.5 * (sinCycles(this.#padPhase1) + sinCycles(this.#padPhase2));
      // Phases are in cycles, wrapped to [0, 1).
      this.#melodyPhase = wrap(this.#melodyPhase + this.#melodyStep);
      this.#padPhase1 = wrap(this.#padPhase1 + this.#padStep1);
      this.#padPhase2 = wrap(this.#padPhase2 + this.#padStep2);
      const v = (m * this.#melodyEnv * attack * 0.6 + pad * 0.15) * this.#volume * 20000;
      out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : Math.round(v);
      this.#sample++;
      if (--this.#samplesLeft <= 0) {
        out.fill(0, i + 1);
        return true;
      }
    }
    return true;
  }

  #onBeat(beat: number): void {
    this.#beat = beat;
    const note = MELODY[beat] ?? 0;
    if (note > 0) {
      this.#melodyStep = hz(note) / SAMPLE_RATE;
      this.#melodyEnv = 1;
    }
    if (beat % 4 === 0) {
      const chord = PADS[beat / 4] ?? PADS[0] ?? [48, 55];
      this.#padStep1 = hz(chord[0]) / SAMPLE_RATE;
      this.#padStep2 = hz(chord[1]) / SAMPLE_RATE;
    }
  }
}

function wrap(phase: number): number {
  return phase >= 1 ? phase - 1 : phase;
}
