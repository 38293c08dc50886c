/**
 * SDES (RFC 4568): choosing among a peer's `a=crypto` lines and writing ours.
 * Only AES_CM_128_HMAC_SHA1_80 with one inline key, no MKI and no session
 * parameters is usable here; an offer whose every line asks for more is
 * refused with the reason of its first line (the call answers 488).
 */
import { decodeMasterKey, type SrtpSuite } from './srtp-keys.js';

/** One `a=crypto` attribute as the SDP parser gives it. */
export interface CryptoAttribute {
  id: number;
  suite: string;
  config: string;
  sessionConfig?: string;
}

/** The line chosen from an offer (or found in an answer): its tag and the peer's key. */
export interface ChosenCrypto {
  tag: number;
  suite: SrtpSuite;
  /** base64 master key || salt. */
  key: string;
}

const SUPPORTED: SrtpSuite = 'AES_CM_128_HMAC_SHA1_80';
/**
 * The shortest key lifetime accepted, in packets. We never re-key in a call
 * (RFC 4568 §6.1 lets the offerer bound a key's use): 2^24 packets is 93
 * hours of 20 ms audio, longer than any call. Shorter ones are refused.
 */
const MIN_LIFETIME = 2 ** 24;

/** Why one `a=crypto` line cannot be used, or its key. */
export function readCryptoLine(line: CryptoAttribute): ChosenCrypto | { problem: string } {
  if (line.suite !== SUPPORTED) return { problem: `crypto suite ${line.suite} is not supported (only ${SUPPORTED})` };
  // RFC 4568 §6.3: session parameters change the transform (UNENCRYPTED_SRTP, KDR, WSH, FEC_ORDER…); we run the default one only.
  if (line.sessionConfig) return { problem: `crypto session parameter ${line.sessionConfig} is not supported` };
  const keys = line.config.split(';');
  // Several keys exist only to be told apart by MKI, which we do not use.
  if (keys.length !== 1) return { problem: 'several keys (MKI) are not supported' };
  const [method, rest = ''] = keys[0]!.split(/:(.*)/s, 2) as [string, string?];
  if (method !== 'inline') return { problem: `key method ${method} is not supported` };
  const [material = '', ...params] = rest.split('|');
  if (!decodeMasterKey(material)) return { problem: 'the inline key is not 30 bytes of base64' };
  for (const param of params) {
    // RFC 4568 §6.1: `MKI:length` has a colon, a lifetime does not.
    if (param.includes(':')) return { problem: 'MKI is not supported' };
    const lifetime = /^2\^(\d+)$/.exec(param) ? 2 ** Number(param.slice(2)) : /^\d+$/.test(param) ? Number(param) : NaN;
    if (!(lifetime >= MIN_LIFETIME)) return { problem: `key lifetime ${param} is shorter than we can honour without re-keying` };
  }
  return { tag: line.id, suite: SUPPORTED, key: material };
}

/** The first usable line of an offer (RFC 4568 §7.1.2: the answerer picks one), or why none is. */
export function chooseCrypto(lines: readonly CryptoAttribute[]): ChosenCrypto | { problem: string } {
  if (lines.length === 0) return { problem: 'RTP/SAVP without a=crypto' };
  let first: { problem: string } | undefined;
  for (const line of lines) {
    const read = readCryptoLine(line);
    if (!('problem' in read)) return read;
    first ??= read;
  }
  return first!;
}

/** Our `a=crypto` line: the tag of the chosen (or offered) line, our key. */
export function cryptoAttribute(tag: number, key: string): CryptoAttribute {
  return { id: tag, suite: SUPPORTED, config: `inline:${key}` };
}
