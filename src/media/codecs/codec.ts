import { decodePcma, decodePcmu, encodePcma, encodePcmu } from './g711.js';
import { decodeL16, encodeL16 } from './l16.js';

/** The codecs the media engine can put on the wire. */
export type CodecName = 'PCMU' | 'PCMA' | 'L16';

/**
 * A narrowband (8 kHz) codec: turns 160-sample frames into RTP payloads and
 * back. Implementations write into caller buffers and never allocate.
 */
export interface Codec {
  readonly name: CodecName;
  /** Static payload type, or the conventional dynamic one for L16/8000. */
  readonly defaultPayloadType: number;
  readonly clockRate: number;
  /** Payload bytes for `samples` samples. */
  payloadSize(samples: number): number;
  /** Encode `pcm` into `out` at `offset`; returns payload length. */
  encode(pcm: Int16Array, out: Uint8Array, offset: number): number;
  /** Decode a payload into `out`; returns samples written. */
  decode(payload: Uint8Array, payloadOffset: number, payloadLength: number, out: Int16Array): number;
}

export const PCMU: Codec = {
  name: 'PCMU',
  defaultPayloadType: 0,
  clockRate: 8000,
  payloadSize: (samples) => samples,
  encode: (pcm, out, offset) => encodePcmu(pcm, out, offset),
  decode: (payload, off, len, out) => decodePcmu(payload, out, off, len),
};

export const PCMA: Codec = {
  name: 'PCMA',
  defaultPayloadType: 8,
  clockRate: 8000,
  payloadSize: (samples) => samples,
  encode: (pcm, out, offset) => encodePcma(pcm, out, offset),
  decode: (payload, off, len, out) => decodePcma(payload, out, off, len),
};

export const L16: Codec = {
  name: 'L16',
  defaultPayloadType: 96,
  clockRate: 8000,
  payloadSize: (samples) => samples * 2,
  encode: (pcm, out, offset) => encodeL16(pcm, out, offset),
  decode: (payload, off, len, out) => decodeL16(payload, out, off, len),
};

const byName: Record<CodecName, Codec> = { PCMU, PCMA, L16 };

/** Look a codec up by its rtpmap encoding name (case-insensitive). */
export function codecByName(name: string): Codec | undefined {
  return byName[name.toUpperCase() as CodecName];
}
