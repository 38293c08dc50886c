/**
 * The offline default TTS: eSpeak NG compiled to WebAssembly
 * (`@echogarden/espeak-ng-emscripten`, GPL-3.0). It is kept behind the
 * `TtsProvider` interface and runs in its own worker thread, loaded as a
 * separate program through a resolved path, so synthesis never blocks the
 * event loop and the GPL code can be swapped for another provider.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { Logger } from '../../shared/log.js';
import { WorkerHost } from '../worker-host.js';
import type { TtsAudio, TtsProvider, TtsRequest } from './tts.js';

/** Options for `EspeakTtsProvider`. */
export interface EspeakOptions {
  /** Words per minute. Default 160. */
  rate?: number;
  /** Longest text accepted, characters. Default 4000. */
  maxChars?: number;
  logger?: Logger;
}

/** eSpeak voice per language tag (lower case). Tags not listed fall back to their primary subtag. */
const LANGUAGE_VOICES: Record<string, string> = {
  'en-us': 'en-us',
  'en-gb': 'gmw/en',
  en: 'en-us',
  'en-au': 'gmw/en',
  'en-in': 'gmw/en',
  'en-ke': 'gmw/en',
  sw: 'sw',
  'sw-ke': 'sw',
  'sw-tz': 'sw',
};

/** Twilio's classic voice names map to eSpeak variants. Unknown names use the language default. */
const VOICE_VARIANTS: Record<string, string> = {
  alice: '+f3',
  woman: '+f3',
  man: '',
};

/**
 * The eSpeak voices to try, best first: the language's voice with the voice
 * variant, then without, then the primary language, then en-US.
 */
export function espeakVoiceCandidates(voice: string | undefined, language: string | undefined): string[] {
  const tag = (language ?? 'en-US').toLowerCase().replace('_', '-');
  const primary = tag.split('-')[0] ?? 'en';
  const base = LANGUAGE_VOICES[tag] ?? LANGUAGE_VOICES[primary] ?? primary;
  const variant = VOICE_VARIANTS[(voice ?? '').toLowerCase()] ?? '';
  const list = [base + variant, base, primary, 'en-us'];
  return list.filter((v, i) => v !== '' && list.indexOf(v) === i);
}

// The worker program. It receives `{id, text, voices, rate}` and replies with
// the int16 samples (transferred) and the sample rate.
const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
let enginePromise;
function engine() {
  enginePromise ??= import(workerData.moduleUrl).then(async (mod) => {
    const m = await mod.default();
    return new m.eSpeakNGWorker();
  });
  return enginePromise;
}
parentPort.on('message', async (msg) => {
  try {
    const w = await engine();
    let ok = false;
    for (const v of msg.voices) { if (w.set_voice(v) === 0) { ok = true; break; } }
    if (!ok) throw new Error('no eSpeak voice among ' + msg.voices.join(', '));
    w.set_rate(msg.rate);
    const chunks = [];
    let total = 0;
    w.synthesize(msg.text, (samples) => { chunks.push(samples); total += samples.length; return false; });
    const pcm = new Int16Array(total);
    let off = 0;
    for (const c of chunks) { pcm.set(c, off); off += c.length; }
    parentPort.postMessage({ id: msg.id, ok: true, result: { pcm, sampleRate: w.get_samplerate() } }, [pcm.buffer]);
  } catch (error) {
    parentPort.postMessage({ id: msg.id, ok: false, error: String(error && error.stack || error) });
  }
});
`;

interface EspeakJob {
  text: string;
  voices: string[];
  rate: number;
}

export class EspeakTtsProvider implements TtsProvider {
  readonly id = 'espeak-ng';
  readonly #host: WorkerHost<EspeakJob, TtsAudio>;
  readonly #rate: number;
  readonly #maxChars: number;

  constructor(options: EspeakOptions = {}) {
    const moduleUrl = pathToFileURL(createRequire(import.meta.url).resolve('@echogarden/espeak-ng-emscripten')).href;
    this.#host = new WorkerHost('espeak-ng', WORKER_CODE, { moduleUrl }, options.logger);
    this.#rate = options.rate ?? 160;
    this.#maxChars = options.maxChars ?? 4000;
  }

  synthesize(request: TtsRequest): Promise<TtsAudio> {
    const text = request.text.length > this.#maxChars ? request.text.slice(0, this.#maxChars) : request.text;
    return this.#host.request({ text, voices: espeakVoiceCandidates(request.voice, request.language), rate: this.#rate }, request.signal);
  }

  close(): Promise<void> {
    return this.#host.close();
  }
}
