/**
 * The SRTP/SRTCP transform of RFC 3711 for AES_CM_128_HMAC_SHA1_80, in place
 * on the packet buffers the RTP session already owns.
 *
 * One context per direction: ours protects what we send (with the key in our
 * SDP), the peer's unprotects what we receive (with the key in its SDP).
 * Per packet it does one `cipher.update` on a reused AES-128-ECB cipher over
 * counter blocks written into a preallocated buffer (RFC 3711 §4.1.1: the
 * keystream is AES of IV, IV+1, …, which is ECB of those blocks) and one
 * HMAC-SHA1 with precomputed pad states (hmac-sha1.ts), which allocates
 * nothing. node:crypto offers no way to run AES into a caller's buffer, so
 * the keystream Buffer `update` returns is the one allocation per packet;
 * a `createHmac` per packet cost more than all the rest (bench/README.md, "SRTP").
 *
 * Inbound: the index is estimated from the sequence number and the rollover
 * counter (RFC 3711 §3.3.1, Appendix A), the tag checked before anything else
 * is believed, then the replay window (§3.3.2) and only then is the packet
 * decrypted and its index committed. A packet with a new SSRC starts a new
 * stream only once it authenticates.
 */
import { createCipheriv, type Cipher } from 'node:crypto';
import { HmacSha1 } from './hmac-sha1.js';
import { readU32, writeU32 } from './rtp-packet.js';
import { AUTH_TAG_LENGTH, deriveSessionKeys, type SessionKeys } from './srtp-keys.js';

/** Bytes of the SRTCP trailer before the tag: E flag and 31-bit index (RFC 3711 §3.4). */
const SRTCP_INDEX_LENGTH = 4;
/** The largest packet the context protects or unprotects (an Ethernet MTU). */
const MAX_PACKET = 1500;
/** Packets remembered behind the highest index (RFC 3711 §3.3.2: at least 64). */
const REPLAY_WINDOW = 128;

/** Why `unprotect*` refused a packet (a negative return value). */
export const SrtpRejection = { Malformed: -1, Authentication: -2, Replay: -3 } as const;

/** RFC 3711 §3.3.2 replay list: the highest index seen and which of the `REPLAY_WINDOW` before it arrived. */
class ReplayWindow {
  highest = -1;
  readonly #seen = new Uint8Array(REPLAY_WINDOW);

  /** Whether `index` is new and not too old. */
  accepts(index: number): boolean {
    if (index > this.highest) return true;
    if (this.highest - index >= REPLAY_WINDOW) return false;
    return this.#seen[index % REPLAY_WINDOW] === 0;
  }

  /** Records an authenticated `index`. */
  commit(index: number): void {
    if (index > this.highest) {
      const gap = this.highest < 0 ? REPLAY_WINDOW : Math.min(index - this.highest, REPLAY_WINDOW);
      for (let i = 0; i < gap; i++) this.#seen[(index - i) % REPLAY_WINDOW] = 0;
      this.highest = index;
    }
    this.#seen[index % REPLAY_WINDOW] = 1;
  }

  reset(): void {
    this.highest = -1;
    this.#seen.fill(0);
  }
}

/** AES-CM (RFC 3711 §4.1.1) and HMAC-SHA1 (§4.2.1) with one set of session keys. */
class SessionTransform {
  readonly #ecb: Cipher;
  readonly #hmac: HmacSha1;
  readonly #salt: Buffer;
  readonly #counters = Buffer.alloc(MAX_PACKET + 16);

  constructor(keys: SessionKeys) {
    this.#ecb = createCipheriv('aes-128-ecb', keys.encryption, null);
    this.#ecb.setAutoPadding(false);
    this.#hmac = new HmacSha1(keys.authentication);
    this.#salt = keys.salt;
  }

