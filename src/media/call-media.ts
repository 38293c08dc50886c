/**
 * The narrow surface through which the call engine, the actions and the
 * conference rooms drive a call's media, so the same code runs on the
 * in-process `MediaEngine` (the default) and on `ShardedMediaEngine` (media
 * on worker threads, `--media-workers`). Only what can cross a thread is in
 * it: prompts are named (text, URL, tone) or plain PCM, never a source
 * object; events are the four an endpoint emits. See docs/architecture.md,
 * "Media on worker threads".
 */
import type { FetchPolicy } from '../shared/fetch-policy.js';
import type { Logger } from '../shared/log.js';
import type { MachineDetectionResult } from './amd/machine-detector.js';
import type { MachineDetectionOptions } from './amd/machine-listener.js';
import type { CollectDigitsOptions, CollectDigitsResult } from './endpoint-digits.js';
import type { RecordOptions, RecordResult } from './endpoint-recording.js';
import type { EndpointStats, LocalMedia, MediaEndpointEvents, PlayResult, PlayUrlOptions, RemoteMedia } from './endpoint-types.js';
import type { AudioStreamOptions, AudioStreamResult, AudioStreamStopped } from './fork/audio-stream.js';
import type { StreamSubprotocol } from './fork/stream-protocol.js';
import type { RecordingInfo } from './recorder.js';
import type { AudioSource } from './sources/audio-source.js';
import type { ToneName } from './sources/tones.js';

/** The events the engine listens to on a leg's media. */
export type CallMediaEvents = Pick<MediaEndpointEvents, 'dtmf' | 'rtpTimeout' | 'latched' | 'closed'>;

/** Listener registration, as `TypedEmitter` offers it. */
export interface Listenable<E extends Record<string, unknown[]>> {
  on<K extends keyof E>(event: K, listener: (...args: E[K]) => void): unknown;
  once<K extends keyof E>(event: K, listener: (...args: E[K]) => void): unknown;
  off<K extends keyof E>(event: K, listener: (...args: E[K]) => void): unknown;
}

/** The media side of one call leg: a `MediaEndpoint`, or a `ShardEndpoint` on a worker thread. */
export interface CallMedia extends Listenable<CallMediaEvents> {
  readonly id: string;
  readonly state: 'open' | 'closed';
  localDescription(): LocalMedia;
  /** Throws at once on an unknown codec. */
  setRemote(remote: RemoteMedia): void;
  setDirection(direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive'): void;
  setRtpTimeout(ms: number): void;
  sendDtmf(digits: string): Promise<void>;
  /**
   * Quality figures, one shape on both backends. On a closed leg: the
   * figures at close. Rejects only when a worker thread died before the leg
   * could report them (`MediaWorkerExitedError`).
   */
  stats(): Promise<EndpointStats>;
  say(text: string, options?: { voice?: string; language?: string; loop?: number; signal?: AbortSignal }): Promise<PlayResult>;
  /** Fetch within `options.policy` and play; rejects with `FetchRefusedError` (code `fetch_not_allowed`) when refused. */
  playUrl(url: string, options: PlayUrlOptions): Promise<PlayResult>;
  playTone(name: ToneName, options?: { loop?: boolean; signal?: AbortSignal }): Promise<PlayResult>;
  /** 8 kHz PCM; `loop`: times to play, 0 = until aborted; default 1. */
  playPcm(pcm: Int16Array, options?: { loop?: number; signal?: AbortSignal }): Promise<PlayResult>;
  /** Only on the in-process leg: a source object cannot cross to a worker. */
  play?(source: AudioSource, options?: { signal?: AbortSignal }): Promise<PlayResult>;
  collectDigits(options?: CollectDigitsOptions): Promise<CollectDigitsResult>;
  record(options: RecordOptions): Promise<RecordResult>;
  /**
   * Answering machine detection on the far end's audio (SPEC §17), run where
   * the leg's media runs. Always resolves: an abort or a closed leg gives
   * `unknown` (or `machine_start` once a machine was heard).
   */
  detectMachine(options: MachineDetectionOptions): Promise<MachineDetectionResult>;
  /** Idempotent. */
  close(): Promise<void>;
}

/** A running `stream` action: its status events, and `result` when it ends. */
export interface MediaStream extends Listenable<{ started: [{ protocol: StreamSubprotocol }]; stopped: [AudioStreamStopped]; error: [{ reason: string }] }> {
  readonly result: Promise<AudioStreamResult>;
}

/** Two bridged legs; closing either leg, or this, unbridges. */
export interface MediaBridge {
  close(): void;
}

/** A conference member's handle on the mix. */
export interface RoomMember {
  setMuted(muted: boolean): void;
  setHold(hold: boolean): void;
  /** Leave the mix (the leg stays up). */
  remove(): void;
}

/** A conference room's mixer: members, announcements and a recording of the mix. */
export interface RoomMixer extends Listenable<{ memberLeft: [CallMedia]; closed: [] }> {
  /** Add a leg; it hears the room instead of anything it was bridged to. */
  add(leg: CallMedia, options?: { muted?: boolean; hold?: boolean }): RoomMember;
  /** A tone to the whole room (not to members on hold). */
  playTone(name: ToneName): void;
  /** Record the mix to `path` until `signal` aborts or the room closes; undefined when it could not be written. */
  record(path: string, signal: AbortSignal): Promise<RecordingInfo | undefined>;
  /** Idempotent. */
  close(): void;
}

/** `stream` action options for `MediaBackend.stream`. */
export type MediaStreamOptions = Omit<AudioStreamOptions, 'logger'> & { logger?: Logger };

/** Makes call media: in-process (`LocalMediaBackend`) or on worker threads (`ShardedMediaBackend`). */
export interface MediaBackend {
  /** `near`: a leg this one will be bridged to (kept on its worker thread when there are several). */
  createEndpoint(options?: { id?: string; logger?: Logger; near?: CallMedia }): Promise<CallMedia>;
  bridge(a: CallMedia, b: CallMedia): Promise<MediaBridge>;
  createMixer(): RoomMixer;
  /** Stream a leg's audio to a WebSocket and play what comes back. */
  stream(leg: CallMedia, options: MediaStreamOptions): MediaStream;
  /** Fetch (within `policy`) and decode a WAV or MP3 URL to 8 kHz PCM (conference wait audio). */
  loadAudio(url: string, options: { policy: FetchPolicy; signal?: AbortSignal }): Promise<Int16Array>;
  /** Synthesize speech to 8 kHz PCM (wait audio built from `say`). */
  speak(request: { text: string; language?: string; voice?: string; signal?: AbortSignal }): Promise<Int16Array>;
  /** Close every leg and room. Idempotent. */
  close(): Promise<void>;
}
