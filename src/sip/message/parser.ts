/**
 * SIP message parser (RFC 3261 §7, §25) for datagrams and byte streams.
 *
 * A datagram is one message: Content-Length, when present, bounds the body
 * and extra octets are dropped (RFC 3261 §18.3, RFC 4475 §3.1.1.8); when
 * absent the body runs to the end of the datagram. On a stream the
 * Content-Length is mandatory for framing; a bad one loses the framing and
 * the connection must be closed (RFC 4475 §3.1.2.3).
 */
import { canonicalHeaderName, isListHeader, SINGLE_HEADERS, SipHeaders } from './headers.js';
import {
  parseContentLength,
  parseExpires,
  parseMaxForwards,
  parseOptionTags,
  parseSipDate,
  parseBoundedInt,
  parseMediaType,
} from './header-values.js';
import { isToken, splitList } from './grammar.js';
import { SipRequest, SipResponse, type SipMessage } from './message.js';
import { SipParseError, type PartialHeaders } from './parse-error.js';
import { isSipUri, parseUri, type Uri } from './uri.js';

export interface SipParserLimits {
  /** Largest message accepted, in bytes. Default 65536 (64 KiB). */
  maxMessageSize?: number;
  /** Most header entries (after list splitting). Default 256. */
  maxHeaders?: number;
  /** Longest unfolded header line, in characters. Default 16384. */
  maxHeaderLength?: number;
}

const DEFAULT_LIMITS: Required<SipParserLimits> = { maxMessageSize: 65536, maxHeaders: 256, maxHeaderLength: 16384 };

interface Head {
  isRequest: boolean;
  method: string | undefined;
  uriText: string;
  status: number;
  reason: string;
  headers: Array<[string, string]>;
  /** Declared Content-Length, or `undefined` when the header is absent. */
  contentLength: number | undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const CRLFCRLF = Buffer.from('\r\n\r\n');

function resolveLimits(limits: SipParserLimits | undefined): Required<SipParserLimits> {
  return { ...DEFAULT_LIMITS, ...limits };
}

/** Number of leading CR/LF octets (RFC 3261 §7.5: ignored before the start line; also keep-alives). */
function leadingCrlf(buf: Buffer): number {
  let i = 0;
  while (i < buf.length && (buf[i] === 0x0d || buf[i] === 0x0a)) i++;
  return i;
}

function withPartial(error: unknown, partial: PartialHeaders): never {
  if (error instanceof SipParseError) {
    error.partial ??= partial;
    throw error;
  }
  throw error;
}

function parseHead(bytes: Buffer, limits: Required<SipParserLimits>): Head {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new SipParseError('bad-encoding', 'header section is not valid UTF-8');
  }
  const lines = text.split(/\r?\n/);
  const startLine = lines.shift() ?? '';
  const head: Head = { isRequest: false, method: undefined, uriText: '', status: 0, reason: '', headers: [], contentLength: undefined };
  let startError: SipParseError | undefined;
  if (startLine.startsWith('SIP/')) {
    // RFC 3261 §7.2: Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
    const match = /^SIP\/2\.0 (\d{3})(?: ([^\r\n]*))?$/.exec(startLine);
    if (!match) startError = new SipParseError('bad-start-line', 'malformed status line');
    else {
      head.status = Number(match[1]);
      head.reason = match[2] ?? '';
      if (head.status < 100 || head.status > 699) startError = new SipParseError('bad-start-line', 'status code out of range');
    }
  } else {
    head.isRequest = true;
    // RFC 3261 §7.1: Request-Line = Method SP Request-URI SP SIP-Version CRLF, single SPs (RFC 4475 §3.1.2.9, §3.1.2.10).
    const parts = startLine.split(' ');
    head.method = parts[0] && isToken(parts[0]) ? parts[0] : undefined;
    if (parts.length !== 3 || !head.method || !parts[1]) {
      startError = new SipParseError('bad-start-line', 'malformed request line');
    } else if (parts[2] !== 'SIP/2.0') {
      startError = /^SIP\/\d+\.\d+$/i.test(parts[2] ?? '') && parts[2]!.toUpperCase() !== 'SIP/2.0'
        ? new SipParseError('bad-version', `unsupported version ${parts[2]}`, { status: 505 })
        : parts[2]?.toUpperCase() === 'SIP/2.0' ? undefined : new SipParseError('bad-start-line', 'malformed SIP-Version');
    }
    head.uriText = parts[1] ?? '';
  }
  // Unfold (RFC 3261 §7.3.1: a line starting with whitespace continues the previous one).
  const unfolded: string[] = [];
  for (const line of lines) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && unfolded.length > 0) {
      unfolded[unfolded.length - 1] += ` ${line.trim()}`;
    } else if (line !== '') {
      unfolded.push(line);
    }
    const last = unfolded[unfolded.length - 1];
    if (last !== undefined && last.length > limits.maxHeaderLength) {
      throw new SipParseError('header-too-long', 'header line too long', { framingLost: true });
    }
  }
  let lineError: SipParseError | undefined;
  const contentLengths: string[] = [];
  for (const line of unfolded) {
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon).replace(/[ \t]+$/, '');
    if (!isToken(name)) {
      lineError ??= new SipParseError('bad-header-line', `malformed header line '${line.slice(0, 40)}'`);
      continue;
    }
    const canonical = canonicalHeaderName(name);
    const value = line.slice(colon + 1).trim();
    if (canonical === 'Content-Length') contentLengths.push(value);
    if (isListHeader(canonical) && value !== '') {
      try {
        for (const v of splitList(value, canonical)) head.headers.push([canonical, v]);
      } catch (error) {
        if (!(error instanceof SipParseError)) throw error;
        lineError ??= error;
        head.headers.push([canonical, value]);
      }
    } else {
      head.headers.push([canonical, value]);
    }
    if (head.headers.length > limits.maxHeaders) {
      throw new SipParseError('too-many-headers', `more than ${limits.maxHeaders} headers`, { framingLost: true });
    }
  }
  const partial: PartialHeaders = { headers: head.headers, isRequest: head.isRequest, method: head.method };
  // Content-Length problems come first: they decide whether a stream can go on (RFC 4475 §3.3.9).
  try {
    if (contentLengths.length > 1) {
      throw new SipParseError('duplicate-header', 'more than one Content-Length', { framingLost: true });
    }
    if (contentLengths[0] !== undefined) head.contentLength = parseContentLength(contentLengths[0], limits.maxMessageSize);
    if (startError) throw startError;
    if (lineError) throw lineError;
  } catch (error) {
    withPartial(error, partial);
  }
  return head;
}

