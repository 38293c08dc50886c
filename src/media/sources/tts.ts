/**
 * Text-to-speech behind one interface, with an LRU cache in front.
 * Providers return audio at their native rate; `TtsService` resamples to the
 * 8 kHz media rate (off the media tick, in slices) and caches the result by
 * provider + voice + language + text, in memory and optionally on disk.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { resampleAsync } from '../codecs/resample.js';
import { mediaDefaults } from '../media-defaults.js';
import type { Logger } from '../../shared/log.js';
import { silentLogger } from '../../shared/log.js';
import { SAMPLE_RATE } from './audio-source.js';

/** What to say and how. */
export interface TtsRequest {
  text: string;
  /** Voice name, e.g. Twilio's `alice`, `man`, `woman`, or a provider voice id. */
  voice?: string;
  /** BCP 47 language, e.g. `en-US`, `en-GB`, `sw`. Default `en-US`. */
  language?: string;
  signal?: AbortSignal;
}

/** Synthesized mono audio at the provider's rate. */
export interface TtsAudio {
  pcm: Int16Array;
  sampleRate: number;
}

/** A speech synthesizer. Implementations must not block the event loop. */
export interface TtsProvider {
  /** Stable id, part of the cache key. */
  readonly id: string;
  synthesize(request: TtsRequest): Promise<TtsAudio>;
  close?(): Promise<void>;
}

/** Options for `TtsService`. */
export interface TtsServiceOptions {
  /** Max bytes of 8 kHz PCM kept in memory. Default 32 MiB. */
  memoryBytes?: number;
  /** Directory for the disk cache; none when omitted. */
  cacheDir?: string;
  /** Whether `close` also closes the provider. Default true. */
  ownsProvider?: boolean;
  logger?: Logger;
}

export class TtsService {
  readonly provider: TtsProvider;
  readonly #memoryBytes: number;
  readonly #cacheDir: string | undefined;
  readonly #ownsProvider: boolean;
  readonly #logger: Logger;
  // Map iteration order is insertion order: re-inserting on hit makes it an LRU.
  readonly #memory = new Map<string, Int16Array>();
  readonly #inflight = new Map<string, Promise<Int16Array>>();
  #bytes = 0;

  constructor(provider: TtsProvider, options: TtsServiceOptions = {}) {
    this.provider = provider;
    this.#memoryBytes = options.memoryBytes ?? mediaDefaults.ttsMemoryBytes;
    this.#cacheDir = options.cacheDir;
    this.#ownsProvider = options.ownsProvider ?? true;
    this.#logger = options.logger ?? silentLogger;
  }

  /** Cache entries and bytes held in memory. */
  get cacheStats(): { entries: number; bytes: number } {
    return { entries: this.#memory.size, bytes: this.#bytes };
  }

  /** 8 kHz PCM for the request, from cache when possible. */
  async speak(request: TtsRequest): Promise<Int16Array> {
    request.signal?.throwIfAborted();
    const key = `${this.provider.id}\n${request.voice ?? ''}\n${request.language ?? ''}\n${request.text}`;
    const hit = this.#memory.get(key);
    if (hit) {
      this.#memory.delete(key);
      this.#memory.set(key, hit);
      return hit;
    }
    let job = this.#inflight.get(key);
    if (!job) {
      // Identical concurrent requests (a conference announcing to everyone) share one synthesis.
      job = this.#produce(key, { ...request, signal: undefined }).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, job);
    }
    return abortable(job, request.signal);
  }

  async close(): Promise<void> {
    this.#memory.clear();
    this.#bytes = 0;
    if (this.#ownsProvider) await this.provider.close?.();
  }

  async #produce(key: string, request: TtsRequest): Promise<Int16Array> {
    const file = this.#cacheDir ? path.join(this.#cacheDir, `${createHash('sha256').update(key).digest('hex')}.pcm`) : undefined;
    if (file) {
      try {
        const bytes = await readFile(file);
        const pcm = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 1).slice();
        this.#remember(key, pcm);
        return pcm;
      } catch {
        // Not cached on disk yet.
      }
    }
    const audio = await this.provider.synthesize(request);
    const pcm = await resampleAsync(audio.pcm, audio.sampleRate, SAMPLE_RATE);
    this.#remember(key, pcm);
    if (file && this.#cacheDir) {
      const tmp = `${file}.${process.pid}.tmp`;
      mkdir(this.#cacheDir, { recursive: true })
        .then(() => writeFile(tmp, new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength)))
        .then(() => rename(tmp, file))
        .catch((error: unknown) => this.#logger.warn({ err: error }, 'tts disk cache write failed'));
    }
    return pcm;
  }

  #remember(key: string, pcm: Int16Array): void {
    if (pcm.byteLength > this.#memoryBytes) return;
    this.#memory.set(key, pcm);
    this.#bytes += pcm.byteLength;
    for (const [k, v] of this.#memory) {
      if (this.#bytes <= this.#memoryBytes) break;
      this.#memory.delete(k);
      this.#bytes -= v.byteLength;
    }
  }
}

/** Race a promise against an abort signal. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e as Error);
      },
    );
  });
}
