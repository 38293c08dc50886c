/**
 * Audio from http(s) URLs for <Play>: fetched within the workspace's fetch
 * policy (every hop's URL and resolved address checked, at most 5
 * redirects), with a timeout and a size limit, decoded (WAV here, MP3 on a
 * worker thread), resampled to 8 kHz off the media tick, and cached by URL
 * and policy (LRU with a time to live).
 */
import { guardedGet, policyKey, PolicyDispatchers, type FetchPolicy } from '../../shared/fetch-policy.js';
import type { Logger } from '../../shared/log.js';
import { silentLogger } from '../../shared/log.js';
import { resampleAsync } from '../codecs/resample.js';
import { mediaDefaults } from '../media-defaults.js';
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

/** The reasons a URL cannot be played (`UrlAudioError.code`). */
export type UrlAudioErrorCode = 'bad_url' | 'http_status' | 'too_large' | 'timeout' | 'unsupported_format' | 'decode_failed';

/**
 * Why a URL could not be played; `code` is stable for the call engine to
 * branch on. (A URL the fetch policy refuses rejects with `FetchRefusedError`.)
 */
export class UrlAudioError extends Error {
  readonly code: UrlAudioErrorCode;

  constructor(code: UrlAudioErrorCode, message: string) {
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
  readonly #dispatchers = new PolicyDispatchers();
  /** Keyed by policy and URL: what one workspace may fetch must not be served to one whose policy forbids it. */
  readonly #cache = new Map<string, { pcm: Int16Array; at: number }>();
  readonly #inflight = new Map<string, Promise<Int16Array>>();
  #bytes = 0;
  #mp3: Mp3Decoder | undefined;

  constructor(options: UrlAudioOptions = {}) {
    this.#maxBytes = options.maxBytes ?? mediaDefaults.urlAudio.maxBytes;
    this.#timeoutMs = options.timeoutMs ?? mediaDefaults.urlAudio.timeoutMs;
    this.#cacheBytes = options.cacheBytes ?? mediaDefaults.urlAudio.cacheBytes;
    this.#ttlMs = options.cacheTtlMs ?? mediaDefaults.urlAudio.cacheTtlMs;
    this.#logger = options.logger ?? silentLogger;
  }

  /** 8 kHz mono PCM for `url`, fetched within `policy` (the workspace's, on whose behalf it is played). */
  async load(url: string, options: { policy: FetchPolicy; signal?: AbortSignal }): Promise<Int16Array> {
    const { policy, signal } = options;
    signal?.throwIfAborted();
    const key = `${policyKey(policy)}\n${url}`;
    const hit = this.#cache.get(key);
    if (hit && Date.now() - hit.at < this.#ttlMs) {
      this.#cache.delete(key);
      this.#cache.set(key, hit);
      return hit.pcm;
    }
    let job = this.#inflight.get(key);
    if (!job) {
      job = this.#produce(url, policy, key).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, job);
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
    await this.#dispatchers.close();
  }

  async #produce(url: string, policy: FetchPolicy, key: string): Promise<Int16Array> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UrlAudioError('bad_url', `not a URL: ${url}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UrlAudioError('bad_url', `only http(s) URLs can be played: ${url}`);
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    try {
      const response = await guardedGet(url, { policy, dispatchers: this.#dispatchers, signal: timeout });
      if (response.statusCode < 200 || response.statusCode > 299) {
        response.body.destroy();
        throw new UrlAudioError('http_status', `GET ${response.url} answered ${response.statusCode}`);
      }
      const declared = Number(header(response.headers, 'content-length') ?? '0');
      if (declared > this.#maxBytes) {
        response.body.destroy();
        throw new UrlAudioError('too_large', `${url} is ${declared} bytes; limit ${this.#maxBytes}`);
      }
      const bytes = await readLimited(response.body, this.#maxBytes, url);
      const pcm = await this.decode(bytes, header(response.headers, 'content-type') ?? '');
      this.#remember(key, pcm);
      return pcm;
    } catch (error) {
      if (timeout.aborted) throw new UrlAudioError('timeout', `fetching ${url} took longer than ${this.#timeoutMs} ms`);
      throw error;
    }
  }

  #remember(key: string, pcm: Int16Array): void {
    if (pcm.byteLength > this.#cacheBytes) return;
    const old = this.#cache.get(key);
    if (old) this.#bytes -= old.pcm.byteLength;
    this.#cache.delete(key);
    this.#cache.set(key, { pcm, at: Date.now() });
    this.#bytes += pcm.byteLength;
    for (const [k, v] of this.#cache) {
      if (this.#bytes <= this.#cacheBytes) break;
      this.#cache.delete(k);
      this.#bytes -= v.pcm.byteLength;
    }
  }
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readLimited(body: AsyncIterable<Uint8Array> & { destroy(): void }, maxBytes: number, url: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const value of body) {
    total += value.byteLength;
    if (total > maxBytes) {
      body.destroy();
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
