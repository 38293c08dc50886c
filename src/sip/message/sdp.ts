/**
 * SDP bodies (RFC 4566) through `sdp-transform`, with the checks it does not
 * make: a body must start with `v=0` and carry an origin and a session name.
 */
import sdpTransform from 'sdp-transform';
import type { SessionDescription } from 'sdp-transform';
import { SipParseError } from './parse-error.js';

export type { SessionDescription };

export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export function parseSdp(text: string): SessionDescription {
  if (!/^v=0\r?\n/.test(text)) throw new SipParseError('bad-header', 'SDP: body does not start with v=0');
  if (!/\r?\no=/.test(text) || !/\r?\ns=/.test(text)) throw new SipParseError('bad-header', 'SDP: missing o= or s= line');
  return sdpTransform.parse(text);
}

export function serializeSdp(sdp: SessionDescription): string {
  return sdpTransform.write(sdp);
}

/** Direction of the first audio stream (session-level attribute as fallback, RFC 3264 §5.1). */
export function mediaDirection(sdp: SessionDescription): MediaDirection {
  const audio = sdp.media.find((m) => m.type === 'audio') ?? sdp.media[0];
  return (audio?.direction ?? sdp.direction ?? 'sendrecv') as MediaDirection;
}

/**
 * The RFC 3264 §6.1 answer direction for an offered one: sendonly ↔
 * recvonly, inactive stays inactive. Used to answer a hold re-INVITE.
 */
export function answerDirection(offered: MediaDirection): MediaDirection {
  switch (offered) {
    case 'sendonly':
      return 'recvonly';
    case 'recvonly':
      return 'sendonly';
    default:
      return offered;
  }
}
