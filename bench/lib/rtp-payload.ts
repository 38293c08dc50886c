/**
 * RTP payloads that carry their own identity through a G.711 media path, for
 * the load generators (media-loadgen.ts, trunk-loadgen.ts).
 *
 * A platform that decodes each packet, mixes or bridges the PCM and
 * re-encodes it with its own RTP sequence numbers loses the sender's header.
 * So the sender writes its stream id and packet index into the payload with
 * µ-law codes that survive decode → encode unchanged, and fills the rest with
 * a pattern of both; the receiver counts a packet only if all 160 bytes
 * match. A packet the path lost shows up as a missing index (a concealment
 * frame, at half level, does not match); a raw UDP relay passes payloads
 * through untouched, so the same check applies to it.
 */
import { MULAW_DECODE, mulawEncodeSample } from '../../src/media/codecs/g711.js';

/** 20 ms of PCMU at 8 kHz. */
export const PAYLOAD = 160;
/** RTP header + payload. */
export const PACKET = 12 + PAYLOAD;
export const PTIME = 20;

/** 64 µ-law codes that decode → encode to themselves (6 bits per payload byte). */
const SAFE: number[] = [];
for (let code = 0x80; code < 0x100 && SAFE.length < 64; code++) if (mulawEncodeSample(MULAW_DECODE[code]!) === code) SAFE.push(code);
if (SAFE.length < 64) throw new Error('not enough round-trip-safe µ-law codes');
const VALUE = new Int8Array(256).fill(-1);
SAFE.forEach((code, i) => (VALUE[code] = i));

/** Payload bytes 0-2: stream id (18 bits); 3-7: packet index (30 bits); 8-159: a pattern of both. */
export function writePayload(buf: Buffer, offset: number, stream: number, index: number): void {
  for (let i = 0; i < 3; i++) buf[offset + i] = SAFE[(stream >>> (6 * i)) & 63]!;
  for (let i = 0; i < 5; i++) buf[offset + 3 + i] = SAFE[(index >>> (6 * i)) & 63]!;
  for (let i = 8; i < PAYLOAD; i++) buf[offset + i] = SAFE[(index + i * 7 + stream * 3) & 63]!;
}

/** The index carried by a payload of `stream`, or -1 when it is not an intact packet of that stream. */
export function readPayload(buf: Buffer, offset: number, stream: number): number {
  let s = 0;
  for (let i = 0; i < 3; i++) {
    const v = VALUE[buf[offset + i]!]!;
    if (v < 0) return -1;
    s |= v << (6 * i);
  }
  if (s !== stream) return -1;
  let index = 0;
  for (let i = 0; i < 5; i++) {
    const v = VALUE[buf[offset + 3 + i]!]!;
    if (v < 0) return -1;
    index += v * 2 ** (6 * i);
  }
  for (let i = 8; i < PAYLOAD; i++) if (buf[offset + i] !== SAFE[(index + i * 7 + stream * 3) & 63]) return -1;
  return index;
}

/** Digital silence (both µ-law zeros): what a leg sends when it has nothing to play. */
export function isSilent(buf: Buffer, offset: number, end: number): boolean {
  for (let i = offset; i < end; i++) {
    const b = buf[i]!;
    if (b !== 0xff && b !== 0x7f) return false;
  }
  return true;
}

/** Speech or a tone rather than silence or comfort noise: any sample above about −44 dBFS. */
export function isAudible(buf: Buffer, offset: number, end: number, threshold = 200): boolean {
  for (let i = offset; i < end; i++) if (Math.abs(MULAW_DECODE[buf[i]!]!) > threshold) return true;
  return false;
}
