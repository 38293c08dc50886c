import type { SessionDescription } from 'sdp-transform';
import { answerFor, fromSdpMedia, negotiateAudio, toSdpMediaFields, type AudioMediaDescription } from '../media/codecs/negotiate.js';
import type { LocalMedia, RemoteMedia } from '../media/endpoint.js';
import { answerDirection, mediaDirection, parseSdp, serializeSdp, type MediaDirection } from '../sip/message/sdp.js';

/**
 * Between SIP bodies and the media endpoint: the SDP we send for a leg's
 * RTP port, and what a peer's SDP means for where we send media.
 */
export function describeSdp(local: LocalMedia, audio: AudioMediaDescription, sessionId: number, direction: MediaDirection = 'sendrecv', sessionVersion = 1): string {
  const ipVer = local.address.includes(':') ? 6 : 4;
  const sdp: SessionDescription = {
    version: 0,
    origin: { username: 'sautikit', sessionId, sessionVersion, netType: 'IN', ipVer, address: local.address },
    name: 'Sautikit',
    connection: { version: ipVer, ip: local.address },
    timing: { start: 0, stop: 0 },
    media: [{ type: 'audio', port: local.port, protocol: 'RTP/AVP', ...toSdpMediaFields(audio), direction }],
  };
  return serializeSdp(sdp);
}

export type SdpProblem = 'unparsable' | 'no_audio' | 'no_common_codec';

/** Reads a peer's SDP offer and picks what to use; the answer carries one codec plus telephone-event. */
export function negotiateOffer(offer: string, codecs: ReturnType<typeof codecList>): { remote: RemoteMedia; answer: AudioMediaDescription } | { problem: SdpProblem } {
  const parsed = readAudio(offer);
  if ('problem' in parsed) return parsed;
  const negotiated = negotiateAudio(parsed.audio, { codecs });
  if (!negotiated) return { problem: 'no_common_codec' };
  return {
    remote: {
      address: parsed.address, port: parsed.port, payloadType: negotiated.payloadType, codec: negotiated.codec.name,
      telephoneEvent: negotiated.telephoneEvent?.payloadType ?? null,
    },
    answer: answerFor(negotiated),
  };
}

/** Reads a peer's SDP answer to our offer. */
export function readAnswer(answer: string, codecs: ReturnType<typeof codecList>): RemoteMedia | { problem: SdpProblem } {
  const result = negotiateOffer(answer, codecs);
  return 'problem' in result ? result : result.remote;
}

function readAudio(text: string): { address: string; port: number; audio: AudioMediaDescription } | { problem: SdpProblem } {
  let sdp: SessionDescription;
  try {
    sdp = parseSdp(text);
  } catch {
    return { problem: 'unparsable' };
  }
  const media = sdp.media.find((m) => m.type === 'audio' && m.port > 0);
  if (!media) return { problem: 'no_audio' };
  const address = media.connection?.ip ?? sdp.connection?.ip;
  if (!address) return { problem: 'unparsable' };
  return { address, port: media.port, audio: fromSdpMedia(media) };
}

/**
 * A browser's WebRTC offer or answer: DTLS-SRTP (`UDP/TLS/RTP/SAVPF`, RFC 5764)
 * with ICE. Such a leg's media goes through a `WebRtcGateway` (media/webrtc/);
 * SDES-SRTP (`RTP/SAVP` + `a=crypto`, SIP phones) is another path, not this one.
 */
export function isWebRtcSdp(text: string): boolean {
  let sdp: SessionDescription;
  try {
    sdp = parseSdp(text);
  } catch {
    return false;
  }
  const audio = sdp.media.find((m) => m.type === 'audio');
  return audio !== undefined && /\bSAVPF\b/.test(audio.protocol) && (audio.fingerprint !== undefined || sdp.fingerprint !== undefined);
}

/** A Request-URI reached over a browser's WebSocket (`;transport=ws|wss`, RFC 7118 §5): the far end is a WebRTC client. */
export function isWebSocketTarget(uri: string): boolean {
  return /;transport=wss?(?=[;>?]|$)/i.test(uri);
}

/** The codecs the platform speaks, in preference order. */
export function codecList(): Array<'PCMU' | 'PCMA'> {
  return ['PCMU', 'PCMA'];
}

/** RFC 2543 hold: a connection address of 0.0.0.0 (RFC 3264 §8.4 still asks answerers to understand it). */
export function isHoldAddress(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

/**
 * Our side's direction given the peer's SDP (its offer, or its answer to
 * ours): the mirror of what it says (RFC 3264 §6.1: sendonly → recvonly,
 * inactive → inactive), where a peer that gives 0.0.0.0 as its address wants
 * nothing sent to it (RFC 3264 §8.4). Undefined when the SDP is unusable.
 */
export function localDirectionFor(peerSdp: string): MediaDirection | undefined {
  let sdp: SessionDescription;
  try {
    sdp = parseSdp(peerSdp);
  } catch {
    return undefined;
  }
  const audio = sdp.media.find((m) => m.type === 'audio' && m.port > 0);
  if (!audio) return undefined;
  let theirs = mediaDirection({ ...sdp, media: [audio] });
  if (isHoldAddress(audio.connection?.ip ?? sdp.connection?.ip ?? '')) {
    theirs = theirs === 'sendrecv' ? 'sendonly' : theirs === 'recvonly' ? 'inactive' : theirs;
  }
  return answerDirection(theirs);
}
