/**
 * Small pieces of request building for the user agent: outbound-proxy
 * routes and the digest retry of RFC 3261 §22.2.
 */
import { SipRequest, type SipResponse } from '../message/message.js';
import { serializeUri } from '../message/uri.js';
import { parseVia, serializeVia } from '../message/via.js';
import { newBranch } from '../transaction/transaction-layer.js';
import { answerChallenge, parseChallenge, type DigestChallenge, type DigestCredentials } from './digest.js';

export function ensureLr(uri: string): string {
  const bare = uri.startsWith('<') ? uri.slice(1, -1) : uri;
  return /;lr(\b|=|;|$)/.test(bare) ? bare : `${bare};lr`;
}

/** RFC 3261 §22.2: the same request with credentials, a new branch and CSeq + 1. */
export function withCredentials(request: SipRequest, response: SipResponse, auth: DigestCredentials): SipRequest | undefined {
  const proxy = response.status === 407;
  const challenges = response.headers
    .getAll(proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate')
    .map(parseChallenge)
    .filter((c): c is DigestChallenge => c !== undefined && (auth.realm === undefined || c.realm === auth.realm));
  const challenge = challenges.find((c) => c.algorithm === 'SHA-256') ?? challenges.find((c) => c.algorithm === 'MD5') ?? challenges[0];
  if (!challenge) return undefined;
  const headers = request.headers.clone();
  const via = parseVia(request.headers.get('Via')!);
  via.params.set('branch', newBranch());
  headers.setAll('Via', [serializeVia(via)]);
  headers.set('CSeq', `${request.cseq.seq + 1} ${request.method}`);
  headers.delete('Authorization').delete('Proxy-Authorization');
  const retry = new SipRequest({ method: request.method, uri: request.uri, headers, body: request.body });
  headers.append(proxy ? 'Proxy-Authorization' : 'Authorization', answerChallenge(challenge, auth, retry, serializeUri(request.uri)));
  return retry;
}

/** The 401/407 says the nonce expired while the credentials were right (`stale=true`). */
export function isStaleChallenge(response: SipResponse): boolean {
  return response.headers
    .getAll(response.status === 407 ? 'Proxy-Authenticate' : 'WWW-Authenticate')
    .some((value) => parseChallenge(value)?.stale === true);
}