/** Checks the headers the stack depends on and builds the typed message. */
function buildMessage(head: Head, body: Buffer): SipMessage {
  const partial: PartialHeaders = { headers: head.headers, isRequest: head.isRequest, method: head.method };
  try {
    const headers = new SipHeaders(head.headers);
    let message: SipMessage;
    if (head.isRequest) {
      let uri: Uri;
      try {
        uri = parseUri(head.uriText);
      } catch (error) {
        if (error instanceof SipParseError) throw new SipParseError('bad-uri', `Request-URI: ${error.message}`);
        throw error;
      }
      // RFC 3261 §19.1.5: header components are not allowed in a Request-URI (RFC 4475 §3.1.2.11).
      if (isSipUri(uri) && uri.headers.length > 0) throw new SipParseError('bad-uri', 'Request-URI carries headers');
      message = new SipRequest({ method: head.method!, uri, headers, body });
    } else {
      message = new SipResponse({ status: head.status, reason: head.reason, headers, body });
    }
    validate(message);
    return message;
  } catch (error) {
    return withPartial(error, partial);
  }
}

const REQUIRED = ['Via', 'From', 'To', 'Call-ID', 'CSeq'];

function validate(message: SipMessage): void {
  const h = message.headers;
  // RFC 3261 §8.1.1: To, From, CSeq, Call-ID, Max-Forwards, Via are mandatory. Max-Forwards is not
  // required here so that RFC 2543 peers are still served (RFC 4475 §3.4.1).
  for (const name of REQUIRED) {
    if (!h.has(name)) throw new SipParseError('missing-header', `missing ${name} header`);
  }
  for (const name of SINGLE_HEADERS) {
    if (h.getAll(name).length > 1) throw new SipParseError('duplicate-header', `more than one ${name} header`);
  }
  void message.vias;
  void message.from;
  void message.to;
  const callId = message.callId;
  if (callId === '' || /\s/.test(callId)) throw new SipParseError('bad-header', 'Call-ID: empty or contains whitespace');
  const cseq = message.cseq;
  const mf = h.get('Max-Forwards');
  if (mf !== undefined) parseMaxForwards(mf);
  const expires = h.get('Expires');
  if (expires !== undefined) parseExpires(expires);
  const contacts = message.contacts;
  if (contacts !== '*') {
    for (const contact of contacts) {
      const value = contact.params.get('expires');
      if (value !== undefined) parseBoundedInt('Contact expires', value ?? '', 2 ** 32 - 1);
    }
  }
  void message.routes;
  void message.recordRoutes;
  const date = h.get('Date');
  if (date !== undefined) parseSipDate(date);
  void message.contentType;
  for (const accept of h.getAll('Accept')) if (accept !== '') parseMediaType('Accept', accept);
  for (const name of ['Require', 'Proxy-Require', 'Supported', 'Unsupported']) parseOptionTags(name, h.getAll(name));
  if (message.kind === 'request') {
    // RFC 3261 §8.1.1.5: the CSeq method MUST match the request method (RFC 4475 §3.1.2.17).
    if (cseq.method !== message.method) throw new SipParseError('bad-header', 'CSeq method does not match the request method');
  }
}

