/**
 * RTP fixed header (RFC 3550 §5.1) parsing into a reusable struct and writing
 * into a caller buffer: no allocation per packet.
 */

export const RTP_HEADER_SIZE = 12;

/** Parsed header fields; one instance is reused for every packet of a session. */
export interface RtpHeader {
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  /** Offset of the payload within the packet (after CSRCs and extension). */
  payloadOffset: number;
  /** Payload length excluding padding. */
  payloadLength: number;
}

export function createRtpHeader(): RtpHeader {
  return { marker: false, payloadType: 0, sequence: 0, timestamp: 0, ssrc: 0, payloadOffset: 0, payloadLength: 0 };
}

/** Parse `packet` into `out`. Returns false when it is not a valid RTP v2 packet. */
export function parseRtp(packet: Uint8Array, length: number, out: RtpHeader): boolean {
  if (length < RTP_HEADER_SIZE) return false;
  const b0 = packet[0] ?? 0;
  if (b0 >> 6 !== 2) return false;
  const b1 = packet[1] ?? 0;
  const pt = b1 & 0x7f;
  // 72-76 are RTCP packet types landing on the RTP port (RFC 5761); not media.
  if (pt >= 72 && pt <= 76) return false;
  const csrcCount = b0 & 0x0f;
  let offset = RTP_HEADER_SIZE + csrcCount * 4;
  if (b0 & 0x10) {
    if (length < offset + 4) return false;
    const words = ((packet[offset + 2] ?? 0) << 8) | (packet[offset + 3] ?? 0);
    offset += 4 + words * 4;
  }
  let end = length;
  if (b0 & 0x20) end -= packet[length - 1] ?? 0;
  if (end < offset) return false;
  out.marker = (b1 & 0x80) !== 0;
  out.payloadType = pt;
  out.sequence = ((packet[2] ?? 0) << 8) | (packet[3] ?? 0);
  out.timestamp = readU32(packet, 4);
  out.ssrc = readU32(packet, 8);
  out.payloadOffset = offset;
  out.payloadLength = end - offset;
  return true;
}

/** Write a 12-byte header (no CSRC, no extension) at the start of `buf`. */
export function writeRtpHeader(buf: Uint8Array, payloadType: number, marker: boolean, sequence: number, timestamp: number, ssrc: number): void {
  buf[0] = 0x80;
  buf[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
  buf[2] = (sequence >> 8) & 0xff;
  buf[3] = sequence & 0xff;
  writeU32(buf, 4, timestamp);
  writeU32(buf, 8, ssrc);
}

export function readU32(buf: Uint8Array, offset: number): number {
  return (((buf[offset] ?? 0) << 24) | ((buf[offset + 1] ?? 0) << 16) | ((buf[offset + 2] ?? 0) << 8) | (buf[offset + 3] ?? 0)) >>> 0;
}

export function writeU32(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = (value >>> 24) & 0xff;
  buf[offset + 1] = (value >>> 16) & 0xff;
  buf[offset + 2] = (value >>> 8) & 0xff;
  buf[offset + 3] = value & 0xff;
}

/** Signed distance a - b between two 16-bit sequence numbers, handling wrap-around. */
export function seqDiff(a: number, b: number): number {
  return (((a - b) & 0xffff) << 16) >> 16;
}
