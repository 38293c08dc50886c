/**
 * Answering machine detection (SPEC §17) on the callee's audio, one 20 ms
 * frame at a time. No external service: energy-based voice activity, the
 * classic cadence rules (initial silence, greeting length, silence after
 * the greeting, word count, as Asterisk's AMD() and the carriers' AMD use
 * them), a steady-tone detector for the voicemail beep, and the fax tones.
 *
 * Voice activity: a frame is voiced when its energy is 10 dB over the noise
 * floor and over an absolute -50 dBFS. The floor is the quietest frame of
 * the last 0.5–1 s (minimum statistics in two 0.5 s blocks): it follows
 * stationary line noise within a second and is not pulled up by speech,
 * whose syllables always dip within a second.
 *
 * Words: 100 ms of voiced frames make a word; 100 ms without voice ends it.
 * The greeting is everything from the first word until 800 ms of silence.
 *
 * The rules, in the order they are tried each frame:
 *  - a tone of 1100 Hz (CNG, sent by a calling fax: 0.5 s on, 3 s off) or
 *    2100 Hz (CED, sent by an answering fax) for 360 ms before anyone spoke:
 *    `fax`.
 *  - 5 s without a word (Twilio's default silence timeout): `unknown`; an
 *    answering machine speaks first, a person who picks up says something.
 *  - a greeting longer than 2.4 s (a person's "Hello?", "Hello, John
 *    speaking" takes 0.5–2 s; a voicemail greeting 3–15 s; 2.4 s is the
 *    figure the carriers' AMD uses), or 4 words before a pause: a machine.
 *  - a steady tone of 400–2000 Hz for 100 ms after speech (the beep): a
 *    machine, whose greeting just ended.
 *  - 800 ms of silence after a shorter greeting: `human` (decided within
 *    about 1 s of the end of their "Hello?").
 *  - the timeout: `unknown` (or `machine_start` once a machine was heard).
 *
 * With `DetectMessageEnd` a machine is followed until its greeting ends: the
 * end of the beep (`machine_end_beep`) or 1.5 s of silence without one
 * (`machine_end_silence`), so a message played then lands in the mailbox.
 *
 * `push` allocates nothing; the result object is made once, at the decision.
 */
import type { AnsweredBy, MachineDetectionMode } from '../../shared/answered-by.js';
import { ToneMeter } from './tone-meter.js';

export type { AnsweredBy, MachineDetectionMode };

/** Why the detector decided as it did. */
export type MachineDetectionReason =
  | 'short_greeting' | 'long_greeting' | 'many_words' | 'beep' | 'end_silence' | 'fax_tone' | 'initial_silence' | 'timeout' | 'closed' | 'aborted';

/** The decision and the measurements behind it (plain data: it crosses from a media worker). */
export interface MachineDetectionResult {
  answeredBy: AnsweredBy;
  reason: MachineDetectionReason;
  /** From the start of listening to the decision. */
  decidedAfterMs: number;
  /** Silence before the first word (all of it, when nobody spoke). */
  initialSilenceMs: number;
  /** From the first word to the last voiced frame heard; 0 when nobody spoke. */
  greetingMs: number;
  words: number;
  /** When the greeting was judged a machine's (DetectMessageEnd waits longer). */
  machineAfterMs?: number;
  /** The beep: its frequency and length. */
  beepHz?: number;
  beepMs?: number;
  /** The fax tone's frequency. */
  toneHz?: number;
  /** The noise floor at the decision, dBFS. */
  noiseFloorDb: number;
}

/** The thresholds (ms unless named otherwise); the defaults are the reasoned ones above. */
export const machineDetectionThresholds = {
  initialSilenceMs: 5000,
  greetingMs: 2400,
  afterGreetingSilenceMs: 800,
  endSilenceMs: 1500,
  minWordMs: 100,
  betweenWordsMs: 100,
  maxWords: 4,
  voiceMarginDb: 10,
  minVoiceDbfs: -50,
  beepMinMs: 100,
  beepMinHz: 400,
  beepMaxHz: 2000,
  faxToneMs: 360,
  /** Frames count as one steady tone while their frequency stays this close to the tone's. */
  toneToleranceHz: 25,
  minTonePurity: 0.6,
} as const;

