/** The live audio stream client (SPEC §8): what the `stream` action drives. */
export {
  AudioStreamSession,
  type AudioStreamOptions,
  type AudioStreamResult,
  type AudioStreamStopped,
  type AudioStreamCounters,
  type AudioStreamEvents,
  type AudioStreamState,
  type StreamClosedBy,
} from './audio-stream.js';
export {
  STREAM_SUBPROTOCOLS,
  buildStreamMetadata,
  type StreamCallInfo,
  type StreamMetadata,
  type StreamSampleRate,
  type StreamSubprotocol,
  type StreamTrack,
} from './stream-protocol.js';
