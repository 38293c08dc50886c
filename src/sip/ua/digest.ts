/**
 * HTTP Digest authentication for SIP (RFC 3261 §22, RFC 2617, RFC 8760):
 * challenging as a UAS/registrar and answering challenges as a UAC.
 *
 * Nonces are stateless and self-validating: `base64url(time ":" HMAC(secret,
 * time ":" realm))`, so a restart with the same secret keeps them valid and
 * an expired nonce is answered `stale=true` (RFC 2617 §3.2.1). Nonce counts
 * (`nc`) are tracked per nonce to refuse replays.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Scanner, quote } from '../message/grammar.js';
import type { SipRequest } from '../message/message.js';

export type DigestAlgorithm = 'MD5' | 'SHA-256' | 'MD5-sess' | 'SHA-256-sess';

export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque: string | undefined;
  algorithm: DigestAlgorithm;
  /** qop options offered, e.g. `['auth']`; empty for RFC 2069 style challenges. */
  qop: string[];
  stale: boolean;
}

export interface DigestCredentials {
  username: string;
  password: string;
  /** Answer only challenges from this realm; any realm when absent. */
  realm?: string;
}

/** Parses `Digest k=v, k="v"` into lower-cased keys; `undefined` for other schemes or bad syntax. */
export function parseDigestParams(value: string): Map<string, string> | undefined {
  const s = new Scanner(value, 'Digest');
  try {
    s.skipWs();
    if (s.token().toLowerCase() !== 'digest') return undefined;
    const params = new Map<string, string>();
    s.skipWs();
    while (!s.done) {
      const name = s.token().toLowerCase();
      s.expect('=');
      const v = s.peek() === '"' ? s.quotedString() : s.token();
      params.set(name, v);
      s.skipWs();
      if (!s.accept(',')) break;
    }
    s.end();
    return params;
  } catch {
    return undefined;
  }
}

const ALGORITHMS: readonly DigestAlgorithm[] = ['MD5', 'SHA-256', 'MD5-sess', 'SHA-256-sess'];

export function parseChallenge(value: string): DigestChallenge | undefined {
  const p = parseDigestParams(value);
  const realm = p?.get('realm');
  const nonce = p?.get('nonce');
  if (!p || realm === undefined || nonce === undefined) return undefined;
  const alg = ALGORITHMS.find((a) => a.toLowerCase() === (p.get('algorithm') ?? 'MD5').toLowerCase());
  if (!alg) return undefined;
  return {
    realm,
    nonce,
    opaque: p.get('opaque'),
    algorithm: alg,
    qop: (p.get('qop') ?? '').split(',').map((q) => q.trim()).filter(Boolean),
    stale: p.get('stale')?.toLowerCase() === 'true',
  };
}

function hash(algorithm: DigestAlgorithm, data: string | Buffer): string {
  return createHash(algorithm.startsWith('SHA-256') ? 'sha256' : 'md5').update(data).digest('hex');
}

interface ResponseInput {
  algorithm: DigestAlgorithm;
  username: string;
  realm: string;
  password: string;
  nonce: string;
  cnonce: string | undefined;
  nc: string | undefined;
  qop: string | undefined;
  method: string;
  uri: string;
  body: Buffer;
}

/** RFC 2617 §3.2.2.1 request-digest (with RFC 8760 algorithms). */
export function digestResponse(input: ResponseInput): string {
  const h = (data: string | Buffer): string => hash(input.algorithm, data);
  let ha1 = h(`${input.username}:${input.realm}:${input.password}`);
  if (input.algorithm.endsWith('-sess')) ha1 = h(`${ha1}:${input.nonce}:${input.cnonce ?? ''}`);
  const ha2 = input.qop === 'auth-int' ? h(`${input.method}:${input.uri}:${h(input.body)}`) : h(`${input.method}:${input.uri}`);
  return input.qop ? h(`${ha1}:${input.nonce}:${input.nc}:${input.cnonce}:${input.qop}:${ha2}`) : h(`${ha1}:${input.nonce}:${ha2}`);
}