const FRAME_MS = 20;
const FLOOR_BLOCK = 25;
/** dB of a full-scale sine's mean square (int16): energies are reported relative to it (dBFS). */
const FULL_SCALE_DB = 10 * Math.log10((32767 * 32767) / 2);
const FAX_TOLERANCE_HZ = 60;

/** CNG (1100 Hz, from a calling fax) or CED (2100 Hz, from an answering one). */
function isFaxTone(hz: number): boolean {
  return Math.abs(hz - 1100) <= FAX_TOLERANCE_HZ || Math.abs(hz - 2100) <= FAX_TOLERANCE_HZ;
}

const frames = (ms: number): number => Math.max(1, Math.round(ms / FRAME_MS));

export class MachineDetector {
  readonly #mode: MachineDetectionMode;
  readonly #timeoutFrames: number;
  readonly #tone = new ToneMeter();
  /** Mean square of a frame at the -50 dBFS voice and tone floor. */
  readonly #minToneEnergy = 10 ** ((machineDetectionThresholds.minVoiceDbfs + FULL_SCALE_DB) / 10);
  #frame = 0;
  #decided: MachineDetectionResult | undefined;
  // Noise floor: minimum frame energy (dB) of the current and previous 0.5 s block.
  #blockMin = Infinity;
  #previousBlockMin = Infinity;
  #floorDb = -Infinity;
  // Words and greeting.
  #candidateVoiced = 0;
  #candidateStart = -1;
  #inWord = false;
  #words = 0;
  #greetingStart = -1;
  #lastVoiced = -1;
  #silentRun = 0;
  #machineAt = -1;
  // The current steady tone.
  #toneRun = 0;
  #toneHz = 0;

  constructor(options: { mode: MachineDetectionMode; timeoutMs: number }) {
    this.#mode = options.mode;
    this.#timeoutFrames = frames(options.timeoutMs);
  }

  /** The decision, once made. */
  get result(): MachineDetectionResult | undefined {
    return this.#decided;
  }

