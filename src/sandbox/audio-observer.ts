import { FRAME_SAMPLES } from '../media/sources/audio-source.js';

/** Frames whose mean absolute sample is above this are "audio" (about -45 dBFS). */
const audioThreshold = 200;
/** A beep is the platform's 1000 Hz tone holding most of the energy for at least this many frames (160 ms). */
const beepMinFrames = 8;
const beepHz = 1000;
const coeff = 2 * Math.cos((2 * Math.PI * beepHz) / 8000);

/**
 * What a sandbox phone hears: seconds of audio (any frame above the noise
 * floor) and beeps (runs of a dominant 1000 Hz tone). Runs per 20 ms frame
 * without allocating.
 */
export class AudioObserver {
  audioFrames = 0;
  beeps = 0;
  #toneRun = 0;
  #lastAudioAt = 0;

  get audioSeconds(): number {
    return Math.round((this.audioFrames * FRAME_SAMPLES) / 800) / 10;
  }

  /** performance.now() of the last frame with audio. */
  get lastAudioAt(): number {
    return this.#lastAudioAt;
  }

  observe(frame: Int16Array): void {
    let sumAbs = 0;
    let energy = 0;
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < frame.length; i++) {
      const x = frame[i]!;
      sumAbs += x < 0 ? -x : x;
      energy += x * x;
      const s0 = x + coeff * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    if (sumAbs / frame.length < audioThreshold) {
      this.#endToneRun();
      return;
    }
    this.audioFrames += 1;
    this.#lastAudioAt = performance.now();
    // Goertzel power at 1000 Hz, scaled to compare with the frame's energy.
    const power = (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (frame.length / 2);
    if (power > 0.6 * energy) this.#toneRun += 1;
    else this.#endToneRun();
  }

  #endToneRun(): void {
    if (this.#toneRun >= beepMinFrames) this.beeps += 1;
    this.#toneRun = 0;
  }

  /** Counts a beep still sounding when the call ends. */
  finish(): void {
    this.#endToneRun();
  }
}
