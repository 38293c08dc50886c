/**
 * Generated tones: beep, ringback, busy and DTMF digits. A tone is a cadence
 * of segments, each a set of frequencies played for some ms (or silence);
 * samples are computed on the fly from phase accumulators, so a tone costs
 * no memory and never allocates per frame.
 */
import { digitFrequencies, isDtmfDigit } from '../dtmf/digits.js';
import { FRAME_SAMPLES, SAMPLE_RATE, type AudioSource } from './audio-source.js';
import { advance, sinCycles } from './sine-table.js';

/** One step of a cadence: `freqs` empty means silence. */
export interface ToneSegment {
  freqs: readonly number[];
  ms: number;
}

/** Options for `ToneSource`. */
export interface ToneOptions {
  /** Repeat the cadence. Default false. */
  loop?: boolean;
  /** Peak amplitude per frequency component (int16). Default 6000 (about -11 dBm0; 0 dBm0 is a peak of about 22000). */
  amplitude?: number;
  /** Stop after this long even when looping. Default: no limit. */
  maxMs?: number;
}

/** The built-in tones by name. */
export type ToneName = 'beep' | 'ringback' | 'ringback-uk' | 'busy';

const CADENCES: Record<ToneName, { segments: ToneSegment[]; loop: boolean }> = {
  // Twilio-style record beep.
  beep: { segments: [{ freqs: [1000], ms: 400 }], loop: false },
  // North America: 440+480 Hz, 2 s on, 4 s off.
  ringback: { segments: [{ freqs: [440, 480], ms: 2000 }, { freqs: [], ms: 4000 }], loop: true },
  // UK/Kenya style: 400+450 Hz, 0.4 on 0.2 off 0.4 on 2.0 off.
  'ringback-uk': {
    segments: [{ freqs: [400, 450], ms: 400 }, { freqs: [], ms: 200 }, { freqs: [400, 450], ms: 400 }, { freqs: [], ms: 2000 }],
    loop: true,
  },
  // 480+620 Hz, 0.5 on 0.5 off.
  busy: { segments: [{ freqs: [480, 620], ms: 500 }, { freqs: [], ms: 500 }], loop: true },
};

export class ToneSource implements AudioSource {
  readonly #segments: readonly ToneSegment[];
  readonly #segmentSamples: Int32Array;
  readonly #loop: boolean;
  readonly #amplitude: number;
  readonly #phase = new Float64Array(4);
  #segment = 0;
  #segmentSample = 0;
  #samplesLeft: number;

  constructor(segments: readonly ToneSegment[], options: ToneOptions = {}) {
    this.#segments = segments;
    this.#segmentSamples = Int32Array.from(segments, (s) => Math.round((s.ms * SAMPLE_RATE) / 1000));
    this.#loop = options.loop ?? false;
    this.#amplitude = options.amplitude ?? 6000;
    this.#samplesLeft = options.maxMs === undefined ? Infinity : Math.round((options.maxMs * SAMPLE_RATE) / 1000);
  }

  read(out: Int16Array): boolean {
    if (this.#segment >= this.#segments.length || this.#samplesLeft <= 0) return false;
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      let seg = this.#segments[this.#segment];
      while (seg && this.#segmentSample >= (this.#segmentSamples[this.#segment] ?? 0)) {
        this.#segment++;
        this.#segmentSample = 0;
        if (this.#segment >= this.#segments.length && this.#loop) this.#segment = 0;
        seg = this.#segments[this.#segment];
      }
      if (!seg || this.#samplesLeft <= 0) {
        out.fill(0, i);
        return i > 0;
      }
      let v = 0;
      for (let f = 0; f < seg.freqs.length && f < 4; f++) {
        const phase = this.#phase[f] ?? 0;
        v += sinCycles(phase);
        this.#phase[f] = advance(phase, seg.freqs[f] ?? 0, SAMPLE_RATE);
      }
      out[i] = Math.round(v * this.#amplitude);
      this.#segmentSample++;
      this.#samplesLeft--;
    }
    return true;
  }
}

/** A built-in tone by name. */
export function tone(name: ToneName, options: ToneOptions = {}): ToneSource {
  const cadence = CADENCES[name];
  return new ToneSource(cadence.segments, { loop: cadence.loop, ...options });
}

/** In-band DTMF for `digits` ('w' adds a 500 ms pause), each `toneMs` long with `gapMs` between. */
export function dtmfTones(digits: string, options: ToneOptions & { toneMs?: number; gapMs?: number } = {}): ToneSource {
  const segments: ToneSegment[] = [];
  for (const ch of digits) {
    if (ch === 'w' || ch === 'W') segments.push({ freqs: [], ms: 500 });
    else if (isDtmfDigit(ch.toUpperCase())) {
      segments.push({ freqs: digitFrequencies(ch.toUpperCase() as Parameters<typeof digitFrequencies>[0]), ms: options.toneMs ?? 100 });
      segments.push({ freqs: [], ms: options.gapMs ?? 80 });
    }
  }
  return new ToneSource(segments, { amplitude: 5000, ...options, loop: false });
}
