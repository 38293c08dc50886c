/** The media engine's public surface for the call engine and conference rooms. */
export { MediaEngine, type MediaEngineOptions, type CreateEndpointOptions } from './engine.js';
export {
  MediaEndpoint,
  type MediaEndpointEvents,
  type RemoteMedia,
  type LocalMedia,
  type PlayResult,
  type Track,
  type EndpointState,
  type EndpointStats,
  type CollectDigitsOptions,
  type CollectDigitsResult,
  type RecordOptions,
  type RecordResult,
} from './endpoint.js';
export { Bridge, bridge } from './bridge.js';
export type { CallMedia, CallMediaEvents, MediaBackend, MediaBridge, MediaStream, MediaStreamOptions, RoomMember, RoomMixer } from './call-media.js';
export { LocalMediaBackend, asMediaBackend } from './local-media-backend.js';
export { MediaEndpointClosedError, MediaWorkerExitedError } from './media-errors.js';
export { Mixer, MixerMember, type MixerLeg, type MixerOptions, type MemberOptions } from './mixer.js';
export { MediaClock, type MediaClockOptions, type TickPhase } from './media-clock.js';
export { PortPool, type PortPoolOptions } from './rtp/port-pool.js';
export { codecByName, PCMU, PCMA, L16, type Codec, type CodecName } from './codecs/codec.js';
export {
  fromSdpMedia,
  toSdpMediaFields,
  negotiateAudio,
  answerFor,
  localOffer,
  type AudioMediaDescription,
  type PayloadFormat,
  type NegotiatedAudio,
  type NegotiateOptions,
} from './codecs/negotiate.js';
export { resample, resampleAsync } from './codecs/resample.js';
export { type DtmfDigit, type DtmfEvent } from './dtmf/digits.js';
export { FRAME_SAMPLES, SAMPLE_RATE, PcmSource, SilenceSource, SequenceSource, type AudioSource } from './sources/audio-source.js';
export { tone, dtmfTones, ToneSource, type ToneName, type ToneSegment } from './sources/tones.js';
export { HoldMusicSource } from './sources/hold-music.js';
export { PcmQueue } from './sources/pcm-queue.js';
export { IncrementalSource, splitSentences } from './sources/speech-source.js';
export { TtsService, type TtsProvider, type TtsRequest, type TtsAudio } from './sources/tts.js';
export { EspeakTtsProvider, espeakVoiceCandidates } from './sources/espeak-tts.js';
export { UrlAudioLoader, UrlAudioError, type UrlAudioErrorCode, type UrlAudioOptions } from './sources/url-audio.js';
export { decodeWav, encodeWav } from './sources/wav.js';
export { WavRecorder, type RecorderOptions, type RecordingInfo } from './recorder.js';
export * from './fork/index.js';
export { ShardedMediaEngine, ShardEndpoint, ShardBridge, ShardMixer, ShardMixerMember, ShardStream, type ShardedMediaEngineOptions, type CreateShardEndpointOptions } from './shard/sharded-media-engine.js';
export type { ShardDiagnostics, ShardError, ShardStreamOptions } from './shard/shard-protocol.js';