  /** One 20 ms frame of the callee's audio; true once decided (further frames are ignored). */
  push(frame: Int16Array, length = frame.length): boolean {
    if (this.#decided) return true;
    const t = machineDetectionThresholds;
    const n = this.#frame++;
    // One pass gives the energy and the zero crossings; the tone's Goertzel pass runs only on frames loud enough to be a beep.
    this.#tone.measure(frame, length, this.#minToneEnergy * length);
    const db = 10 * Math.log10(this.#tone.energy / Math.max(1, length) + 1) - FULL_SCALE_DB;
    this.#trackFloor(db);
    const tonal = db > t.minVoiceDbfs && this.#tone.purity >= t.minTonePurity;
    const toneEnded = this.#trackTone(tonal);
    const voiced = !tonal && db > t.minVoiceDbfs && db > this.#floorDb + t.voiceMarginDb;
    this.#trackWords(voiced, n);

    if (this.#words === 0 && this.#toneRun >= frames(t.faxToneMs) && isFaxTone(this.#toneHz)) {
      return this.#decide('fax', 'fax_tone', { toneHz: Math.round(this.#toneHz) });
    }
    const beepFrames = frames(t.beepMinMs);
    const beepHeard = this.#greetingStart >= 0 && this.#toneRun >= beepFrames && this.#toneHz >= t.beepMinHz && this.#toneHz <= t.beepMaxHz;
    const beepEnded = toneEnded > 0 && this.#greetingStart >= 0;
    if (this.#machineAt < 0) {
      if (this.#greetingStart < 0) {
        if (n + 1 >= frames(t.initialSilenceMs)) return this.#decide('unknown', 'initial_silence');
      } else if (this.#greetingFrames() >= frames(t.greetingMs)) {
        if (this.#machine(n, 'long_greeting')) return true;
      } else if (this.#words >= t.maxWords) {
        if (this.#machine(n, 'many_words')) return true;
      } else if (beepHeard) {
        if (this.#machine(n, 'beep')) return true;
      } else if (this.#toneRun === 0 && this.#silentRun >= frames(t.afterGreetingSilenceMs)) {
        return this.#decide('human', 'short_greeting');
      }
    } else {
      // DetectMessageEnd: the greeting ends with the beep (decided when it stops, so what follows is recorded) or with silence.
      if (beepEnded) return this.#decide('machine_end_beep', 'beep', { beepHz: Math.round(this.#toneHz), beepMs: toneEnded * FRAME_MS });
      if (this.#toneRun === 0 && this.#silentRun >= frames(t.endSilenceMs)) return this.#decide('machine_end_silence', 'end_silence');
    }
    if (n + 1 >= this.#timeoutFrames) return this.#decide(this.#machineAt >= 0 ? 'machine_start' : 'unknown', 'timeout');
    return false;
  }

  /** Ends listening without a decision from the audio (the leg closed, or the caller stopped it). */
  stop(reason: 'closed' | 'aborted'): MachineDetectionResult {
    if (!this.#decided) this.#decide(this.#machineAt >= 0 ? 'machine_start' : 'unknown', reason);
    return this.#decided!;
  }

  /** The greeting is a machine's: `Enable` says so now, `DetectMessageEnd` waits for its end. */
  #machine(n: number, reason: MachineDetectionReason): boolean {
    this.#machineAt = n;
    if (this.#mode === 'Enable') return this.#decide('machine_start', reason);
    // A beep already heard ends the greeting as soon as it stops.
    return false;
  }

  #greetingFrames(): number {
    return this.#greetingStart < 0 ? 0 : this.#lastVoiced - this.#greetingStart + 1;
  }

  #trackFloor(db: number): void {
    if (db < this.#blockMin) this.#blockMin = db;
    if (this.#frame % FLOOR_BLOCK === 0) {
      this.#previousBlockMin = this.#blockMin;
      this.#blockMin = Infinity;
    }
    this.#floorDb = Math.min(this.#blockMin, this.#previousBlockMin);
  }

  /** Follows the current steady tone; returns its length in frames on the frame it ended (0 otherwise). */
  #trackTone(tonal: boolean): number {
    const t = machineDetectionThresholds;
    const hz = this.#tone.frequency;
    if (tonal && this.#toneRun > 0 && Math.abs(hz - this.#toneHz) <= t.toneToleranceHz) {
      // A running mean: the estimate of each frame wobbles by a few Hz.
      this.#toneRun++;
      this.#toneHz += (hz - this.#toneHz) / this.#toneRun;
      return 0;
    }
    const ended = this.#toneRun >= frames(t.beepMinMs) && this.#toneHz >= t.beepMinHz && this.#toneHz <= t.beepMaxHz ? this.#toneRun : 0;
    if (ended > 0 && !tonal) {
      // Keep the ended tone's frequency for the report; the run is over.
      this.#toneRun = 0;
      return ended;
    }
    this.#toneRun = tonal ? 1 : 0;
    this.#toneHz = tonal ? hz : 0;
    return ended;
  }

  #trackWords(voiced: boolean, n: number): void {
    const t = machineDetectionThresholds;
    if (voiced) {
      this.#silentRun = 0;
      this.#lastVoiced = n;
      if (this.#inWord) return;
      if (this.#candidateVoiced === 0) this.#candidateStart = n;
      if (++this.#candidateVoiced >= frames(t.minWordMs)) {
        this.#inWord = true;
        this.#words++;
        if (this.#greetingStart < 0) this.#greetingStart = this.#candidateStart;
      }
      return;
    }
    this.#silentRun++;
    if (this.#silentRun >= frames(t.betweenWordsMs)) {
      this.#inWord = false;
      this.#candidateVoiced = 0;
    }
  }

  #decide(answeredBy: AnsweredBy, reason: MachineDetectionReason, extra: { beepHz?: number; beepMs?: number; toneHz?: number } = {}): true {
    const spoke = this.#greetingStart >= 0;
    this.#decided = {
      answeredBy, reason, decidedAfterMs: this.#frame * FRAME_MS,
      initialSilenceMs: (spoke ? this.#greetingStart : this.#frame) * FRAME_MS,
      greetingMs: this.#greetingFrames() * FRAME_MS, words: this.#words,
      ...(this.#machineAt >= 0 ? { machineAfterMs: (this.#machineAt + 1) * FRAME_MS } : {}),
      ...extra,
      noiseFloorDb: Number.isFinite(this.#floorDb) ? Math.round(this.#floorDb * 10) / 10 : -120,
    };
    return true;
  }
}
