/**
 * `LocalMediaBackend`: `MediaBackend` over the in-process `MediaEngine` (the
 * default, `--media-workers 0`). A leg is the `MediaEndpoint` itself, so the
 * call path is the one it always was: no wrapper sits between the engine and
 * the 20 ms tick. Only rooms get a thin adapter, for the recording and the
 * named tones `RoomMixer` speaks in.
 */
import type { FetchPolicy } from '../shared/fetch-policy.js';
import type { Logger } from '../shared/log.js';
import type { CallMedia, MediaBackend, MediaBridge, MediaStream, MediaStreamOptions, RoomMember, RoomMixer } from './call-media.js';
import type { MediaEndpoint } from './endpoint.js';
import type { MediaEngine } from './engine.js';
import { AudioStreamSession } from './fork/audio-stream.js';
import type { Mixer } from './mixer.js';
import { recordMixer } from './mixer-recording.js';
import type { RecordingInfo } from './recorder.js';
import { tone, type ToneName } from './sources/tones.js';

export class LocalMediaBackend implements MediaBackend {
  readonly engine: MediaEngine;
  readonly #ownsEngine: boolean;

  /** The ports of the engine's browser legs' WebRTC gateways (`--webrtc-ports`). */
  get webrtcPorts(): { min: number; max: number } | undefined {
    return this.engine.webrtcPorts;
  }

  /** `ownsEngine`: `close()` closes the engine too (the platform's backend does; a wrapper for a test's engine does not). */
  constructor(engine: MediaEngine, options: { ownsEngine?: boolean } = {}) {
    this.engine = engine;
    this.#ownsEngine = options.ownsEngine ?? true;
  }

  createEndpoint(options: { id?: string; logger?: Logger } = {}): Promise<MediaEndpoint> {
    return this.engine.createEndpoint({ ...(options.id ? { id: options.id } : {}), ...(options.logger ? { logger: options.logger } : {}) });
  }

  bridge(a: CallMedia, b: CallMedia): Promise<MediaBridge> {
    // Legs of this backend are MediaEndpoints (createEndpoint above).
    return Promise.resolve(this.engine.bridge(a as MediaEndpoint, b as MediaEndpoint));
  }

  createMixer(): RoomMixer {
    return new LocalRoomMixer(this.engine.createMixer());
  }

  stream(leg: CallMedia, options: MediaStreamOptions): MediaStream {
    return new LocalStream(new AudioStreamSession(leg as MediaEndpoint, options));
  }

  loadAudio(url: string, options: { policy: FetchPolicy; signal?: AbortSignal }): Promise<Int16Array> {
    return this.engine.urls.load(url, options);
  }

  speak(request: { text: string; language?: string; voice?: string; signal?: AbortSignal }): Promise<Int16Array> {
    return this.engine.tts.speak(request);
  }

  async close(): Promise<void> {
    if (this.#ownsEngine) await this.engine.close();
  }
}

/** Accept a bare `MediaEngine` where a backend is wanted (embedding code and tests built before `MediaBackend`). */
export function asMediaBackend(media: MediaBackend | MediaEngine): MediaBackend {
  return 'bridge' in media && 'loadAudio' in media ? media : new LocalMediaBackend(media, { ownsEngine: false });
}

/** An `AudioStreamSession` as a `MediaStream`: it starts when `result` is first asked for, after listeners are on. */
class LocalStream implements MediaStream {
  readonly #session: AudioStreamSession;

  constructor(session: AudioStreamSession) {
    this.#session = session;
  }

  get result(): ReturnType<AudioStreamSession['start']> {
    return this.#session.start();
  }

  on: MediaStream['on'] = (event, listener) => this.#session.on(event, listener);
  once: MediaStream['once'] = (event, listener) => this.#session.once(event, listener);
  off: MediaStream['off'] = (event, listener) => this.#session.off(event, listener);
}

/** The in-process `Mixer` in `RoomMixer`'s terms. */
class LocalRoomMixer implements RoomMixer {
  readonly #mixer: Mixer;

  constructor(mixer: Mixer) {
    this.#mixer = mixer;
  }

  add(leg: CallMedia, options: { muted?: boolean; hold?: boolean } = {}): RoomMember {
    return this.#mixer.add(leg as MediaEndpoint, options);
  }

  playTone(name: ToneName): void {
    void this.#mixer.play(tone(name));
  }

  record(path: string, signal: AbortSignal): Promise<RecordingInfo | undefined> {
    return recordMixer(this.#mixer, path, signal);
  }

  close(): void {
    this.#mixer.close();
  }

  on: RoomMixer['on'] = (event, listener) => this.#mixer.on(event, listener as never);
  once: RoomMixer['once'] = (event, listener) => this.#mixer.once(event, listener as never);
  off: RoomMixer['off'] = (event, listener) => this.#mixer.off(event, listener as never);
}
