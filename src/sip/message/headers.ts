/**
 * The header section of a SIP message: an ordered list of (name, value)
 * entries with canonical names. Multi-value headers are stored one entry
 * per value (RFC 3261 §7.3.1 makes `H: a, b` and `H: a` + `H: b` equivalent).
 */

/** RFC 3261 §7.3.3 compact forms (plus RFC 3515 r, RFC 3892 b, RFC 4028 x, RFC 3841 a/d/j, RFC 3265 o/u). */
const COMPACT: Record<string, string> = {
  i: 'Call-ID',
  m: 'Contact',
  e: 'Content-Encoding',
  l: 'Content-Length',
  c: 'Content-Type',
  f: 'From',
  s: 'Subject',
  k: 'Supported',
  t: 'To',
  v: 'Via',
  o: 'Event',
  u: 'Allow-Events',
  r: 'Refer-To',
  b: 'Referred-By',
  x: 'Session-Expires',
  a: 'Accept-Contact',
  j: 'Reject-Contact',
  d: 'Request-Disposition',
  y: 'Identity',
};

const CANONICAL = new Map<string, string>(
  [
    'Accept', 'Accept-Encoding', 'Accept-Language', 'Alert-Info', 'Allow', 'Allow-Events', 'Authentication-Info',
    'Authorization', 'Call-ID', 'Call-Info', 'Contact', 'Content-Disposition', 'Content-Encoding',
    'Content-Language', 'Content-Length', 'Content-Type', 'CSeq', 'Date', 'Error-Info', 'Event', 'Expires',
    'From', 'In-Reply-To', 'Max-Forwards', 'Min-Expires', 'MIME-Version', 'Organization', 'Priority',
    'Proxy-Authenticate', 'Proxy-Authorization', 'Proxy-Require', 'Record-Route', 'Refer-To', 'Referred-By',
    'Reply-To', 'Require', 'Retry-After', 'Route', 'RSeq', 'RAck', 'Server', 'Session-Expires', 'Subject',
    'Supported', 'Timestamp', 'To', 'Unsupported', 'User-Agent', 'Via', 'Warning', 'WWW-Authenticate',
    'Min-SE', 'P-Asserted-Identity', 'Privacy', 'Path', 'Reason', 'Identity',
  ].map((n) => [n.toLowerCase(), n]),
);

/** Headers whose values are comma-separated lists (RFC 3261 §7.3.1); authentication headers are not. */
const LIST_HEADERS = new Set([
  'Accept', 'Accept-Encoding', 'Accept-Language', 'Alert-Info', 'Allow', 'Allow-Events', 'Call-Info', 'Contact',
  'Content-Encoding', 'Content-Language', 'Error-Info', 'In-Reply-To', 'Proxy-Require', 'Record-Route', 'Require',
  'Route', 'Supported', 'Unsupported', 'Via', 'Warning', 'Path', 'P-Asserted-Identity', 'Privacy', 'Reason',
]);

/** Headers that may appear at most once (RFC 3261 §7.3.1; RFC 4475 §3.3.8). */
export const SINGLE_HEADERS = new Set(['Call-ID', 'CSeq', 'From', 'To', 'Max-Forwards', 'Content-Length', 'Content-Type', 'Expires', 'Min-Expires', 'Date']);

/** Canonical spelling of a header name; unknown names keep their spelling. */
export function canonicalHeaderName(name: string): string {
  const lower = name.toLowerCase();
  if (lower.length === 1) {
    const long = COMPACT[lower];
    if (long) return long;
  }
  return CANONICAL.get(lower) ?? name;
}

export function isListHeader(canonical: string): boolean {
  return LIST_HEADERS.has(canonical);
}

export type HeaderEntry = [name: string, value: string];

export class SipHeaders {
  readonly #entries: HeaderEntry[] = [];

  constructor(entries: Iterable<readonly [string, string]> = []) {
    for (const [name, value] of entries) this.append(name, value);
  }

  /** Entries in order, canonical names. */
  entries(): readonly HeaderEntry[] {
    return this.#entries;
  }

  has(name: string): boolean {
    const canonical = canonicalHeaderName(name);
    return this.#entries.some(([n]) => equalNames(n, canonical));
  }

  /** First value of the header, or `undefined`. */
  get(name: string): string | undefined {
    const canonical = canonicalHeaderName(name);
    return this.#entries.find(([n]) => equalNames(n, canonical))?.[1];
  }

  getAll(name: string): string[] {
    const canonical = canonicalHeaderName(name);
    return this.#entries.filter(([n]) => equalNames(n, canonical)).map(([, v]) => v);
  }

  append(name: string, value: string): this {
    this.#entries.push([canonicalHeaderName(name), value]);
    return this;
  }

  /** Adds before every other entry (a new top Via, RFC 3261 §8.1.1.7). */
  prepend(name: string, value: string): this {
    this.#entries.unshift([canonicalHeaderName(name), value]);
    return this;
  }

  /** Replaces all values of `name` with one value (in the place of the first one). */
  set(name: string, value: string): this {
    const canonical = canonicalHeaderName(name);
    const index = this.#entries.findIndex(([n]) => equalNames(n, canonical));
    this.delete(canonical);
    if (index < 0) this.#entries.push([canonical, value]);
    else this.#entries.splice(index, 0, [canonical, value]);
    return this;
  }

  /** Replaces all values of `name` with `values`, keeping the position of the first one. */
  setAll(name: string, values: readonly string[]): this {
    const canonical = canonicalHeaderName(name);
    const index = this.#entries.findIndex(([n]) => equalNames(n, canonical));
    this.delete(canonical);
    const at = index < 0 ? this.#entries.length : index;
    this.#entries.splice(at, 0, ...values.map((v): HeaderEntry => [canonical, v]));
    return this;
  }

  delete(name: string): this {
    const canonical = canonicalHeaderName(name);
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      if (equalNames(this.#entries[i]![0], canonical)) this.#entries.splice(i, 1);
    }
    return this;
  }

  clone(): SipHeaders {
    return new SipHeaders(this.#entries);
  }
}

function equalNames(a: string, b: string): boolean {
  return a === b || a.toLowerCase() === b.toLowerCase();
}
