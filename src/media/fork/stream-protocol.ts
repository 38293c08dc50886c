/**
 * The wire format of the `audio.drachtio.org` listen protocol (as spoken by
 * jambonz/drachtio bridges) in plain functions: the subprotocols we offer,
 * the metadata frame, parsing the server's text commands, and turning the
 * server's byte streams into samples. No sockets here, so all of it is
 * testable on its own.
 */
import { randomFillSync } from 'node:crypto';
import { decodeWav } from '../sources/wav.js';

/** Offered in this order: drachtio first, jambonz as the second choice (SPEC §8). */
export const STREAM_SUBPROTOCOLS = ['audio.drachtio.org', 'audio.jambonz.org'] as const;
export type StreamSubprotocol = (typeof STREAM_SUBPROTOCOLS)[number];

export type StreamTrack = 'inbound_track' | 'outbound_track' | 'both_tracks';
export type StreamSampleRate = 8000 | 16000 | 24000;
/** jambonz's name for what the binary frames carry: one track, both as stereo, or both summed to mono. */
export type StreamMixType = 'mono' | 'stereo' | 'mixed';
/** Rates the server's binary audio may come back at: integer multiples of 8 kHz (SPEC §19). */
export type StreamReturnRate = 8000 | 16000 | 24000 | 32000 | 48000;

/** The mixType a track choice means on the wire. */
export function mixTypeOf(track: StreamTrack, mixed: boolean): StreamMixType {
  if (track !== 'both_tracks') return 'mono';
  return mixed ? 'mixed' : 'stereo';
}

/** The call the stream belongs to, as the metadata frame describes it. */
export interface StreamCallInfo {
  callId: string;
  from: string;
  to: string;
  direction: 'inbound' | 'outbound';
  /** The workspace id. */
  accountId: string;
}

/** The first (text) frame on the socket. */
export interface StreamMetadata {
  callId: string;
  callSid: string;
  streamName: string;
  from: string;
  to: string;
  direction: 'inbound' | 'outbound';
  sampleRate: StreamSampleRate;
  mixType: StreamMixType;
  channels: 1 | 2;
  track: StreamTrack;
  accountId: string;
  [customer: string]: unknown;
}

/**
 * Build the metadata frame. The customer's `metadata` pairs are merged in
 * flat (as drachtio does) but cannot overwrite the platform's fields, so a
 * bridge can always trust `callId`, `sampleRate` and friends.
 */
export function buildStreamMetadata(
  call: StreamCallInfo,
  stream: { name: string; track: StreamTrack; sampleRate: StreamSampleRate; mixed?: boolean },
  metadata: Readonly<Record<string, string>> = {},
): StreamMetadata {
  const mixType = mixTypeOf(stream.track, stream.mixed ?? false);
  return {
    ...metadata,
    callId: call.callId,
    callSid: call.callId,
    streamName: stream.name,
    from: call.from,
    to: call.to,
    direction: call.direction,
    sampleRate: stream.sampleRate,
    mixType,
    channels: mixType === 'stereo' ? 2 : 1,
    track: stream.track,
    accountId: call.accountId,
  };
}

/** A text command from the server, parsed at the boundary. */
export type ServerCommand =
  | { type: 'killAudio' }
  | { type: 'disconnect' }
  | { type: 'clearMarks' }
  | { type: 'mark'; name: string }
  | {
      type: 'playAudio';
      content: string;
      contentType: 'raw' | 'wav';
      sampleRate: number | undefined;
      /** Echoed in `playDone` once the clip has been played. */
      id: string | undefined;
      /** True: play after what is queued; false (the default, as in jambonz): interrupt it. */
      queuePlay: boolean;
    };

/** Largest base64 clip accepted by playAudio (about 30 s of 48 kHz PCM). */
export const MAX_PLAY_AUDIO_BASE64 = 4 * 1024 * 1024;

/** Parse one text message; a string result is why it was ignored. */
export function parseServerCommand(text: string): ServerCommand | string {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (typeof msg !== 'object' || msg === null) return 'not a JSON object';
  const { type, data } = msg as { type?: unknown; data?: unknown };
  const fields = typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {};
  switch (type) {
    case 'killAudio':
      return { type };
    case 'disconnect':
      return { type };
    case 'clearMarks':
      return { type };
    case 'mark': {
      const name = fields.name;
      if (typeof name !== 'string' || name.length === 0 || name.length > 256) return 'mark needs data.name (1-256 characters)';
      return { type, name };
    }
    case 'playAudio': {
      const content = fields.audioContent;
      if (typeof content !== 'string' || content.length === 0) return 'playAudio needs data.audioContent (base64)';
      if (content.length > MAX_PLAY_AUDIO_BASE64) return `playAudio clip larger than ${MAX_PLAY_AUDIO_BASE64} base64 characters`;
      const given = fields.audioContentType ?? 'raw';
      // 'wave' is what mod_audio_fork (the drachtio/jambonz implementation) also accepts.
      const contentType = given === 'wave' ? 'wav' : given;
      if (contentType !== 'raw' && contentType !== 'wav') return "playAudio audioContentType must be 'raw' or 'wav'";
      const rate = fields.sampleRate;
      if (rate !== undefined && (typeof rate !== 'number' || !Number.isInteger(rate) || rate < 8000 || rate > 48000)) {
        return 'playAudio sampleRate must be an integer from 8000 to 48000';
      }
      const id = fields.id;
      if (id !== undefined && (typeof id !== 'string' || id.length > 256)) return 'playAudio id must be a string of at most 256 characters';
      const queuePlay = fields.queuePlay ?? false;
      if (typeof queuePlay !== 'boolean') return 'playAudio queuePlay must be true or false';
      return { type, content, contentType, sampleRate: rate, id, queuePlay };
    }
    default:
      return `unknown type ${JSON.stringify(type)}`;
  }
}

