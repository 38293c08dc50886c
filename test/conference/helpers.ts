import type { ConferenceEvent } from '../../src/conference/index.js';
import type { MediaEngine } from '../../src/media/engine.js';
import type { MediaEndpoint } from '../../src/media/endpoint.js';
import { ToneSource } from '../../src/media/sources/tones.js';
import { connect, toneAmplitude } from '../media/helpers.js';

export { captureInbound, delay, rms, toneAmplitude } from '../media/helpers.js';

/**
 * A caller: a "phone" endpoint that speaks a steady tone at `freq` (0 = keeps
 * quiet) over real RTP to the call leg's endpoint, which goes into the room.
 */
export interface Caller {
  id: string;
  freq: number;
  phone: MediaEndpoint;
  leg: MediaEndpoint;
  hangup(): Promise<void>;
}

export async function dialIn(engine: MediaEngine, id: string, freq: number): Promise<Caller> {
  const phone = await engine.createEndpoint({ id: `phone-${id}` });
  const leg = await engine.createEndpoint({ id: `leg-${id}` });
  connect(phone, leg);
  if (freq > 0) void phone.play(new ToneSource([{ freqs: [freq], ms: 120_000 }], { amplitude: 5000 }));
  return {
    id,
    freq,
    phone,
    leg,
    hangup: async () => {
      await leg.close();
      await phone.close();
    },
  };
}

/** Everything the phone hears during the next `ms` (no waiting for sound first). */
export function listen(phone: MediaEndpoint, ms: number): Promise<Int16Array> {
  const frames = Math.round(ms / 20);
  const out = new Int16Array(frames * 160);
  let n = 0;
  return new Promise((resolve) => {
    const stop = phone.fork('inbound', (frame) => {
      out.set(frame, n * 160);
      if (++n >= frames) {
        stop();
        resolve(out);
      }
    });
  });
}

/** The loudest `freq` component over windows of 100 ms (for short tones such as beeps). */
export function peakToneAmplitude(pcm: Int16Array, freq: number, windowSamples = 800): number {
  let best = 0;
  for (let start = 0; start + windowSamples <= pcm.length; start += windowSamples / 2) {
    best = Math.max(best, toneAmplitude(pcm.subarray(start, start + windowSamples), freq));
  }
  return best;
}

/** Collects a manager's events and lets a test wait for one. */
export class EventLog {
  readonly events: ConferenceEvent[] = [];
  readonly #waiters: { match: (e: ConferenceEvent) => boolean; resolve: (e: ConferenceEvent) => void }[] = [];

  readonly onEvent = (event: ConferenceEvent): void => {
    this.events.push(event);
    for (const w of [...this.#waiters]) {
      if (!w.match(event)) continue;
      this.#waiters.splice(this.#waiters.indexOf(w), 1);
      w.resolve(event);
    }
  };

  /** Resolves with the first event (already seen or coming) of `type` in `room` (and for `callId`). */
  next(type: ConferenceEvent['type'], room: string, callId?: string): Promise<ConferenceEvent> {
    const match = (e: ConferenceEvent): boolean => e.type === type && e.room === room && (callId === undefined || e.callId === callId);
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.#waiters.push({ match, resolve }));
  }

  /** `type:callId:participants` for a room's events, for asserting order compactly. */
  summary(room: string): string[] {
    return this.events.filter((e) => e.room === room).map((e) => [e.type, e.callId ?? '', e.participants].join(':'));
  }
}
