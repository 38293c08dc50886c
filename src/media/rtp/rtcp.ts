/**
 * RTCP sender and receiver reports (RFC 3550 §6.4), the basics: we send an SR
 * (when we have sent media) or an RR with one report block about the stream
 * we receive, and read the remote's SR/RR for loss and jitter figures.
 */
import { readU32, writeU32 } from './rtp-packet.js';

/** What we know about the stream we receive, for our report block. */
export interface ReceptionState {
  remoteSsrc: number;
  fractionLost: number;
  cumulativeLost: number;
  extendedHighestSeq: number;
  jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received, 0 if none. */
  lastSr: number;
  /** Delay since that SR, in 1/65536 s. */
  delaySinceLastSr: number;
}

/** What the remote told us about our stream. */
export interface RemoteReport {
  kind: 'SR' | 'RR';
  ssrc: number;
  /** For SR: NTP middle 32 bits, to echo as LSR. */
  ntpMiddle?: number;
  packetCount?: number;
  octetCount?: number;
  /** The report block about us, if any. */
  fractionLost?: number;
  cumulativeLost?: number;
  jitter?: number;
}

const NTP_EPOCH_OFFSET = 2208988800;

/** Write NTP time for `unixMs` at `offset`: seconds then fraction. */
function writeNtp(buf: Uint8Array, offset: number, unixMs: number): void {
  const seconds = Math.floor(unixMs / 1000) + NTP_EPOCH_OFFSET;
  const fraction = Math.floor(((unixMs % 1000) / 1000) * 0x100000000);
  writeU32(buf, offset, seconds >>> 0);
  writeU32(buf, offset + 4, fraction >>> 0);
}

/** The middle 32 bits of an NTP timestamp for `unixMs`. */
export function ntpMiddle(unixMs: number): number {
  const seconds = (Math.floor(unixMs / 1000) + NTP_EPOCH_OFFSET) >>> 0;
  const fraction = Math.floor(((unixMs % 1000) / 1000) * 0x100000000) >>> 0;
  return (((seconds & 0xffff) << 16) | (fraction >>> 16)) >>> 0;
}

function writeReportBlock(buf: Uint8Array, offset: number, r: ReceptionState): void {
  writeU32(buf, offset, r.remoteSsrc);
  const lost = Math.max(-0x800000, Math.min(0x7fffff, r.cumulativeLost));
  writeU32(buf, offset + 4, (((r.fractionLost & 0xff) << 24) | (lost & 0xffffff)) >>> 0);
  writeU32(buf, offset + 8, r.extendedHighestSeq >>> 0);
  writeU32(buf, offset + 12, Math.round(r.jitter) >>> 0);
  writeU32(buf, offset + 16, r.lastSr >>> 0);
  writeU32(buf, offset + 20, r.delaySinceLastSr >>> 0);
}

/**
 * Write an SR (when `sender` is given) or RR into `buf`; returns its length.
 * `reception` adds one report block.
 */
export function writeReport(
  buf: Uint8Array,
  ssrc: number,
  sender: { unixMs: number; rtpTimestamp: number; packets: number; octets: number } | undefined,
  reception: ReceptionState | undefined,
): number {
  const blocks = reception ? 1 : 0;
  const length = 8 + (sender ? 20 : 0) + blocks * 24;
  buf[0] = 0x80 | blocks;
  buf[1] = sender ? 200 : 201;
  buf[2] = ((length / 4 - 1) >> 8) & 0xff;
  buf[3] = (length / 4 - 1) & 0xff;
  writeU32(buf, 4, ssrc);
  let offset = 8;
  if (sender) {
    writeNtp(buf, 8, sender.unixMs);
    writeU32(buf, 16, sender.rtpTimestamp >>> 0);
    writeU32(buf, 20, sender.packets >>> 0);
    writeU32(buf, 24, sender.octets >>> 0);
    offset = 28;
  }
  if (reception) writeReportBlock(buf, offset, reception);
  return length;
}

/** Parse the first SR or RR of a (compound) RTCP packet. */
export function parseReport(buf: Uint8Array, length: number): RemoteReport | undefined {
  let offset = 0;
  while (offset + 8 <= length) {
    const b0 = buf[offset] ?? 0;
    if (b0 >> 6 !== 2) return undefined;
    const pt = buf[offset + 1] ?? 0;
    const words = (((buf[offset + 2] ?? 0) << 8) | (buf[offset + 3] ?? 0)) + 1;
    const end = offset + words * 4;
    if (end > length) return undefined;
    if (pt === 200 || pt === 201) {
      const count = b0 & 0x1f;
      const report: RemoteReport = { kind: pt === 200 ? 'SR' : 'RR', ssrc: readU32(buf, offset + 4) };
      let block = offset + 8;
      if (pt === 200 && end >= offset + 28) {
        report.ntpMiddle = ((readU32(buf, offset + 8) & 0xffff) << 16 | (readU32(buf, offset + 12) >>> 16)) >>> 0;
        report.packetCount = readU32(buf, offset + 20);
        report.octetCount = readU32(buf, offset + 24);
        block = offset + 28;
      }
      if (count > 0 && block + 24 <= end) {
        report.fractionLost = buf[block + 4] ?? 0;
        report.cumulativeLost = ((readU32(buf, block + 4) & 0xffffff) << 8) >> 8;
        report.jitter = readU32(buf, block + 12);
      }
      return report;
    }
    offset = end;
  }
  return undefined;
}
