/**
 * SIP requests and responses (RFC 3261 §7). The parser validates every
 * header the stack depends on before handing a message out, so the typed
 * getters below cannot throw on a parsed message; on a message built by hand
 * they throw `SipParseError` for a malformed value.
 */
import { SipHeaders } from './headers.js';
import { parseCSeq, parseExpires, parseMaxForwards, parseMediaType, type CSeq } from './header-values.js';
import { parseNameAddr, type NameAddr } from './name-addr.js';
import { SipParseError } from './parse-error.js';
import { serializeUri, type Uri } from './uri.js';
import { parseVia, type Via } from './via.js';

abstract class SipMessageBase {
  headers: SipHeaders;
  body: Buffer;
  readonly #memo = new Map<string, unknown>();

  constructor(headers: SipHeaders, body: Buffer) {
    this.headers = headers;
    this.body = body;
  }

  /** Caches a parsed value by header text, so edits to headers are never served stale. */
  protected memo<T>(key: string, text: string, parse: (text: string) => T): T {
    const k = `${key}\u0000${text}`;
    if (this.#memo.has(k)) return this.#memo.get(k) as T;
    const value = parse(text);
    if (this.#memo.size > 64) this.#memo.clear();
    this.#memo.set(k, value);
    return value;
  }

  protected required(name: string): string {
    const value = this.headers.get(name);
    if (value === undefined) throw new SipParseError('missing-header', `missing ${name} header`);
    return value;
  }

  /** All Via values, top first. */
  get vias(): Via[] {
    return this.headers.getAll('Via').map((v) => this.memo('via', v, parseVia));
  }

  get topVia(): Via {
    return this.memo('via', this.required('Via'), parseVia);
  }

  get from(): NameAddr {
    return this.memo('from', this.required('From'), (t) => parseNameAddr(t, 'From'));
  }

  get to(): NameAddr {
    return this.memo('to', this.required('To'), (t) => parseNameAddr(t, 'To'));
  }

  get fromTag(): string | undefined {
    return this.from.params.get('tag') ?? undefined;
  }

  get toTag(): string | undefined {
    return this.to.params.get('tag') ?? undefined;
  }

  get callId(): string {
    return this.required('Call-ID').trim();
  }

  get cseq(): CSeq {
    return this.memo('cseq', this.required('CSeq'), parseCSeq);
  }

  get maxForwards(): number | undefined {
    const value = this.headers.get('Max-Forwards');
    return value === undefined ? undefined : parseMaxForwards(value);
  }

  get expires(): number | undefined {
    const value = this.headers.get('Expires');
    return value === undefined ? undefined : parseExpires(value);
  }

  /** Contact values; `'*'` for the wildcard of an un-REGISTER (RFC 3261 §10.2.2). */
  get contacts(): NameAddr[] | '*' {
    const values = this.headers.getAll('Contact');
    if (values.length === 1 && values[0]!.trim() === '*') return '*';
    return values.map((v) => this.memo('contact', v, (t) => parseNameAddr(t, 'Contact')));
  }

  get recordRoutes(): NameAddr[] {
    return this.headers.getAll('Record-Route').map((v) => this.memo('rr', v, (t) => parseNameAddr(t, 'Record-Route')));
  }

  get routes(): NameAddr[] {
    return this.headers.getAll('Route').map((v) => this.memo('route', v, (t) => parseNameAddr(t, 'Route')));
  }

  /** Lower-cased `type/subtype` of the body, or `undefined`. */
  get contentType(): string | undefined {
    const value = this.headers.get('Content-Type');
    return value === undefined ? undefined : this.memo('ctype', value, (t) => parseMediaType('Content-Type', t));
  }

  /** Body decoded as UTF-8 (SDP, text/plain, application/dtmf-relay). */
  get bodyText(): string {
    return this.body.toString('utf8');
  }
}

export class SipRequest extends SipMessageBase {
  readonly kind = 'request' as const;
  method: string;
  uri: Uri;

  constructor(init: { method: string; uri: Uri; headers?: SipHeaders; body?: Buffer | string }) {
    super(init.headers ?? new SipHeaders(), toBuffer(init.body));
    this.method = init.method;
    this.uri = init.uri;
  }

  get startLine(): string {
    return `${this.method} ${serializeUri(this.uri)} SIP/2.0`;
  }
}

export class SipResponse extends SipMessageBase {
  readonly kind = 'response' as const;
  status: number;
  reason: string;

  constructor(init: { status: number; reason?: string; headers?: SipHeaders; body?: Buffer | string }) {
    super(init.headers ?? new SipHeaders(), toBuffer(init.body));
    this.status = init.status;
    this.reason = init.reason ?? reasonPhrase(init.status);
  }

  get startLine(): string {
    return `SIP/2.0 ${this.status} ${this.reason}`;
  }
}

export type SipMessage = SipRequest | SipResponse;

function toBuffer(body: Buffer | string | undefined): Buffer {
  if (body === undefined) return Buffer.alloc(0);
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

const REASONS: Record<number, string> = {
  100: 'Trying', 180: 'Ringing', 181: 'Call Is Being Forwarded', 182: 'Queued', 183: 'Session Progress',
  200: 'OK', 202: 'Accepted', 300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Moved Temporarily',
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 406: 'Not Acceptable', 407: 'Proxy Authentication Required', 408: 'Request Timeout',
  410: 'Gone', 413: 'Request Entity Too Large', 415: 'Unsupported Media Type', 416: 'Unsupported URI Scheme',
  420: 'Bad Extension', 421: 'Extension Required', 423: 'Interval Too Brief', 480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist', 482: 'Loop Detected', 483: 'Too Many Hops', 484: 'Address Incomplete',
  486: 'Busy Here', 487: 'Request Terminated', 488: 'Not Acceptable Here', 491: 'Request Pending',
  500: 'Server Internal Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Server Time-out', 505: 'Version Not Supported', 513: 'Message Too Large', 600: 'Busy Everywhere',
  603: 'Decline', 604: 'Does Not Exist Anywhere', 606: 'Not Acceptable',
};

/** Default reason phrase for a status code (RFC 3261 §21). */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? (status < 200 ? 'Session Progress' : status < 300 ? 'OK' : 'Error');
}
