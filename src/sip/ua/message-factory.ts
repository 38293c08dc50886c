/**
 * Builders for the messages a user agent originates: responses (RFC 3261
 * §8.2.6), stateless error responses from a half-parsed request, tags,
 * Call-IDs, and the Via stamp of §18.2.1 / RFC 3581.
 */
import { randomHex } from '../../shared/random-pool.js';
import { SipHeaders } from '../message/headers.js';
import { reasonPhrase, SipResponse, type SipRequest } from '../message/message.js';
import { parseNameAddr, serializeNameAddr } from '../message/name-addr.js';
import type { SipParseError } from '../message/parse-error.js';
import { parseVia, serializeVia } from '../message/via.js';
import type { NetAddress } from '../transport/transport.js';

/** RFC 3261 §19.3: tags need at least 32 bits of randomness. */
export function newTag(): string {
  return randomHex(8);
}

/** RFC 3261 §8.1.1.4: globally unique Call-ID. */
export function newCallId(host: string): string {
  return `${randomHex(12)}@${host}`;
}

export interface ResponseOptions {
  reason?: string;
  /** To tag to add when the request's To has none (RFC 3261 §8.2.6.2). */
  toTag?: string;
  headers?: Iterable<readonly [string, string]>;
  body?: string | Buffer;
  contentType?: string;
}

/**
 * RFC 3261 §8.2.6.2: copies From, Call-ID, CSeq, every Via in order, and To
 * (adding the tag); for dialog-creating responses (§12.1.1) the
 * Record-Route values are copied too.
 */
export function createResponse(request: SipRequest, status: number, options: ResponseOptions = {}): SipResponse {
  const headers = new SipHeaders();
  for (const via of request.headers.getAll('Via')) headers.append('Via', via);
  if ((request.method === 'INVITE' && status > 100 && status < 300) || (request.method === 'SUBSCRIBE' && status < 300)) {
    for (const rr of request.headers.getAll('Record-Route')) headers.append('Record-Route', rr);
  }
  headers.append('From', request.headers.get('From')!);
  const to = request.to;
  if (options.toTag && status > 100 && to.params.get('tag') == null) {
    headers.append('To', serializeNameAddr({ ...to, params: new Map([...to.params, ['tag', options.toTag]]) }));
  } else {
    headers.append('To', request.headers.get('To')!);
  }
  headers.append('Call-ID', request.callId);
  headers.append('CSeq', request.headers.get('CSeq')!.trim());
  for (const [name, value] of options.headers ?? []) headers.append(name, value);
  if (options.body !== undefined && options.body.length > 0) headers.append('Content-Type', options.contentType ?? 'application/sdp');
  return new SipResponse({ status, reason: options.reason ?? reasonPhrase(status), headers, body: options.body });
}

/**
 * A stateless error response to a request that failed to parse, built from
 * whatever raw headers were read. Returns `undefined` when there is no Via
 * to answer along (the request is then dropped).
 */
export function createErrorResponse(error: SipParseError, status: number, extra: Iterable<readonly [string, string]> = []): SipResponse | undefined {
  const partial = error.partial;
  if (!partial?.isRequest || partial.method === 'ACK') return undefined;
  const raw = partial.headers;
  const vias = raw.filter(([n]) => n === 'Via').map(([, v]) => v);
  if (vias.length === 0) return undefined;
  const headers = new SipHeaders();
  for (const via of vias) headers.append('Via', via);
  for (const name of ['From', 'To', 'Call-ID', 'CSeq']) {
    const value = raw.find(([n]) => n === name)?.[1];
    if (value === undefined) continue;
    if (name === 'To' && !/;\s*tag\s*=/i.test(value)) headers.append(name, `${value};tag=${newTag()}`);
    else headers.append(name, value);
  }
  for (const [name, value] of extra) headers.append(name, value);
  const reason = status === error.status ? error.reasonPhrase : reasonPhrase(status);
  return new SipResponse({ status, reason, headers });
}

/**
 * RFC 3261 §18.2.1: add `received` when the sent-by host is not the source
 * address; RFC 3581 §4: fill in `rport` with the source port when asked.
 */
export function stampVia(request: SipRequest, remote: NetAddress): void {
  const values = request.headers.getAll('Via');
  const top = values[0];
  if (top === undefined) return;
  const via = parseVia(top);
  let changed = false;
  if (via.host !== remote.address.toLowerCase() || via.params.has('rport')) {
    via.params.set('received', remote.address.includes(':') ? `[${remote.address}]` : remote.address);
    changed = true;
  }
  if (via.params.has('rport') && via.params.get('rport') === null) {
    via.params.set('rport', String(remote.port));
    changed = true;
  }
  if (changed) request.headers.setAll('Via', [serializeVia(via), ...values.slice(1)]);
}

/** Adds a tag to a name-addr header value. */
export function withTag(value: string, tag: string, what: string): string {
  const parsed = parseNameAddr(value, what);
  parsed.params.set('tag', tag);
  return serializeNameAddr(parsed);
}

/** RFC 1918 / RFC 6598 / link-local / ULA addresses: a Contact there is unreachable from outside its NAT. */
export function isPrivateHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  return /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.|169\.254\.|f[cd][0-9a-f]{2}:)/i.test(bare);
}
