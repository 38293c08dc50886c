/**
 * One RTP/RTCP session (RFC 3550) on a leased port pair. Inbound audio goes
 * into the jitter buffer; telephone-event packets go straight to a callback.
 * Symmetric RTP (RFC 4961 practice, needed behind NAT): the session latches
 * to the source of the first valid packet and sends there from then on.
 * It follows the peer to a new source (rtpengine-style, SPEC §13) when the
 * packet carries the SSRC of the latched stream (a NAT rebinding the port
 * mid-call), when the latched source has been silent for `relatchAfterMs`
 * (the phone moved, or re-INVITEd to a new address), or when it comes from
 * the address the SDP names; RTP from any other source is dropped and
 * counted (`droppedForeign`). With SRTP keys (`setSrtp`, SDES) every packet
 * is unprotected before any of this sees it, and one that fails its tag or
 * the replay window is dropped (`droppedUnauthenticated`): only the key's
 * holder can move the latch. Before the SDP has named the far end
 * (`setRemote`: an outbound leg waiting for its answer) nothing is taken,
 * latched or sent (`droppedBeforeRemote`, issue 17): with SDES the key the
 * answerer sends with travels in its answer (RFC 4568), so until then its
 * packets cannot be authenticated, and a peer that starts its SRTP as it
 * sends its 200 OK (baresip) would be latched on trust and answered with
 * plain RTP. A plain-RTP leg loses only packets that beat the answer,
 * which nothing plays: a dialled leg is bridged once answered.
 * Outbound packets are built in a small
 * ring of preallocated buffers (a buffer handed to `socket.send` is not
 * touched again until the ring comes round).
 */
import { randomInt } from 'node:crypto';
import type dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { JitterBuffer, type JitterBufferOptions } from './jitter-buffer.js';
import { slotBlock } from './slot-block.js';
import type { PortLease } from './port-pool.js';
import { parseReport, writeReport, type ReceptionState, type RemoteReport } from './rtcp.js';
import { createRtpHeader, parseRtp, RTP_HEADER_SIZE, seqDiff, writeRtpHeader } from './rtp-packet.js';
import { SrtpContext } from './srtp-context.js';
import { decodeMasterKey, type SrtpKeys } from './srtp-keys.js';

/** Where to send, from SDP. */
export interface RtpRemote {
  address: string;
  port: number;
  /** Default port + 1. */
  rtcpPort?: number;
}

/** Options for `RtpSession`. */
export interface RtpSessionOptions {
  /** Latch to the first valid source and ignore others. Default true. */
  symmetric?: boolean;
  jitter?: JitterBufferOptions;
  /** Seconds between RTCP reports. Default 5. */
  rtcpIntervalSec?: number;
  /** RTP clock rate of the audio codec (for jitter computation). Default 8000. */
  clockRate?: number;
  /** Silence of the latched source after which another source may take over. Default 1000 ms. */
  relatchAfterMs?: number;
}

const TX_RING = 8;
/**
 * Bytes per transmit slot. The endpoint sends 20 ms frames: 160 bytes of
 * G.711, 320 of L16, 4 of telephone-event, so 512 leaves room without
 * holding 1500-byte buffers per leg.
 */
export const TX_SIZE = 512;

export class RtpSession {
  readonly port: number;
  readonly ssrc = randomInt(1, 0xffffffff);
  readonly jitter: JitterBuffer;
  /** Payload types accepted as audio / as telephone-event. */
  audioPayloadType = 0;
  telephoneEventPayloadType = -1;
  /** Called synchronously for each telephone-event packet (the payload view is only valid during the call). */
  onTelephoneEvent: ((payload: Uint8Array, offset: number, length: number, timestamp: number, marker: boolean) => void) | undefined;
  /**
   * Called with each audio packet as it arrives, before the jitter buffer
   * (the payload is a view into `msg`, valid only during the call): for
   * consumers that do their own reordering, such as an audio stream sending
   * the caller's audio on at once.
   */
  onAudio: ((sequence: number, msg: Uint8Array, offset: number, length: number) => void) | undefined;
  /** Called when the session latches (for logs). */
  onLatch: ((address: string, port: number) => void) | undefined;

