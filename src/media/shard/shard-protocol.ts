/**
 * Messages between `ShardedMediaEngine` (main thread) and a media shard
 * (`shard-worker.ts`, one `MediaEngine` on a worker thread). Only control
 * crosses: a few messages per call, never a frame. Plain structured-clone
 * data.
 */
import type { FetchPolicy } from '../../shared/fetch-policy.js';
import type { JitterBufferOptions } from '../rtp/jitter-buffer.js';
import type { CodecName } from '../codecs/codec.js';
import type { DtmfEvent } from '../dtmf/digits.js';
import type { CollectDigitsOptions } from '../endpoint-digits.js';
import type { MachineDetectionOptions } from '../amd/machine-listener.js';
import type { RecordOptions } from '../endpoint-recording.js';
import type { EndpointStats, RemoteMedia } from '../endpoint-types.js';
import type { ToneName } from '../sources/tones.js';
import type { UrlAudioErrorCode, UrlAudioOptions } from '../sources/url-audio.js';
import type { AudioStreamOptions, AudioStreamStopped } from '../fork/audio-stream.js';
import type { StreamSubprotocol } from '../fork/stream-protocol.js';

/** A `stream` action's options that cross to the shard (no signal, no logger). */
export type ShardStreamOptions = Omit<AudioStreamOptions, 'signal' | 'logger'>;

/** What a shard's `MediaEngine` is built with (workerData): `ShardedMediaEngineOptions` as given, each left out taking `mediaDefaults` on the shard. */
export interface ShardOptions {
  index: number;
  /** This shard's slice of the port range. */
  portMin: number;
  portMax: number;
  advertisedAddress?: string;
  bindAddress?: string;
  codecs?: CodecName[];
  telephoneEventPayloadType?: number;
  rtpTimeoutMs?: number;
  symmetricRtp?: boolean;
  jitter?: JitterBufferOptions;
  urlAudio?: Omit<UrlAudioOptions, 'logger'>;
  ttsCacheDir?: string;
}

