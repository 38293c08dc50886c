/**
 * SRTP master keys and the session keys derived from them (RFC 3711 §4.3)
 * for the one suite the platform speaks, AES_CM_128_HMAC_SHA1_80 (RFC 4568
 * §6.2.1): a 128-bit master key, a 112-bit master salt, key derivation rate 0.
 * Key material travels between threads and through SDP as base64 text
 * (`inline:` key||salt), so it is plain data on both media backends.
 */
import { createCipheriv, randomBytes } from 'node:crypto';

/** The crypto suites this platform can use (RFC 4568 §6.2). */
export type SrtpSuite = 'AES_CM_128_HMAC_SHA1_80';

export const MASTER_KEY_LENGTH = 16;
export const MASTER_SALT_LENGTH = 14;
/** key || salt, as the `inline:` key parameter carries it (RFC 4568 §6.1). */
export const MASTER_KEY_SALT_LENGTH = MASTER_KEY_LENGTH + MASTER_SALT_LENGTH;
/** HMAC-SHA1 key length (RFC 3711 §4.3: n_a = 160). */
export const AUTH_KEY_LENGTH = 20;
/** 80-bit authentication tag, for SRTP and SRTCP alike with this suite. */
export const AUTH_TAG_LENGTH = 10;

/**
 * The keys of one SRTP leg, as the endpoint needs them: the key we protect
 * with (the one in our SDP) and the key the peer protects with (in its SDP).
 */
export interface SrtpKeys {
  suite: SrtpSuite;
  /** base64 of our master key || master salt (30 bytes). */
  local: string;
  /** base64 of the peer's master key || master salt (30 bytes). */
  remote: string;
}

/** RFC 3711 §4.3.1 key derivation labels. */
export const KeyLabel = { RtpEncryption: 0, RtpAuthentication: 1, RtpSalt: 2, RtcpEncryption: 3, RtcpAuthentication: 4, RtcpSalt: 5 } as const;
export type KeyLabel = (typeof KeyLabel)[keyof typeof KeyLabel];

/** Session keys for one direction of one protocol (SRTP or SRTCP). */
export interface SessionKeys {
  encryption: Buffer;
  authentication: Buffer;
  salt: Buffer;
}

/** A fresh random master key || salt, base64, for our side of an SDES exchange. */
export function generateMasterKey(): string {
  return randomBytes(MASTER_KEY_SALT_LENGTH).toString('base64');
}

/** Decodes base64 key material; undefined unless it is exactly key || salt for this suite. */
export function decodeMasterKey(base64: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
  const bytes = Buffer.from(base64, 'base64');
  return bytes.length === MASTER_KEY_SALT_LENGTH ? bytes : undefined;
}

/**
 * RFC 3711 §4.3.1/§4.3.3: with a key derivation rate of 0, x = label·2^48 XOR
 * master_salt and the session key is the AES-CM keystream of the master key
 * with IV = x·2^16, cut to `length` bytes.
 */
export function deriveSessionKey(masterKey: Uint8Array, masterSalt: Uint8Array, label: KeyLabel, length: number): Buffer {
  const iv = Buffer.alloc(16);
  iv.set(masterSalt.subarray(0, MASTER_SALT_LENGTH), 0);
  // key_id = label || r (48 bits of index DIV kdr = 0): the label lands on byte 7 of the 14-byte salt.
  iv[7] = (iv[7] ?? 0) ^ label;
  const cipher = createCipheriv('aes-128-ctr', masterKey, iv);
  return Buffer.concat([cipher.update(Buffer.alloc(length)), cipher.final()]);
}

/** The SRTP and SRTCP session keys of one master key || salt. */
export function deriveSessionKeys(masterKeySalt: Uint8Array): { rtp: SessionKeys; rtcp: SessionKeys } {
  const key = masterKeySalt.subarray(0, MASTER_KEY_LENGTH);
  const salt = masterKeySalt.subarray(MASTER_KEY_LENGTH, MASTER_KEY_SALT_LENGTH);
  const derive = (e: KeyLabel, a: KeyLabel, s: KeyLabel): SessionKeys => ({
    encryption: deriveSessionKey(key, salt, e, MASTER_KEY_LENGTH),
    authentication: deriveSessionKey(key, salt, a, AUTH_KEY_LENGTH),
    salt: deriveSessionKey(key, salt, s, MASTER_SALT_LENGTH),
  });
  return {
    rtp: derive(KeyLabel.RtpEncryption, KeyLabel.RtpAuthentication, KeyLabel.RtpSalt),
    rtcp: derive(KeyLabel.RtcpEncryption, KeyLabel.RtcpAuthentication, KeyLabel.RtcpSalt),
  };
}