  /**
   * `droppedUnauthenticated`: SRTP/SRTCP packets that failed the tag or replay check; `droppedBeforeRemote`:
   * RTP/RTCP that arrived before `setRemote` (the far end and its keys still unknown).
   */
  readonly stats = { packetsSent: 0, octetsSent: 0, packetsReceived: 0, droppedForeign: 0, droppedInvalid: 0, droppedUnauthenticated: 0, droppedBeforeRemote: 0 };
  /** The last SR/RR the remote sent. */
  remoteReport: RemoteReport | undefined;
  /** performance.now() of the last valid RTP packet, or of session start. */
  lastReceivedAt = performance.now();

  readonly #lease: PortLease;
  readonly #symmetric: boolean;
  readonly #rtcpIntervalMs: number;
  readonly #clockRate: number;
  readonly #header = createRtpHeader();
  readonly #tx: Buffer[] = slotBlock(TX_RING, TX_SIZE);
  /**
   * Per ring slot, a view of the packet as sent. dgram would otherwise build
   * a fresh Buffer for (buffer, offset, length) on every send; a leg's
   * packets nearly always have the same length, so the view is made once.
   */
  readonly #txViews: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(TX_RING).fill(undefined);
  readonly #rtcpBuf = Buffer.alloc(256);
  #txIndex = 0;
  #sequence = randomInt(0, 0x10000);
  #remote: RtpRemote | undefined;
  #latched: { address: string; port: number } | undefined;
  /** SSRC of the last packet taken from the latched source; a new source with it is the same stream. */
  #latchedSsrc = -1;
  readonly #relatchAfterMs: number;
  #remoteSsrc = -1;
  #lastRtpTimestamp = 0;
  #lastRtcpAt = performance.now();
  #closed = false;
  /** SRTP (RFC 3711): our key protects what we send, the peer's unprotects what we receive. */
  #srtpKeys: SrtpKeys | undefined;
  #srtpOut: SrtpContext | undefined;
  #srtpIn: SrtpContext | undefined;
  // Reception statistics (RFC 3550 A.1, A.3, A.8).
  #baseSeq = 0;
  #maxSeq = 0;
  #cycles = 0;
  #expectedPrior = 0;
  #receivedPrior = 0;
  #transit = 0;
  #jitterEstimate = 0;
  #lastSrMiddle = 0;
  #lastSrAt = 0;