/**
 * Decode a playAudio clip to mono int16 and its rate. Raw is 16-bit LE mono
 * PCM at `sampleRate` (default: the stream's rate); WAV goes through the
 * media WAV reader (its own header decides the rate). Throws on bad input.
 */
export function decodePlayAudio(cmd: Extract<ServerCommand, { type: 'playAudio' }>, defaultRate: number): { pcm: Int16Array; sampleRate: number } {
  const bytes = Buffer.from(cmd.content, 'base64');
  if (cmd.contentType === 'wav') {
    const wav = decodeWav(bytes);
    if (wav.sampleRate < 8000 || wav.sampleRate > 48000) throw new Error(`WAV sample rate ${wav.sampleRate} not supported`);
    return wav;
  }
  return { pcm: pcm16le(bytes, 0, bytes.length - (bytes.length & 1)), sampleRate: cmd.sampleRate ?? defaultRate };
}

/** Copy 16-bit little-endian samples out of `bytes` (any alignment, any host). */
export function pcm16le(bytes: Uint8Array, start: number, end: number): Int16Array {
  const out = new Int16Array((end - start) >> 1);
  for (let i = 0, b = start; i < out.length; i++, b += 2) {
    const v = (bytes[b] ?? 0) | ((bytes[b + 1] ?? 0) << 8);
    out[i] = v > 0x7fff ? v - 0x10000 : v;
  }
  return out;
}

/**
 * Binary frames may split a sample between two messages ("any length"):
 * keep the odd byte for the next one. The samples are decoded into one
 * scratch buffer reused for every message (grown only when a larger
 * message comes), so a real-time sender costs no allocation here.
 */
export class Pcm16Assembler {
  #carry = -1;
  #scratch = new Int16Array(960);

  /** The samples completed by `bytes`; the view is valid until the next call. */
  push(bytes: Uint8Array): Int16Array {
    let start = 0;
    let lead = false;
    const total = (bytes.length + (this.#carry >= 0 ? 1 : 0)) >> 1;
    if (total > this.#scratch.length) this.#scratch = new Int16Array(total * 2);
    const out = this.#scratch;
    if (this.#carry >= 0 && bytes.length > 0) {
      out[0] = toInt16(this.#carry | ((bytes[0] ?? 0) << 8));
      this.#carry = -1;
      start = 1;
      lead = true;
    }
    const even = start + ((bytes.length - start) & ~1);
    if (even < bytes.length) this.#carry = bytes[bytes.length - 1] ?? 0;
    let n = lead ? 1 : 0;
    for (let b = start; b < even; b += 2) out[n++] = toInt16((bytes[b] ?? 0) | ((bytes[b + 1] ?? 0) << 8));
    return out.subarray(0, n);
  }

  reset(): void {
    this.#carry = -1;
  }
}

function toInt16(v: number): number {
  return v > 0x7fff ? v - 0x10000 : v;
}

const MASK_POOL_SIZE = 8 * 1024;
let maskPool: Buffer | undefined;
let maskPointer = MASK_POOL_SIZE;

/**
 * Client frame masks for `ws`, never all-zero. With an all-zero mask `ws`
 * would queue our reused frame buffer by reference instead of copying it,
 * and the next tick would overwrite it before it reached the socket.
 */
export function generateMask(mask: Buffer): void {
  if (maskPointer + 4 > MASK_POOL_SIZE) {
    maskPool ??= Buffer.alloc(MASK_POOL_SIZE);
    randomFillSync(maskPool);
    maskPointer = 0;
  }
  const pool = maskPool as Buffer;
  mask[0] = pool[maskPointer++] ?? 1;
  mask[1] = pool[maskPointer++] ?? 0;
  mask[2] = pool[maskPointer++] ?? 0;
  mask[3] = pool[maskPointer++] ?? 0;
  if ((mask[0] | mask[1] | mask[2] | mask[3]) === 0) mask[0] = 1;
}