export type ShardCommand =
  | { op: 'create'; endpoint: string }
  | { op: 'setRemote'; endpoint: string; remote: RemoteMedia }
  | { op: 'setDirection'; endpoint: string; direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive' }
  | { op: 'setRtpTimeout'; endpoint: string; ms: number }
  | { op: 'bridge'; bridge: string; a: string; b: string }
  /** One side of a bridge across shards: `endpoint` writes its caller's audio to `out` and hears `in` (`FrameRing` buffers). */
  | { op: 'crossBridge'; bridge: string; endpoint: string; out: SharedArrayBuffer; in: SharedArrayBuffer }
  | { op: 'unbridge'; bridge: string }
  | { op: 'sendDtmf'; endpoint: string; digits: string }
  | { op: 'stats'; endpoint: string }
  | { op: 'close'; endpoint: string }
  // Prompts, input and recording: each reply comes when the operation ends; `abort` (by request id) ends it early.
  | { op: 'say'; endpoint: string; text: string; voice?: string; language?: string; loop?: number }
  | { op: 'playUrl'; endpoint: string; url: string; policy: FetchPolicy; loop?: number }
  | { op: 'playTone'; endpoint: string; tone: ToneName; loop?: boolean }
  | { op: 'playPcm'; endpoint: string; pcm: Int16Array; loop?: number }
  | { op: 'collectDigits'; endpoint: string; options: Omit<CollectDigitsOptions, 'signal'> }
  | { op: 'record'; endpoint: string; options: Omit<RecordOptions, 'signal'> }
  /** Answering machine detection: the detector runs on the shard, the reply is its `MachineDetectionResult`. */
  | { op: 'detectMachine'; endpoint: string; options: Omit<MachineDetectionOptions, 'signal'> }
  /** An audio stream (the `stream` action) on the leg; its events come back tagged with this request's id. */
  | { op: 'stream'; endpoint: string; options: ShardStreamOptions }
  | { op: 'abort'; request: number }
  // Conference rooms: a `Mixer` on this shard; members are legs here, or stand-ins fed by a leg on another shard.
  | { op: 'mixerCreate'; mixer: string }
  | { op: 'mixerAdd'; mixer: string; member: string; endpoint?: string; link?: { fromLeg: SharedArrayBuffer; toLeg: SharedArrayBuffer }; muted?: boolean; hold?: boolean }
  | { op: 'mixerUpdate'; mixer: string; member: string; muted?: boolean; hold?: boolean }
  | { op: 'mixerRemove'; mixer: string; member: string }
  | { op: 'mixerPlayTone'; mixer: string; tone: ToneName; loop?: boolean }
  | { op: 'mixerPlayPcm'; mixer: string; pcm: Int16Array; loop?: number }
  /** Record the whole room to a WAV file on the room's shard until aborted (by request id) or the room closes; replies with the `RecordingInfo`. */
  | { op: 'mixerRecord'; mixer: string; path: string }
  | { op: 'mixerClose'; mixer: string }
  | { op: 'diagnostics' }
  | { op: 'shutdown' };

/** A request: a command with the id its reply carries. */
export type ShardRequest = ShardCommand & { id: number };

/** Jitter-buffer counters summed over a shard's legs, and its event loop's load. */
export interface ShardDiagnostics {
  endpoints: number;
  jitter: { lost: number; late: number; discarded: number; overflow: number; shrunk: number };
  /** Event-loop utilization since the previous `diagnostics` (0..1). */
  eventLoopUtilization: number;
  clockSkipped: number;
}

/**
 * Why a shard command failed, by kind: what crosses back instead of an
 * `Error` object (structured clone keeps neither class nor `code`), so the
 * main thread rebuilds the class the in-process backend throws
 * (`shard-errors.ts`) and callers branch the same way on both.
 *
 *  - `urlAudio`: `UrlAudioError` (the URL cannot be played; its `code`).
 *  - `fetchRefused`: `FetchRefusedError`, code `fetch_not_allowed` (`url`: the refused hop).
 *  - `endpointClosed`: `MediaEndpointClosedError` (the leg is closed, or the shard holds no such leg).
 *  - `other`: anything else, a plain `Error` with its message (and its string `code`, if it had one).
 *
 * A worker that dies answers nothing: the main thread rejects what was
 * pending with `MediaWorkerExitedError` itself.
 */
export type ShardError =
  | { kind: 'urlAudio'; code: UrlAudioErrorCode; message: string }
  | { kind: 'fetchRefused'; url: string; message: string }
  | { kind: 'endpointClosed'; endpoint: string; message: string }
  | { kind: 'other'; message: string; code?: string };

export type ShardMessage =
  | { type: 'reply'; id: number; ok: true; value?: unknown }
  | { type: 'reply'; id: number; ok: false; error: ShardError }
  | { type: 'event'; endpoint: string; event: 'dtmf'; dtmf: DtmfEvent }
  | { type: 'event'; endpoint: string; event: 'rtpTimeout' }
  | { type: 'event'; endpoint: string; event: 'latched'; address: string; port: number }
  /** `stats`: the leg's figures at close, so `stats()` answers for a closed leg as in process. */
  | { type: 'event'; endpoint: string; event: 'closed'; stats: EndpointStats }
  | { type: 'event'; bridge: string; event: 'bridgeClosed' }
  | { type: 'event'; mixer: string; member: string; event: 'memberLeft' }
  | { type: 'event'; request: number; event: 'stream'; kind: 'started'; data: { protocol: StreamSubprotocol } }
  | { type: 'event'; request: number; event: 'stream'; kind: 'stopped'; data: AudioStreamStopped }
  | { type: 'event'; request: number; event: 'stream'; kind: 'error'; data: { reason: string } };

export type { EndpointStats };