  /**
   * XORs the keystream of (ssrc, index) into `buf[start, end)`. IV = salt·2^16
   * XOR ssrc·2^64 XOR index·2^16, the index given as its high 32 bits and low
   * 16 bits (SRTP: ROC and SEQ).
   */
  xor(buf: Uint8Array, start: number, end: number, ssrc: number, indexHigh: number, indexLow: number): void {
    const length = end - start;
    if (length <= 0) return;
    const blocks = Math.ceil(length / 16);
    const counters = this.#counters;
    for (let b = 0; b < blocks; b++) {
      const o = b * 16;
      counters.set(this.#salt, o);
      counters[o + 4]! ^= ssrc >>> 24;
      counters[o + 5]! ^= (ssrc >>> 16) & 0xff;
      counters[o + 6]! ^= (ssrc >>> 8) & 0xff;
      counters[o + 7]! ^= ssrc & 0xff;
      counters[o + 8]! ^= indexHigh >>> 24;
      counters[o + 9]! ^= (indexHigh >>> 16) & 0xff;
      counters[o + 10]! ^= (indexHigh >>> 8) & 0xff;
      counters[o + 11]! ^= indexHigh & 0xff;
      counters[o + 12]! ^= (indexLow >>> 8) & 0xff;
      counters[o + 13]! ^= indexLow & 0xff;
      counters[o + 14] = b >>> 8;
      counters[o + 15] = b & 0xff;
    }
    const keystream = this.#ecb.update(counters.subarray(0, blocks * 16));
    for (let i = 0; i < length; i++) buf[start + i]! ^= keystream[i]!;
  }

  /** Writes the 80-bit tag of `buf[0, length)` (followed, for SRTP, by the 32-bit ROC) at `buf[length]`. */
  sign(buf: Uint8Array, length: number, roc: number | undefined): void {
    const digest = this.#digest(buf, length, roc);
    for (let i = 0; i < AUTH_TAG_LENGTH; i++) buf[length + i] = digest[i]!;
  }

  /** Whether the tag at `buf[length]` is that of `buf[0, length)` (+ ROC); compared in constant time. */
  verify(buf: Uint8Array, length: number, roc: number | undefined): boolean {
    const digest = this.#digest(buf, length, roc);
    let diff = 0;
    for (let i = 0; i < AUTH_TAG_LENGTH; i++) diff |= digest[i]! ^ buf[length + i]!;
    return diff === 0;
  }

  #digest(buf: Uint8Array, length: number, roc: number | undefined): Uint8Array {
    return this.#hmac.mac(buf, length, roc);
  }
}

/** Length of the RTP header (fixed part, CSRCs, extension), or -1 when it does not fit in `length`. */
function rtpHeaderLength(buf: Uint8Array, length: number): number {
  if (length < 12 || (buf[0]! >> 6) !== 2) return -1;
  let offset = 12 + (buf[0]! & 0x0f) * 4;
  if (buf[0]! & 0x10) {
    if (length < offset + 4) return -1;
    offset += 4 + ((buf[offset + 2]! << 8) | buf[offset + 3]!) * 4;
  }
  return offset <= length ? offset : -1;
}

/**
 * One direction of an SRTP session: protects what one side sends, or
 * unprotects what it receives, both RTP and RTCP.
 */
export class SrtpContext {
  readonly #rtp: SessionTransform;
  readonly #rtcp: SessionTransform;
  // Sending side: our rollover counter and the last sequence number sent.
  #sendRoc = 0;
  #sendLastSeq = -1;
  #srtcpSendIndex = 0;
  // Receiving side: the stream's SSRC (-1 none yet) and its replay lists.
  #recvSsrc = -1;
  readonly #rtpReplay = new ReplayWindow();
  readonly #rtcpReplay = new ReplayWindow();

  /** `masterKeySalt`: the 30 bytes of an `inline:` key (master key || master salt). */
  constructor(masterKeySalt: Uint8Array) {
    const keys = deriveSessionKeys(masterKeySalt);
    this.#rtp = new SessionTransform(keys.rtp);
    this.#rtcp = new SessionTransform(keys.rtcp);
  }

