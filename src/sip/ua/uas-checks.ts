/**
 * The request checks a UAS makes before processing (RFC 3261 §8.2.1-§8.2.3),
 * in the RFC's order. Each returns the error response to send, or
 * `undefined` when the request may go on.
 */
import type { SipRequest, SipResponse } from '../message/message.js';
import { parseMediaType, parseOptionTags } from '../message/header-values.js';
import { createResponse } from './message-factory.js';

/** Methods this stack implements; anything else is 501 (§8.2.1). */
export const IMPLEMENTED_METHODS = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'INFO', 'UPDATE', 'PRACK', 'REFER', 'REGISTER'] as const;

/** Option tags we support: reliable provisionals (RFC 3262) and session timers (RFC 4028). */
export const SUPPORTED_EXTENSIONS: readonly string[] = ['100rel', 'timer'];

export function allowHeader(registrar: boolean): string {
  return IMPLEMENTED_METHODS.filter((m) => registrar || m !== 'REGISTER').join(', ');
}

export function isImplemented(method: string): boolean {
  return (IMPLEMENTED_METHODS as readonly string[]).includes(method);
}

export function checkRequest(request: SipRequest, options: { registrar: boolean }): SipResponse | undefined {
  const allow: [string, string] = ['Allow', allowHeader(options.registrar)];
  // §8.2.1 Method inspection: unknown → 501, known but not served here → 405, both with Allow.
  if (!isImplemented(request.method)) return createResponse(request, 501, { headers: [allow] });
  if (request.method === 'REGISTER' && !options.registrar) return createResponse(request, 405, { headers: [allow] });

  // §8.2.2.1: a Request-URI scheme we do not understand → 416 (RFC 4475 §3.3.2, §3.3.3).
  const scheme = request.uri.scheme;
  if (scheme !== 'sip' && scheme !== 'sips' && scheme !== 'tel') return createResponse(request, 416);

  // §8.2.2.3 Require: unknown extensions → 420 listing them in Unsupported (RFC 4475 §3.3.5). Not for CANCEL/ACK.
  if (request.method !== 'CANCEL' && request.method !== 'ACK') {
    const unsupported = parseOptionTags('Require', request.headers.getAll('Require')).filter((tag) => !SUPPORTED_EXTENSIONS.includes(tag.toLowerCase()));
    if (unsupported.length > 0) return createResponse(request, 420, { headers: [['Unsupported', unsupported.join(', ')]] });
  }

  // §8.2.3 Content processing: a body we cannot handle → 415 with Accept / Accept-Encoding (RFC 4475 §3.3.6).
  if (request.body.length > 0) {
    const encoding = request.headers.getAll('Content-Encoding').map((e) => e.trim().toLowerCase());
    if (encoding.some((e) => e !== 'identity')) return createResponse(request, 415, { headers: [['Accept-Encoding', 'identity']] });
    if (request.method === 'INVITE' && request.contentType !== 'application/sdp') {
      return createResponse(request, 415, { headers: [['Accept', 'application/sdp']] });
    }
  }

  // §21.4.7: we can only answer an INVITE with SDP; an Accept without it gets 406 (RFC 4475 §3.3.15).
  if (request.method === 'INVITE') {
    const accepts = request.headers.getAll('Accept').filter((a) => a !== '');
    if (accepts.length > 0) {
      const types = accepts.map((a) => parseMediaType('Accept', a));
      if (!types.some((t) => t === 'application/sdp' || t === 'application/*' || t === '*/*')) {
        return createResponse(request, 406, { headers: [['Accept', 'application/sdp'], ['Warning', '399 sautikit "only application/sdp bodies can be produced"']] });
      }
    }
  }
  return undefined;
}
