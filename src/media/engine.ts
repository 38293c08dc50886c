/**
 * `MediaEngine`: the process-wide owner of the RTP port pool, the 20 ms
 * clock, the TTS service and the URL audio cache. The call engine creates one
 * `MediaEndpoint` per call leg from it, and closes it at shutdown (which
 * closes every endpoint and the worker threads).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../shared/log.js';
import { silentLogger } from '../shared/log.js';
import { Bridge } from './bridge.js';
import type { CodecName } from './codecs/codec.js';
import { MediaEndpoint } from './endpoint.js';
import { MediaClock } from './media-clock.js';
import { mediaDefaults } from './media-defaults.js';
import { Mixer, type MixerOptions } from './mixer.js';
import type { JitterBufferOptions } from './rtp/jitter-buffer.js';
import { PortPool } from './rtp/port-pool.js';
import { EspeakTtsProvider } from './sources/espeak-tts.js';
import { TtsService, type TtsProvider } from './sources/tts.js';
import { UrlAudioLoader, type UrlAudioOptions } from './sources/url-audio.js';

/**
 * Options for `MediaEngine`. Defaults come from `mediaDefaults`
 * (`media-defaults.ts`), shared with `ShardedMediaEngine`, whose workers
 * take the same options.
 */
export interface MediaEngineOptions {
  /** Address put in SDP (c=). Default '127.0.0.1'. */
  advertisedAddress?: string;
  /** Address RTP sockets bind to. Default '0.0.0.0'. */
  bindAddress?: string;
  /** First RTP port (rounded up to even; RTCP on port + 1). Default 20000. */
  portMin?: number;
  /** Last RTP/RTCP port (inclusive). Default 29999. */
  portMax?: number;
  /** UDP ports browser legs' ICE/DTLS sockets take (`--webrtc-ports`, inclusive). Default: the system's ephemeral range. */
  webrtcPorts?: { min: number; max: number } | undefined;
  /** Codecs offered/accepted, in preference order. Default ['PCMU', 'PCMA']. */
  codecs?: CodecName[];
  /** Payload type we offer for telephone-event. Default 101. */
  telephoneEventPayloadType?: number;
  /** `rtpTimeout` after this long without RTP; 0 disables. Default 30000 ms. */
  rtpTimeoutMs?: number;
  /** Latch to the first RTP source (symmetric RTP). Default true. */
  symmetricRtp?: boolean;
  /** Each leg's jitter buffer. Default `mediaDefaults.jitter`: 32 slots, prefetch 3 (60 ms), max depth prefetch + 5. */
  jitter?: JitterBufferOptions;
  /** TTS provider (not closed by the engine). Default: eSpeak NG on a worker thread, started on first use. */
  tts?: TtsProvider;
  /** Disk cache for synthesized speech. Default: none (32 MiB in memory). */
  ttsCacheDir?: string;
  /** Limits and cache for <Play> URLs. Default `mediaDefaults.urlAudio`: 25 MiB, 15 s, a 64 MiB cache for 10 minutes. */
  urlAudio?: UrlAudioOptions;
  /** Share a clock (tests drive one by hand). Default: a new 20 ms clock. */
  clock?: MediaClock;
  /** Default: silent. */
  logger?: Logger;
}

/** Options for `MediaEngine.createEndpoint`. */
export interface CreateEndpointOptions {
  /** Id for logs, e.g. the call leg id. Default: a UUID. */
  id?: string;
  logger?: Logger;
}

export class MediaEngine {
  readonly clock: MediaClock;
  readonly ports: PortPool;
  readonly urls: UrlAudioLoader;
  readonly #options: MediaEngineOptions;
  readonly #logger: Logger;
  readonly #endpoints = new Set<MediaEndpoint>();
  readonly #mixers = new Set<Mixer>();
  #tts: TtsService | undefined;
  #closed = false;

  /** The WebRTC gateways of this engine's browser legs take their ports here (read by `CallLeg`). */
  get webrtcPorts(): { min: number; max: number } | undefined {
    return this.#options.webrtcPorts;
  }

  constructor(options: MediaEngineOptions = {}) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? new MediaClock({ logger: this.#logger });
    this.ports = new PortPool({ min: options.portMin, max: options.portMax, bindAddress: options.bindAddress });
    this.urls = new UrlAudioLoader({ logger: this.#logger, ...options.urlAudio });
  }

  /** The TTS service (created on first use, so an engine that never speaks starts no worker). */
  get tts(): TtsService {
    if (this.#closed) throw new Error('media engine is closed');
    this.#tts ??= new TtsService(this.#options.tts ?? new EspeakTtsProvider({ logger: this.#logger }), {
      cacheDir: this.#options.ttsCacheDir,
      // An injected provider belongs to whoever made it; ours is closed with the engine.
      ownsProvider: this.#options.tts === undefined,
      logger: this.#logger,
    });
    return this.#tts;
  }

  /** Open endpoints. */
  get endpointCount(): number {
    return this.#endpoints.size;
  }

  /** Allocate a port pair and create a leg's endpoint. */
  async createEndpoint(options: CreateEndpointOptions = {}): Promise<MediaEndpoint> {
    if (this.#closed) throw new Error('media engine is closed');
    const lease = await this.ports.allocate();
    if (this.#closed) {
      this.ports.release(lease);
      throw new Error('media engine is closed');
    }
    const id = options.id ?? randomUUID();
    const endpoint = new MediaEndpoint({
      id,
      clock: this.clock,
      pool: this.ports,
      lease,
      advertisedAddress: this.#options.advertisedAddress ?? mediaDefaults.advertisedAddress,
      codecs: this.#options.codecs ?? mediaDefaults.codecs,
      telephoneEventPayloadType: this.#options.telephoneEventPayloadType ?? mediaDefaults.telephoneEventPayloadType,
      rtpTimeoutMs: this.#options.rtpTimeoutMs ?? mediaDefaults.rtpTimeoutMs,
      session: { symmetric: this.#options.symmetricRtp ?? mediaDefaults.symmetricRtp, ...(this.#options.jitter ? { jitter: this.#options.jitter } : {}) },
      tts: () => this.tts,
      urls: this.urls,
      logger: options.logger ?? this.#logger,
      onClosed: (ep) => this.#endpoints.delete(ep),
    });
    this.#endpoints.add(endpoint);
    return endpoint;
  }

  /** Bridge two legs back to back. */
  bridge(a: MediaEndpoint, b: MediaEndpoint): Bridge {
    return new Bridge(a, b);
  }

  /** A conference mixer on this engine's clock. */
  createMixer(options: MixerOptions = {}): Mixer {
    const mixer = new Mixer(this.clock, options);
    this.#mixers.add(mixer);
    mixer.once('closed', () => this.#mixers.delete(mixer));
    return mixer;
  }

  /** Close every endpoint and mixer, stop the workers. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const mixer of [...this.#mixers]) mixer.close();
    await Promise.all([...this.#endpoints].map((ep) => ep.close()));
    await Promise.all([this.#tts?.close(), this.urls.close()]);
    // A clock passed in may be shared; ours stops by itself once nothing is subscribed.
    if (!this.#options.clock) this.clock.stop();
  }
}