  /**
   * Encrypts the payload of the RTP packet `buf[0, length)` and appends the
   * tag; returns the SRTP length (`length` + 10). `buf` must have room.
   */
  protectRtp(buf: Uint8Array, length: number): number {
    const header = rtpHeaderLength(buf, length);
    if (header < 0 || buf.length < length + AUTH_TAG_LENGTH) return SrtpRejection.Malformed;
    const seq = (buf[2]! << 8) | buf[3]!;
    // RFC 3711 §3.3.1: the sender's ROC counts wraps of the sequence number it sends.
    if (this.#sendLastSeq >= 0 && seq < this.#sendLastSeq && this.#sendLastSeq - seq > 0x8000) this.#sendRoc = (this.#sendRoc + 1) >>> 0;
    this.#sendLastSeq = seq;
    this.#rtp.xor(buf, header, length, readU32(buf, 8), this.#sendRoc, seq);
    this.#rtp.sign(buf, length, this.#sendRoc);
    return length + AUTH_TAG_LENGTH;
  }

  /**
   * Authenticates, replay-checks and decrypts the SRTP packet `buf[0,
   * length)` in place; returns the RTP length, or a negative `SrtpRejection`.
   */
  unprotectRtp(buf: Uint8Array, length: number): number {
    const rtpLength = length - AUTH_TAG_LENGTH;
    const header = rtpHeaderLength(buf, rtpLength);
    if (header < 0) return SrtpRejection.Malformed;
    const ssrc = readU32(buf, 8);
    const seq = (buf[2]! << 8) | buf[3]!;
    const known = ssrc === this.#recvSsrc;
    const index = known ? estimateIndex(this.#rtpReplay.highest, seq) : seq;
    if (index < 0) return SrtpRejection.Replay;
    const roc = Math.floor(index / 0x10000);
    if (!this.#rtp.verify(buf, rtpLength, roc)) return SrtpRejection.Authentication;
    if (!known) {
      // A new stream (the peer restarted its sender): it authenticated, so it replaces the old one.
      this.#recvSsrc = ssrc;
      this.#rtpReplay.reset();
    } else if (!this.#rtpReplay.accepts(index)) {
      return SrtpRejection.Replay;
    }
    this.#rtpReplay.commit(index);
    this.#rtp.xor(buf, header, rtpLength, ssrc, roc, seq);
    return rtpLength;
  }

  /**
   * Encrypts the RTCP compound packet `buf[0, length)` after its first 8
   * bytes, appends E=1 and the SRTCP index, then the tag (RFC 3711 §3.4);
   * returns the SRTCP length (`length` + 14).
   */
  protectRtcp(buf: Uint8Array, length: number): number {
    if (length < 8 || buf.length < length + SRTCP_INDEX_LENGTH + AUTH_TAG_LENGTH) return SrtpRejection.Malformed;
    const index = this.#srtcpSendIndex;
    this.#srtcpSendIndex = (index + 1) & 0x7fffffff;
    this.#rtcp.xor(buf, 8, length, readU32(buf, 4), index >>> 16, index & 0xffff);
    writeU32(buf, length, (0x80000000 | index) >>> 0);
    this.#rtcp.sign(buf, length + SRTCP_INDEX_LENGTH, undefined);
    return length + SRTCP_INDEX_LENGTH + AUTH_TAG_LENGTH;
  }

  /** Authenticates, replay-checks and (when E is set) decrypts SRTCP in place; returns the RTCP length or a negative `SrtpRejection`. */
  unprotectRtcp(buf: Uint8Array, length: number): number {
    const rtcpLength = length - SRTCP_INDEX_LENGTH - AUTH_TAG_LENGTH;
    if (rtcpLength < 8 || (buf[0]! >> 6) !== 2) return SrtpRejection.Malformed;
    if (!this.#rtcp.verify(buf, rtcpLength + SRTCP_INDEX_LENGTH, undefined)) return SrtpRejection.Authentication;
    const trailer = readU32(buf, rtcpLength);
    const index = trailer & 0x7fffffff;
    if (!this.#rtcpReplay.accepts(index)) return SrtpRejection.Replay;
    this.#rtcpReplay.commit(index);
    if (trailer & 0x80000000) this.#rtcp.xor(buf, 8, rtcpLength, readU32(buf, 4), index >>> 16, index & 0xffff);
    return rtcpLength;
  }
}

/**
 * RFC 3711 Appendix A: the index of a packet with sequence number `seq`
 * given the highest index received (`s_l` and ROC in one number): the guess
 * of v among ROC-1, ROC, ROC+1 nearest to `s_l`. Negative when it would be
 * before the first rollover.
 */
export function estimateIndex(highest: number, seq: number): number {
  if (highest < 0) return seq;
  const roc = Math.floor(highest / 0x10000);
  const sl = highest % 0x10000;
  let v = roc;
  if (sl < 0x8000) {
    if (seq - sl > 0x8000) v = roc - 1;
  } else if (sl - 0x8000 > seq) {
    v = roc + 1;
  }
  return v * 0x10000 + seq;
}
