/**
 * `ShardedMediaBackend`: `MediaBackend` over `ShardedMediaEngine`, i.e. call
 * media on worker threads (`--media-workers N`). Legs are `ShardEndpoint`s;
 * rooms are `ShardMixer`s placed on the shard of their first member (so the
 * common case, everyone on one shard, needs no frame ring). The main thread
 * keeps a URL loader and a TTS service only for conference wait audio built
 * from `waitUrl`, which is rare and not per frame.
 */
import type { FetchPolicy } from '../../shared/fetch-policy.js';
import type { Logger } from '../../shared/log.js';
import { silentLogger } from '../../shared/log.js';
import { TypedEmitter } from '../../shared/typed-emitter.js';
import type { CallMedia, MediaBackend, MediaBridge, MediaStream, MediaStreamOptions, RoomMember, RoomMixer } from '../call-media.js';
import type { RecordingInfo } from '../recorder.js';
import { EspeakTtsProvider } from '../sources/espeak-tts.js';
import type { ToneName } from '../sources/tones.js';
import { TtsService } from '../sources/tts.js';
import { UrlAudioLoader } from '../sources/url-audio.js';
import { ShardedMediaEngine, type ShardEndpoint, type ShardedMediaEngineOptions, type ShardMixer, type ShardMixerMember } from './sharded-media-engine.js';

export class ShardedMediaBackend implements MediaBackend {
  readonly engine: ShardedMediaEngine;
  readonly #logger: Logger;
  readonly #options: ShardedMediaEngineOptions;
  #urls: UrlAudioLoader | undefined;
  #tts: TtsService | undefined;
  #closing: Promise<void> | undefined;

  /** Browser legs' gateways run on the main thread: their ports come from here, not from the workers. */
  get webrtcPorts(): { min: number; max: number } | undefined {
    return this.#options.webrtcPorts;
  }

  constructor(options: ShardedMediaEngineOptions) {
    this.engine = new ShardedMediaEngine(options);
    this.#logger = options.logger ?? silentLogger;
    this.#options = options;
  }

  createEndpoint(options: { id?: string; near?: CallMedia } = {}): Promise<ShardEndpoint> {
    // Legs of this backend are ShardEndpoints (this method), so `near` is one.
    return this.engine.createEndpoint({ ...(options.id ? { id: options.id } : {}), ...(options.near ? { near: options.near as ShardEndpoint } : {}) });
  }

  bridge(a: CallMedia, b: CallMedia): Promise<MediaBridge> {
    return this.engine.bridge(a as ShardEndpoint, b as ShardEndpoint);
  }

  createMixer(): RoomMixer {
    return new ShardRoomMixer(this.engine, this.#logger);
  }

  stream(leg: CallMedia, options: MediaStreamOptions): MediaStream {
    // The logger cannot cross to the worker; the shard logs with its own.
    const { logger: _logger, ...rest } = options;
    return (leg as ShardEndpoint).stream(rest);
  }

  loadAudio(url: string, options: { policy: FetchPolicy; signal?: AbortSignal }): Promise<Int16Array> {
    this.#urls ??= new UrlAudioLoader({ ...this.#options.urlAudio, logger: this.#logger });
    return this.#urls.load(url, options);
  }

  speak(request: { text: string; language?: string; voice?: string; signal?: AbortSignal }): Promise<Int16Array> {
    this.#tts ??= new TtsService(new EspeakTtsProvider({ logger: this.#logger }), { ownsProvider: true, logger: this.#logger, ...(this.#options.ttsCacheDir ? { cacheDir: this.#options.ttsCacheDir } : {}) });
    return this.#tts.speak(request);
  }

  /** Stop the workers (their legs close). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= Promise.all([this.engine.close(), this.#tts?.close(), this.#urls?.close()]).then(() => undefined);
    return this.#closing;
  }
}

/**
 * A room on the shards. `RoomMixer` is synchronous (the room's rules are),
 * the shard is not: the mixer is created with the first member, and each
 * member's later changes wait for its `add` to land, so they reach the
 * shard in the order the room made them.
 */
class ShardRoomMixer extends TypedEmitter<{ memberLeft: [CallMedia]; closed: [] }> implements RoomMixer {
  readonly #engine: ShardedMediaEngine;
  readonly #logger: Logger;
  #mixer: Promise<ShardMixer | undefined> | undefined;
  #closed = false;

  constructor(engine: ShardedMediaEngine, logger: Logger) {
    super();
    this.#engine = engine;
    this.#logger = logger;
  }

  add(leg: CallMedia, options: { muted?: boolean; hold?: boolean } = {}): RoomMember {
    const mixer = this.#mixerNear(leg as ShardEndpoint);
    const member = mixer.then((m) => m?.add(leg as ShardEndpoint, options)).catch((error: unknown) => {
      this.#logger.warn({ err: error, endpoint: leg.id }, 'conference member could not join the mix');
      return undefined;
    });
    return new PendingMember(member);
  }

  playTone(name: ToneName): void {
    void this.#mixer?.then((m) => m?.playTone(name)).catch(() => undefined);
  }

  async record(path: string, signal: AbortSignal): Promise<RecordingInfo | undefined> {
    const mixer = await this.#mixer;
    if (!mixer) return undefined;
    return mixer.record(path, { signal });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    void this.#mixer?.then((m) => m?.close());
    if (!this.#mixer) this.emit('closed');
  }

  #mixerNear(leg: ShardEndpoint): Promise<ShardMixer | undefined> {
    this.#mixer ??= this.#engine.createMixer({ near: leg }).then(
      (mixer) => {
        mixer.on('memberLeft', (endpoint) => this.emit('memberLeft', endpoint));
        mixer.once('closed', () => this.emit('closed'));
        // The room ended while the shard was making the mixer.
        if (this.#closed) mixer.close();
        return mixer;
      },
      (error: unknown) => {
        this.#logger.error({ err: error }, 'conference mixer could not be created on a media shard');
        return undefined;
      },
    );
    return this.#mixer;
  }
}

/** A member whose `add` may still be on its way to the shard. */
class PendingMember implements RoomMember {
  #member: Promise<ShardMixerMember | undefined>;

  constructor(member: Promise<ShardMixerMember | undefined>) {
    this.#member = member;
  }

  setMuted(muted: boolean): void {
    this.#then((m) => m.setMuted(muted));
  }

  setHold(hold: boolean): void {
    this.#then((m) => m.setHold(hold));
  }

  remove(): void {
    this.#then((m) => m.remove());
  }

  #then(change: (member: ShardMixerMember) => void): void {
    this.#member = this.#member.then((m) => {
      if (m) change(m);
      return m;
    });
  }
}
