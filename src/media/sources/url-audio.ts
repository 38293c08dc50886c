/**
 * Audio from http(s) URLs for <Play>: fetched with a timeout and a size
 * limit, decoded (WAV here, MP3 on a worker thread), resampled to 8 kHz off
 * the media tick, and cached by URL (LRU with a time to live).
 */
import type { Logger } from '../../shared/log.js';
import { silentLogger } from '../../shared/log.js';
import { resampleAsync } from '../codecs/resample.js';
import { SAMPLE_RATE } from './audio-source.js';
import { isMpegAudio, Mp3Decoder } from './mp3-decoder.js';
import { abortable } from './tts.js';
import { decodeWav, isWav, type DecodedAudio } from './wav.js';

/** Options for `UrlAudioLoader`. */
export interface UrlAudioOptions {
  /** Largest response body accepted. Default 25 MiB. */
  maxBytes?: number;
  /** Whole fetch (headers and body) time limit. Default 15000 ms. */
  timeoutMs?: number;
  /** Max bytes of decoded 8 kHz PCM cached. Default 64 MiB. */
  cacheBytes?: number;
  /** How long a cached URL is reused. Default 10 minutes. */
  cacheTtlMs?: number;
  logger?: Logger;
}

/** Why a URL could not be played; `code` is stable for the call engine to branch on. */
export class UrlAudioError extends Error {
  readonly code: 'bad_url' | 'http_status' | 'too_large' | 'timeout' | 'unsupported_format' | 'decode_failed';

  constructor(code: UrlAudioError['code'], message: string) {
    super(message);
    this.name = 'UrlAudioError';
    this.code = code;
  }
}

export class UrlAudioLoader {
  readonly #maxBytes: number;
  readonly #timeoutMs: number;
  readonly #cacheBytes: number;
  readonly #ttlMs: number;
  readonly #logger: Logger;
  readonly #cache = new Map<string, { pcm: Int16Array; at: number }>();
  readonly #inflight = new Map<string, Promise<Int16Array>>();
  #bytes = 0;
  #mp3: Mp3Decoder | undefined;

  constructor(options: UrlAudioOptions = {}) {
    this.#maxBytes = options.maxBytes ?? 25 * 1024 * 1024;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#cacheBytes = options.cacheBytes ?? 64 * 1024 * 1024;
    this.#ttlMs = options.cacheTtlMs ?? 10 * 60_000;
    this.#logger = options.logger ?? silentLogger;
  }

  /** 8 kHz mono PCM for `url`. */
  async load(url: string, signal?: AbortSignal): Promise<Int16Array> {
    signal?.throwIfAborted();
    const hit = this.#cache.get(url);
    if (hit && Date.now() - hit.at < this.#ttlMs) {
      this.#cache.delete(url);
      this.#cache.set(url, hit);
      return hit.pcm;
    }
    let job = this.#inflight.get(url);
    if (!job) {
      job = this.#produce(url).finally(() => this.#inflight.delete(url));
      this.#inflight.set(url, job);
    }
    return abortable(job, signal);
  }

  /** Decode a file's bytes (WAV or MPEG) into 8 kHz PCM. */
  async decode(bytes: Uint8Array, contentType = '', signal?: AbortSignal): Promise<Int16Array> {
    let decoded: DecodedAudio;
    if (isWav(bytes)) {
      try {
        decoded = decodeWav(bytes);
      } catch (error) {
        throw new UrlAudioError('unsupported_format', (error as Error).message);
      }
    } else if (isMpegAudio(bytes) || /mpeg|mp3/i.test(contentType)) {
      this.#mp3 ??= new Mp3Decoder(this.#logger);
      try {
        decoded = await this.#mp3.decode(bytes, signal);
      } catch (error) {
        if (signal?.aborted) throw error;
        throw new UrlAudioError('decode_failed', (error as Error).message);
      }
    } else {
      throw new UrlAudioError('unsupported_format', `unsupported audio (content-type '${contentType}')`);
    }
    return resampleAsync(decoded.pcm, decoded.sampleRate, SAMPLE_RATE, signal);
  }

  async close(): Promise<void> {
    this.#cache.clear();
    this.#bytes = 0;
    await this.#mp3?.close();
    this.#mp3 = undefined;
  }

  async #produce(url: string): Promise<Int16Array> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UrlAudioError('bad_url', `not a URL: ${url}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UrlAudioError('bad_url', `only http(s) URLs can be played: ${url}`);
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    try {
      const response = await fetch(parsed, { signal: timeout, redirect: 'follow' });
      if (!response.ok) throw new UrlAudioError('http_status', `GET ${url} answered ${response.status}`);
      const declared = Number(response.headers.get('content-length') ?? '0');
      if (declared > this.#maxBytes) throw new UrlAudioError('too_large', `${url} is ${declared} bytes; limit ${this.#maxBytes}`);
      const bytes = await readLimited(response, this.#maxBytes, url);
      const pcm = await this.decode(bytes, response.headers.get('content-type') ?? '');
      this.#remember(url, pcm);
      return pcm;
    } catch (error) {
      if (timeout.aborted) throw new UrlAudioError('timeout', `fetching ${url} took longer than ${this.#timeoutMs} ms`);
      throw error;
    }
  }

  #remember(url: string, pcm: Int16Array): void {
    if (pcm.byteLength > this.#cacheBytes) return;
    const old = this.#cache.get(url);
    if (old) this.#bytes -= old.pcm.byteLength;
    this.#cache.delete(url);
    this.#cache.set(url, { pcm, at: Date.now() });
    this.#bytes += pcm.byteLength;
    for (const [k, v] of this.#cache) {
      if (this.#bytes <= this.#cacheBytes) break;
      this.#cache.delete(k);
      this.#bytes -= v.pcm.byteLength;
    }
  }
}

async function readLimited(response: Response, maxBytes: number, url: string): Promise<Uint8Array> {
  const body = response.body;
  if (!body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new UrlAudioError('too_large', `${url} is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}
