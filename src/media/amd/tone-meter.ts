/**
 * Is this 20 ms frame one steady tone, and at what frequency? Used for the
 * voicemail beep and the fax calling tone. Zero crossings (interpolated
 * between samples, rising edges only) estimate the frequency to a few Hz;
 * a Goertzel filter at that frequency then measures how much of the frame's
 * energy it holds (`purity`, 0..1). A sine scores near 1; speech, whose
 * energy spreads over harmonics and formants, and noise score far lower.
 * Fixed state, no allocation per frame.
 */
export class ToneMeter {
  readonly #sampleRate: number;
  /** Estimated frequency of the last frame (Hz); 0 when it had too few crossings. */
  frequency = 0;
  /** Share of the last frame's energy at `frequency` (0..1). */
  purity = 0;

  constructor(sampleRate = 8000) {
    this.#sampleRate = sampleRate;
  }

  /** Sum of squares of the last frame's samples (its energy, for the caller's voice activity). */
  energy = 0;

  /**
   * Measure `frame` (its first `length` samples). The Goertzel pass runs
   * only when the frame is louder than `minEnergy` (sum of squares) and has
   * a frequency: quiet frames cost one pass.
   */
  measure(frame: Int16Array, length: number, minEnergy = 0): void {
    this.frequency = 0;
    this.purity = 0;
    let energy = 0;
    let first = -1;
    let last = -1;
    let crossings = 0;
    let previous = frame[0] ?? 0;
    energy += previous * previous;
    for (let i = 1; i < length; i++) {
      const sample = frame[i] ?? 0;
      energy += sample * sample;
      if (previous < 0 && sample >= 0) {
        // Where the line between the two samples crosses zero: sub-sample timing keeps the estimate within a few Hz.
        const at = i - 1 + -previous / (sample - previous);
        if (first < 0) first = at;
        last = at;
        crossings++;
      }
      previous = sample;
    }
    this.energy = energy;
    if (energy <= minEnergy || energy <= 0) return;
    // Three rising crossings are two full periods: the fewest that give a frequency (150 Hz in a 20 ms frame at 8 kHz).
    if (crossings < 3 || last <= first) return;
    const frequency = ((crossings - 1) * this.#sampleRate) / (last - first);
    const coeff = 2 * Math.cos((2 * Math.PI * frequency) / this.#sampleRate);
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < length; i++) {
      const s0 = (frame[i] ?? 0) + coeff * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    // A sine of amplitude A: power ≈ (N·A/2)², energy ≈ N·A²/2, so 2·power/(N·energy) ≈ 1.
    this.frequency = frequency;
    this.purity = Math.min(1, (2 * power) / (length * energy));
  }
}
