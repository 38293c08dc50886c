/**
 * The defaults of call media's options, in one place: the in-process
 * `MediaEngine`, each worker's engine under `ShardedMediaEngine`, the port
 * pool, the jitter buffer and the URL audio loader all read them here, so
 * both backends behave the same when an option is left out. The options'
 * JSDoc quotes these values.
 */
import type { CodecName } from './codecs/codec.js';

export const mediaDefaults = Object.freeze({
  /** Address put in SDP (c=). */
  advertisedAddress: '127.0.0.1',
  /** Address RTP sockets bind to. */
  bindAddress: '0.0.0.0',
  /** First RTP port (rounded up to even; RTCP on port + 1). */
  portMin: 20000,
  /** Last RTP/RTCP port (inclusive). */
  portMax: 29999,
  /** Codecs offered and accepted, in preference order. */
  codecs: Object.freeze(['PCMU', 'PCMA']) as readonly CodecName[],
  /** Payload type offered for telephone-event (RFC 4733). */
  telephoneEventPayloadType: 101,
  /** `rtpTimeout` after this long without RTP; 0 disables. */
  rtpTimeoutMs: 30_000,
  /** Latch to the first RTP source (symmetric RTP). */
  symmetricRtp: true,
  /** Jitter buffer of each leg (`JitterBufferOptions`; `maxDepth` defaults to `prefetch + 5`). */
  jitter: Object.freeze({
    /** Slots (max packets held): 640 ms at 20 ms packets. */
    capacity: 32,
    /** Packets buffered before playout starts (60 ms). */
    prefetch: 3,
    /** Largest payload kept, bytes (160 ms of G.711). */
    maxPayload: 1280,
    /** Slot size to start with, bytes (40 ms of G.711). */
    initialPayload: 320,
    /** Packets held beyond `prefetch` before the oldest is discarded at playout. */
    maxDepthOverPrefetch: 5,
    /** Pops per window of the delay drain (one second at 20 ms). */
    shrinkWindow: 50,
    /** Pops a due drain waits for a quiet packet (5 s at 20 ms). */
    maxShrinkWait: 250,
  }),
  /** `play` URLs (`UrlAudioOptions`). */
  urlAudio: Object.freeze({
    /** Largest response body accepted: 25 MiB. */
    maxBytes: 25 * 1024 * 1024,
    /** Whole fetch (headers and body) time limit. */
    timeoutMs: 15_000,
    /** Max bytes of decoded 8 kHz PCM cached: 64 MiB. */
    cacheBytes: 64 * 1024 * 1024,
    /** How long a cached URL is reused: 10 minutes. */
    cacheTtlMs: 10 * 60_000,
  }),
  /** Synthesized speech kept in memory (`TtsServiceOptions.memoryBytes`): 32 MiB. No disk cache unless `ttsCacheDir` is set. */
  ttsMemoryBytes: 32 * 1024 * 1024,
});