/**
 * The Authorization / Proxy-Authorization value answering `challenge` for
 * `request` (RFC 3261 §22.2, §22.3). `nc` is the count of uses of this nonce.
 */
export function answerChallenge(challenge: DigestChallenge, credentials: DigestCredentials, request: SipRequest, uri: string, nc = 1): string {
  const qop = challenge.qop.includes('auth') ? 'auth' : challenge.qop.includes('auth-int') ? 'auth-int' : undefined;
  const cnonce = qop || challenge.algorithm.endsWith('-sess') ? randomBytes(8).toString('hex') : undefined;
  const ncText = nc.toString(16).padStart(8, '0');
  const response = digestResponse({
    algorithm: challenge.algorithm,
    username: credentials.username,
    realm: challenge.realm,
    password: credentials.password,
    nonce: challenge.nonce,
    cnonce,
    nc: qop ? ncText : undefined,
    qop,
    method: request.method,
    uri,
    body: request.body,
  });
  const parts = [
    `username=${quote(credentials.username)}`,
    `realm=${quote(challenge.realm)}`,
    `nonce=${quote(challenge.nonce)}`,
    `uri=${quote(uri)}`,
    `response=${quote(response)}`,
    `algorithm=${challenge.algorithm}`,
  ];
  if (challenge.opaque !== undefined) parts.push(`opaque=${quote(challenge.opaque)}`);
  if (qop) parts.push(`qop=${qop}`, `nc=${ncText}`, `cnonce=${quote(cnonce!)}`);
  return `Digest ${parts.join(', ')}`;
}

/** Looks up the password of `username` in `realm`; `undefined` for an unknown user. Injected by the host (its database). */
export type CredentialLookup = (username: string, realm: string) => Promise<string | undefined>;

export interface DigestServerOptions {
  /** Protection realm, usually the domain. */
  realm: string;
  /** HMAC key for nonces. Default: 32 random bytes (nonces then die with the process). */
  secret?: Buffer;
  /** Nonce lifetime. Default 300000 ms (5 min). */
  nonceTtlMs?: number;
  /** Algorithms offered, in order of preference (RFC 8760 §2.4: SHA-256 first). Default `['SHA-256', 'MD5']`. */
  algorithms?: DigestAlgorithm[];
  /** Time source for nonce expiry. Default `Date.now`. */
  now?: () => number;
}

export type DigestVerdict =
  | { ok: true; username: string }
  | { ok: false; stale: boolean; reason: 'missing' | 'malformed' | 'unknown-user' | 'bad-response' | 'bad-nonce' | 'replay' | 'realm' };

export class DigestServer {
  readonly realm: string;
  readonly #secret: Buffer;
  readonly #ttl: number;
  readonly #algorithms: DigestAlgorithm[];
  readonly #now: () => number;
  /** Highest nc seen per nonce (RFC 2617 §3.2.2: the count must increase). */
  readonly #nonceCounts = new Map<string, { nc: number; expires: number }>();

  constructor(options: DigestServerOptions) {
    this.realm = options.realm;
    this.#secret = options.secret ?? randomBytes(32);
    this.#ttl = options.nonceTtlMs ?? 300_000;
    this.#algorithms = options.algorithms ?? ['SHA-256', 'MD5'];
    this.#now = options.now ?? Date.now;
  }

  #sign(time: string): string {
    return createHmac('sha256', this.#secret).update(`${time}:${this.realm}`).digest('base64url').slice(0, 32);
  }

  newNonce(): string {
    const time = this.#now().toString(36);
    return Buffer.from(`${time}:${this.#sign(time)}`).toString('base64url');
  }

