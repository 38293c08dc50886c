/**
 * HMAC-SHA1 (RFC 2104 over FIPS 180-4 SHA-1) for the SRTP tag, with the key's
 * inner and outer pad states computed once, every buffer preallocated and
 * the digest written into the instance's own 20 bytes: nothing is allocated
 * per packet. node:crypto's `createHmac` builds an object, a native handle
 * and a digest Buffer for every packet and costs several times more
 * (bench/README.md, "SRTP"); its answers are the reference in the tests.
 */
import { createHash } from 'node:crypto';

const BLOCK = 64;
const IV = new Int32Array([0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476, 0xc3d2e1f0 | 0]);

export class HmacSha1 {
  /** The last digest; overwritten by the next `mac`. */
  readonly digest = new Uint8Array(20);
  readonly #inner = new Int32Array(5);
  readonly #outer = new Int32Array(5);
  readonly #h = new Int32Array(5);
  readonly #w = new Int32Array(80);
  readonly #tail = new Uint8Array(2 * BLOCK);

  constructor(key: Uint8Array) {
    // RFC 2104 §2: a key longer than the block is hashed first (SRTP's is 20 bytes; this is for completeness).
    const k = key.length > BLOCK ? createHash('sha1').update(key).digest() : key;
    const pad = new Uint8Array(BLOCK);
    for (const [state, byte] of [[this.#inner, 0x36], [this.#outer, 0x5c]] as const) {
      pad.fill(byte);
      for (let i = 0; i < k.length; i++) pad[i] = k[i]! ^ byte;
      state.set(IV);
      this.#compress(state, pad, 0);
    }
  }

  /** HMAC of `data[0, length)` followed, when given, by `suffix` as 32 bits big-endian (SRTP's ROC); into `digest`. */
  mac(data: Uint8Array, length: number, suffix?: number): Uint8Array {
    const h = this.#h;
    h.set(this.#inner);
    let offset = 0;
    for (; length - offset >= BLOCK; offset += BLOCK) this.#compress(h, data, offset);
    const tail = this.#tail;
    let t = 0;
    while (offset < length) tail[t++] = data[offset++]!;
    if (suffix !== undefined) {
      tail[t++] = suffix >>> 24;
      tail[t++] = (suffix >>> 16) & 0xff;
      tail[t++] = (suffix >>> 8) & 0xff;
      tail[t++] = suffix & 0xff;
    }
    const messageBytes = BLOCK + length + (suffix !== undefined ? 4 : 0);
    this.#finish(h, t, messageBytes);
    // Outer hash: the opad state over the inner digest.
    for (let i = 0; i < 5; i++) writeWord(tail, i * 4, h[i]!);
    h.set(this.#outer);
    this.#finish(h, 20, BLOCK + 20);
    for (let i = 0; i < 5; i++) writeWord(this.digest, i * 4, h[i]!);
    return this.digest;
  }

  /** Pads the `used` bytes in the tail buffer (FIPS 180-4 §5.1.1) for a message of `messageBytes` and hashes them. */
  #finish(h: Int32Array, used: number, messageBytes: number): void {
    const tail = this.#tail;
    tail[used++] = 0x80;
    const end = used + 8 <= BLOCK ? BLOCK : 2 * BLOCK;
    tail.fill(0, used, end - 8);
    const bits = messageBytes * 8;
    writeWord(tail, end - 8, Math.floor(bits / 0x100000000));
    writeWord(tail, end - 4, bits >>> 0);
    this.#compress(h, tail, 0);
    if (end > BLOCK) this.#compress(h, tail, BLOCK);
  }

  /** One SHA-1 block (FIPS 180-4 §6.1.2). */
  #compress(h: Int32Array, block: Uint8Array, offset: number): void {
    const w = this.#w;
    for (let t = 0; t < 16; t++) {
      const o = offset + t * 4;
      w[t] = (block[o]! << 24) | (block[o + 1]! << 16) | (block[o + 2]! << 8) | block[o + 3]!;
    }
    for (let t = 16; t < 80; t++) {
      const x = w[t - 3]! ^ w[t - 8]! ^ w[t - 14]! ^ w[t - 16]!;
      w[t] = (x << 1) | (x >>> 31);
    }
    let a = h[0]!, b = h[1]!, c = h[2]!, d = h[3]!, e = h[4]!;
    for (let t = 0; t < 80; t++) {
      let f: number;
      let k: number;
      if (t < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (t < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (t < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc | 0;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6 | 0;
      }
      const temp = (((a << 5) | (a >>> 27)) + f + e + k + w[t]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = temp;
    }
    h[0] = (h[0]! + a) | 0;
    h[1] = (h[1]! + b) | 0;
    h[2] = (h[2]! + c) | 0;
    h[3] = (h[3]! + d) | 0;
    h[4] = (h[4]! + e) | 0;
  }
}

function writeWord(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = (value >>> 24) & 0xff;
  buf[offset + 1] = (value >>> 16) & 0xff;
  buf[offset + 2] = (value >>> 8) & 0xff;
  buf[offset + 3] = value & 0xff;
}