/**
 * Parses one datagram. Throws `SipParseError` (with `partial` headers when
 * any were read) for anything malformed.
 */
export function parseDatagram(datagram: Buffer, limits?: SipParserLimits): SipMessage {
  const l = resolveLimits(limits);
  if (datagram.length > l.maxMessageSize) throw new SipParseError('too-large', 'message too large', { status: 513 });
  const buf = datagram.subarray(leadingCrlf(datagram));
  let end = buf.indexOf(CRLFCRLF);
  let bodyStart: number;
  if (end < 0) {
    // No empty line: the whole datagram is the header section (RFC 4475 §3.1.2.15 has no final CRLF).
    end = buf.length;
    bodyStart = buf.length;
  } else {
    bodyStart = end + 4;
  }
  if (end === 0) throw new SipParseError('bad-start-line', 'empty message');
  const head = parseHead(buf.subarray(0, end), l);
  const available = buf.length - bodyStart;
  let body: Buffer;
  if (head.contentLength === undefined) {
    body = buf.subarray(bodyStart);
  } else if (head.contentLength > available) {
    // RFC 3261 §18.3: a Content-Length larger than the datagram is a 400 over UDP (RFC 4475 §3.1.2.2).
    const error = new SipParseError('truncated-body', 'Content-Length exceeds the bytes received');
    error.partial = { headers: head.headers, isRequest: head.isRequest, method: head.method };
    throw error;
  } else {
    body = buf.subarray(bodyStart, bodyStart + head.contentLength);
  }
  return buildMessage(head, Buffer.from(body));
}

export type FramedItem = { ok: true; message: SipMessage } | { ok: false; error: SipParseError };

/**
 * Reassembles messages from a byte stream (TCP). Feed chunks with `push`;
 * each complete message (or error) comes back in order. After an error with
 * `framingLost` the framer refuses more input: close the connection.
 */
export class StreamFramer {
  #buffer: Buffer = Buffer.alloc(0);
  #broken = false;
  #ended = false;
  readonly #limits: Required<SipParserLimits>;

  constructor(limits?: SipParserLimits) {
    this.#limits = resolveLimits(limits);
  }

  get broken(): boolean {
    return this.#broken;
  }

  /** Bytes waiting for the rest of a message. */
  get pending(): number {
    return this.#buffer.length;
  }

  push(chunk: Buffer): FramedItem[] {
    if (this.#broken || this.#ended) return [];
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const out: FramedItem[] = [];
    while (!this.#broken) {
      this.#buffer = this.#buffer.subarray(leadingCrlf(this.#buffer));
      if (this.#buffer.length === 0) break;
      const end = this.#buffer.indexOf(CRLFCRLF);
      if (end < 0) {
        if (this.#buffer.length > this.#limits.maxMessageSize) this.#fail(out, new SipParseError('too-large', 'header section too large', { status: 513, framingLost: true }));
        break;
      }
      let head: Head;
      try {
        head = parseHead(this.#buffer.subarray(0, end), this.#limits);
      } catch (error) {
        if (!(error instanceof SipParseError)) throw error;
        // Without a trustworthy head we cannot find the next message.
        this.#fail(out, error);
        break;
      }
      // RFC 3261 §18.3: Content-Length MUST be used with stream transports; absent means no body.
      const length = head.contentLength ?? 0;
      const total = end + 4 + length;
      if (total > this.#limits.maxMessageSize) {
        this.#fail(out, Object.assign(new SipParseError('too-large', 'message too large', { status: 513, framingLost: true }), { partial: { headers: head.headers, isRequest: head.isRequest, method: head.method } }));
        break;
      }
      if (this.#buffer.length < total) break;
      const body = Buffer.from(this.#buffer.subarray(end + 4, total));
      this.#buffer = this.#buffer.subarray(total);
      try {
        out.push({ ok: true, message: buildMessage(head, body) });
      } catch (error) {
        if (!(error instanceof SipParseError)) throw error;
        out.push({ ok: false, error });
      }
    }
    return out;
  }

  /**
   * The peer closed its side: whatever is left is parsed as if it were a
   * datagram, so a message cut short still gets an answer (RFC 4475 §3.1.2.2).
   */
  end(): FramedItem[] {
    if (this.#broken || this.#ended) return [];
    const rest = this.#buffer.subarray(leadingCrlf(this.#buffer));
    this.#buffer = Buffer.alloc(0);
    this.#ended = true;
    if (rest.length === 0) return [];
    try {
      return [{ ok: true, message: parseDatagram(rest, this.#limits) }];
    } catch (error) {
      if (!(error instanceof SipParseError)) throw error;
      return [{ ok: false, error }];
    }
  }

  #fail(out: FramedItem[], error: SipParseError): void {
    this.#broken = true;
    this.#buffer = Buffer.alloc(0);
    out.push({ ok: false, error: error.framingLost ? error : Object.assign(new SipParseError(error.code, error.message, { status: error.status, framingLost: true }), { partial: error.partial }) });
  }
}