  /** 'ok', 'stale' (well signed but expired) or 'bad'. */
  checkNonce(nonce: string): 'ok' | 'stale' | 'bad' {
    const text = Buffer.from(nonce, 'base64url').toString();
    const [time, mac] = text.split(':');
    if (!time || !mac) return 'bad';
    const expected = Buffer.from(this.#sign(time));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'bad';
    const issued = parseInt(time, 36);
    return this.#now() - issued > this.#ttl || issued > this.#now() + 1000 ? 'stale' : 'ok';
  }

  /** WWW-Authenticate / Proxy-Authenticate values, one per algorithm (RFC 8760 §2.4). */
  challenge(stale = false): string[] {
    const nonce = this.newNonce();
    return this.#algorithms.map(
      (algorithm) => `Digest realm=${quote(this.realm)}, nonce=${quote(nonce)}, algorithm=${algorithm}, qop="auth"${stale ? ', stale=true' : ''}`,
    );
  }

  /**
   * Checks the credentials of `request` in `headerName` (Authorization for
   * a registrar/UAS, Proxy-Authorization for a proxy). Only qop=auth
   * answers are accepted, so every answer is bound to a fresh nc and cnonce.
   */
  async verify(request: SipRequest, lookup: CredentialLookup, headerName: 'Authorization' | 'Proxy-Authorization' = 'Authorization'): Promise<DigestVerdict> {
    const values = request.headers.getAll(headerName);
    if (values.length === 0) return { ok: false, stale: false, reason: 'missing' };
    let p: Map<string, string> | undefined;
    for (const value of values) {
      const candidate = parseDigestParams(value);
      if (candidate?.get('realm') === this.realm) p = candidate;
    }
    if (!p) return { ok: false, stale: false, reason: values.some((v) => parseDigestParams(v)) ? 'realm' : 'malformed' };
    const username = p.get('username');
    const nonce = p.get('nonce');
    const uri = p.get('uri');
    const response = p.get('response');
    const algorithm = ALGORITHMS.find((a) => a.toLowerCase() === (p.get('algorithm') ?? 'MD5').toLowerCase());
    const qop = p.get('qop');
    const nc = p.get('nc');
    const cnonce = p.get('cnonce');
    if (!username || !nonce || !uri || !response || !algorithm || !this.#algorithms.includes(algorithm) || qop !== 'auth' || !nc || !/^[0-9a-fA-F]{8}$/.test(nc) || !cnonce) {
      return { ok: false, stale: false, reason: 'malformed' };
    }
    const nonceState = this.checkNonce(nonce);
    if (nonceState === 'bad') return { ok: false, stale: false, reason: 'bad-nonce' };
    const password = await lookup(username, this.realm);
    if (password === undefined) return { ok: false, stale: false, reason: 'unknown-user' };
    const expected = digestResponse({ algorithm, username, realm: this.realm, password, nonce, cnonce, nc, qop, method: request.method, uri, body: request.body });
    const a = Buffer.from(expected);
    const b = Buffer.from(response.toLowerCase());
    if (a.length !== b.length || !timingSafeEqual(a, b)) return { ok: false, stale: false, reason: 'bad-response' };
    // A correct answer to an expired nonce: ask again with stale=true so the client retries without prompting (RFC 2617 §3.2.1).
    if (nonceState === 'stale') return { ok: false, stale: true, reason: 'bad-nonce' };
    const count = parseInt(nc, 16);
    const now = this.#now();
    const seen = this.#nonceCounts.get(nonce);
    if (seen && count <= seen.nc) return { ok: false, stale: false, reason: 'replay' };
    this.#nonceCounts.set(nonce, { nc: count, expires: now + this.#ttl });
    if (this.#nonceCounts.size > 10_000) this.#purge(now);
    return { ok: true, username };
  }

  #purge(now: number): void {
    for (const [nonce, state] of this.#nonceCounts) if (state.expires < now) this.#nonceCounts.delete(nonce);
  }
}