  constructor(lease: PortLease, options: RtpSessionOptions = {}) {
    this.#lease = lease;
    this.port = lease.port;
    this.#symmetric = options.symmetric ?? true;
    this.#rtcpIntervalMs = (options.rtcpIntervalSec ?? 5) * 1000;
    this.#clockRate = options.clockRate ?? 8000;
    this.#relatchAfterMs = options.relatchAfterMs ?? 1000;
    this.jitter = new JitterBuffer(options.jitter);
    lease.rtp.on('message', this.#onRtp);
    lease.rtcp.on('message', this.#onRtcp);
    // A send to an unreachable port can surface as an error event; never crash on it.
    lease.rtp.on('error', noop);
    lease.rtcp.on('error', noop);
  }

  /** The address packets are currently sent to (latched source wins). */
  get remote(): { address: string; port: number } | undefined {
    return this.#latched ?? this.#remote;
  }

  get latched(): boolean {
    return this.#latched !== undefined;
  }

  /** Set or change the remote from SDP. A new remote un-latches (re-INVITE may move media). */
  setRemote(remote: RtpRemote): void {
    this.#remote = remote;
    this.#latched = undefined;
    this.#latchedSsrc = -1;
  }

  /**
   * Protect with SRTP from now on (or stop, with undefined). A context whose
   * key did not change is kept, so a re-INVITE with the same keys keeps the
   * rollover counter and replay window (RFC 4568 §7.1.4).
   */
  setSrtp(keys: SrtpKeys | undefined): void {
    const previous = this.#srtpKeys;
    this.#srtpKeys = keys;
    if (!keys) {
      this.#srtpOut = undefined;
      this.#srtpIn = undefined;
      return;
    }
    const local = decodeMasterKey(keys.local);
    const remote = decodeMasterKey(keys.remote);
    if (!local || !remote) throw new Error('SRTP keys must be 30 bytes of base64 each');
    if (!this.#srtpOut || previous?.local !== keys.local) this.#srtpOut = new SrtpContext(local);
    if (!this.#srtpIn || previous?.remote !== keys.remote) this.#srtpIn = new SrtpContext(remote);
  }

  /** Whether packets are SRTP. */
  get encrypted(): boolean {
    return this.#srtpOut !== undefined;
  }

  /**
   * A packet buffer for the next send with the payload area starting at
   * `RTP_HEADER_SIZE` (room for `TX_SIZE - RTP_HEADER_SIZE` bytes of
   * payload). Fill the payload, then call `send`.
   */
  nextBuffer(): Buffer {
    const buf = this.#tx[this.#txIndex] ?? Buffer.alloc(TX_SIZE);
    this.#txIndex = (this.#txIndex + 1) % TX_RING;
    return buf;
  }

  /** Write the header into `buf` (from `nextBuffer`) and send it. */
  send(buf: Buffer, payloadLength: number, payloadType: number, marker: boolean, timestamp: number, advanceSequence = true): void {
    const target = this.remote;
    if (this.#closed || !target) return;
    writeRtpHeader(buf, payloadType, marker, this.#sequence, timestamp, this.ssrc);
    if (advanceSequence) this.#sequence = (this.#sequence + 1) & 0xffff;
    let length = RTP_HEADER_SIZE + payloadLength;
    // In place: the payload is encrypted and the tag written after it (TX_SIZE leaves room).
    if (this.#srtpOut) length = this.#srtpOut.protectRtp(buf, length);
    if (length < 0) return;
    this.#lease.rtp.send(this.#packetView(buf, length), target.port, target.address);
    this.stats.packetsSent++;
    this.stats.octetsSent += payloadLength;
    this.#lastRtpTimestamp = timestamp;
  }

  /** `buf` cut to `length` bytes, reusing the slot's view when `buf` is a ring buffer. */
  #packetView(buf: Buffer, length: number): Uint8Array {
    const slot = this.#tx.indexOf(buf);
    if (slot < 0) return buf.subarray(0, length);
    const cached = this.#txViews[slot];
    if (cached && cached.length === length) return cached;
    const view = buf.subarray(0, length);
    this.#txViews[slot] = view;
    return view;
  }

  /** Called by the owner every tick: sends RTCP when due. */
  maybeSendRtcp(now: number): void {
    if (now - this.#lastRtcpAt < this.#rtcpIntervalMs) return;
    this.#lastRtcpAt = now;
    this.sendRtcp();
  }

  sendRtcp(): void {
    const target = this.remote;
    if (this.#closed || !target) return;
    const sender = this.stats.packetsSent > 0
      ? { unixMs: Date.now(), rtpTimestamp: this.#lastRtpTimestamp, packets: this.stats.packetsSent, octets: this.stats.octetsSent }
      : undefined;
    let length = writeReport(this.#rtcpBuf, this.ssrc, sender, this.#reception());
    if (this.#srtpOut) length = this.#srtpOut.protectRtcp(this.#rtcpBuf, length);
    if (length < 0) return;
    const rtcpPort = this.#latched ? this.#latched.port + 1 : (this.#remote?.rtcpPort ?? target.port + 1);
    this.#lease.rtcp.send(this.#rtcpBuf, 0, length, rtcpPort, target.address);
  }

  /** Interarrival jitter estimate in ms (RFC 3550 A.8). */
  get jitterMs(): number {
    return (this.#jitterEstimate / this.#clockRate) * 1000;
  }

  /** Stop handling packets. The port lease is released by its owner. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#lease.rtp.off('message', this.#onRtp);
    this.#lease.rtcp.off('message', this.#onRtcp);
  }

  #reception(): ReceptionState | undefined {
    if (this.#remoteSsrc < 0) return undefined;
    const extendedMax = this.#cycles + this.#maxSeq;
    const expected = extendedMax - this.#baseSeq + 1;
    const lost = expected - this.stats.packetsReceived;
    const expectedInterval = expected - this.#expectedPrior;
    const receivedInterval = this.stats.packetsReceived - this.#receivedPrior;
    this.#expectedPrior = expected;
    this.#receivedPrior = this.stats.packetsReceived;
    const lostInterval = expectedInterval - receivedInterval;
    const fraction = expectedInterval <= 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval << 8) / expectedInterval);
    return {
      remoteSsrc: this.#remoteSsrc >>> 0,
      fractionLost: fraction,
      cumulativeLost: lost,
      extendedHighestSeq: extendedMax,
      jitter: this.#jitterEstimate,
      lastSr: this.#lastSrMiddle,
      delaySinceLastSr: this.#lastSrAt ? Math.round(((performance.now() - this.#lastSrAt) / 1000) * 65536) : 0,
    };
  }

  readonly #onRtp = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    // No far end yet, so no keys to check this with (the class comment): a packet that beat the answer is not ours to take.
    if (!this.#remote) {
      this.stats.droppedBeforeRemote++;
      return;
    }
    const h = this.#header;
    let length = msg.length;
    // SRTP first (RFC 3711 §3.3): nothing in a packet is believed, the latch least of all, before its tag is.
    if (this.#srtpIn) {
      length = this.#srtpIn.unprotectRtp(msg, length);
      if (length < 0) {
        this.stats.droppedUnauthenticated++;
        return;
      }
    }
    if (!parseRtp(msg, length, h)) {
      this.stats.droppedInvalid++;
      return;
    }
    const isAudio = h.payloadType === this.audioPayloadType;
    const isEvent = h.payloadType === this.telephoneEventPayloadType;
    if (!isAudio && !isEvent) {
      this.stats.droppedInvalid++;
      return;
    }
    const now = performance.now();
    if (this.#symmetric) {
      const latched = this.#latched;
      if (!latched || latched.address !== rinfo.address || latched.port !== rinfo.port) {
        if (latched && !this.#mayRelatch(h.ssrc, rinfo, now)) {
          this.stats.droppedForeign++;
          return;
        }
        // Allocates, but only when the source changes (once per call, or per NAT rebinding).
        this.#latched = { address: rinfo.address, port: rinfo.port };
        this.onLatch?.(rinfo.address, rinfo.port);
      }
      this.#latchedSsrc = h.ssrc;
    }
    this.lastReceivedAt = now;
    this.stats.packetsReceived++;
    if (isEvent) {
      this.onTelephoneEvent?.(msg, h.payloadOffset, h.payloadLength, h.timestamp, h.marker);
      return;
    }
    // Reception statistics follow the audio stream only: a device that sends
    // telephone-events under another SSRC must not reset playout each time.
    this.#updateReception(h.sequence, h.timestamp, h.ssrc);
    this.jitter.push(h.sequence, msg, h.payloadOffset, h.payloadLength);
    this.onAudio?.(h.sequence, msg, h.payloadOffset, h.payloadLength);
  };

  /**
   * Whether a packet from a source other than the latched one moves the latch:
   * the same stream (SSRC) from a new address, the latched source silent for
   * `relatchAfterMs`, or the address from SDP (a stray or spoofed packet that
   * arrived before the real far end cannot keep the call).
   */
  #mayRelatch(ssrc: number, rinfo: dgram.RemoteInfo, now: number): boolean {
    if (ssrc === this.#latchedSsrc) return true;
    if (now - this.lastReceivedAt >= this.#relatchAfterMs) return true;
    const signalled = this.#remote;
    return signalled !== undefined && signalled.address === rinfo.address && signalled.port === rinfo.port;
  }

  #updateReception(seq: number, timestamp: number, ssrc: number): void {
    if (ssrc !== this.#remoteSsrc) {
      // New or changed source: restart statistics and playout.
      this.#remoteSsrc = ssrc;
      this.#baseSeq = seq;
      this.#maxSeq = seq;
      this.#cycles = 0;
      this.#expectedPrior = 0;
      this.#receivedPrior = 0;
      this.stats.packetsReceived = 1;
      this.#transit = 0;
      this.#jitterEstimate = 0;
      this.jitter.reset();
    } else {
      const d = seqDiff(seq, this.#maxSeq);
      if (d > 0) {
        if (seq < this.#maxSeq) this.#cycles += 0x10000;
        this.#maxSeq = seq;
      }
    }
    const arrival = Math.round((performance.now() / 1000) * this.#clockRate);
    const transit = arrival - timestamp;
    if (this.#transit !== 0) {
      const d = Math.abs(transit - this.#transit);
      this.#jitterEstimate += (d - this.#jitterEstimate) / 16;
    }
    this.#transit = transit;
  }

  readonly #onRtcp = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    if (!this.#remote) {
      this.stats.droppedBeforeRemote++;
      return;
    }
    const latched = this.#latched;
    if (this.#symmetric && latched && latched.address !== rinfo.address) return;
    let length = msg.length;
    if (this.#srtpIn) {
      length = this.#srtpIn.unprotectRtcp(msg, length);
      if (length < 0) {
        this.stats.droppedUnauthenticated++;
        return;
      }
    }
    const report = parseReport(msg, length);
    if (!report) return;
    this.remoteReport = report;
    if (report.kind === 'SR' && report.ntpMiddle !== undefined) {
      this.#lastSrMiddle = report.ntpMiddle;
      this.#lastSrAt = performance.now();
    }
  };
}

function noop(): void {}
