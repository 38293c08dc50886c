import type { SessionDescription } from 'sdp-transform';
import { answerFor, fromSdpMedia, negotiateAudio, toSdpMediaFields, type AudioMediaDescription } from '../media/codecs/negotiate.js';
import type { LocalMedia, RemoteMedia } from '../media/endpoint.js';
import { chooseCrypto, readCryptoLine, type ChosenCrypto, type CryptoAttribute } from '../media/rtp/sdes-crypto.js';
import { answerDirection, mediaDirection, parseSdp, serializeSdp, type MediaDirection } from '../sip/message/sdp.js';

/** The transport protocol of our m= line and, with SDES, our `a=crypto` (RFC 4568). */
export interface SdpSecurity {
  protocol: 'RTP/AVP' | 'RTP/SAVP';
  crypto?: CryptoAttribute;
}

/**
 * Between SIP bodies and the media endpoint: the SDP we send for a leg's
 * RTP port, and what a peer's SDP means for where we send media.
 */
export function describeSdp(
  local: LocalMedia, audio: AudioMediaDescription, sessionId: number, direction: MediaDirection = 'sendrecv', sessionVersion = 1,
  security: SdpSecurity = { protocol: 'RTP/AVP' },
): string {
  const ipVer = local.address.includes(':') ? 6 : 4;
  const sdp: SessionDescription = {
    version: 0,
    origin: { username: 'sautikit', sessionId, sessionVersion, netType: 'IN', ipVer, address: local.address },
    name: 'Sautikit',
    connection: { version: ipVer, ip: local.address },
    timing: { start: 0, stop: 0 },
    media: [{
      type: 'audio', port: local.port, protocol: security.protocol, ...toSdpMediaFields(audio), direction,
      ...(security.crypto ? { crypto: [security.crypto] } : {}),
    }],
  };
  return serializeSdp(sdp);
}

export type SdpProblem =
  | 'unparsable' | 'no_audio' | 'no_common_codec'
  /** DTLS-SRTP / SAVPF (WebRTC) or another profile this path does not speak. */
  | 'unsupported_profile'
  /** RTP/SAVP whose every `a=crypto` line asks for what we cannot do (suite, MKI, lifetime, session parameters). */
  | 'srtp_not_acceptable'
  /** SDES keys over signalling that is not TLS (SPEC §13): they would travel in clear. */
  | 'srtp_keys_over_insecure_transport'
  /** This leg must be SRTP (a `mandatory` trunk) and the SDP is plain RTP. */
  | 'srtp_required';

/** Why an SDP cannot be used; `detail` is for people (the 488's Warning, logs). */
export interface SdpRefusal {
  problem: SdpProblem;
  detail?: string;
}

/** What the leg's signalling allows for SRTP (SPEC §13). */
export interface SrtpTerms {
  /** SDES keys may be read from and written to this dialog's SDP: it runs over TLS, or the operator allowed plain transports. */
  keysMayTravel: boolean;
  /** Plain RTP is refused (a trunk with `srtp: mandatory`). */
  required?: boolean;
}

/** The SRTP a negotiation settled on: the peer's key and the tag and profile our SDP must carry. */
export interface NegotiatedSrtp extends ChosenCrypto {
  protocol: SdpSecurity['protocol'];
}

/**
 * The media profile of an m= line. This path speaks RTP/AVP and SDES over
 * RTP/SAVP; `dtls` (UDP/TLS/RTP/SAVP(F), a fingerprint) and SAVPF belong to
 * the WebRTC endpoint (SPEC §15): until that code claims them here, they are
 * answered 488 like any profile we do not speak.
 */
export function mediaProfile(media: SessionDescription['media'][number], session: SessionDescription): 'avp' | 'savp' | 'dtls' | 'other' {
  const protocol = media.protocol.toUpperCase();
  if (protocol.includes('TLS') || media.fingerprint || session.fingerprint) return 'dtls';
  if (protocol === 'RTP/SAVP') return 'savp';
  if (protocol === 'RTP/AVP' || protocol === 'RTP/AVPF') return 'avp';
  return 'other';
}

/**
 * Reads a peer's SDP offer and picks what to use; the answer carries one codec plus telephone-event.
 * An SDES offer (RTP/SAVP) is answered with SRTP or refused, never with plain RTP (SPEC §13).
 * `a=crypto` in an RTP/AVP offer (best-effort SRTP, as FreeSWITCH and others send it) is taken
 * when usable and the keys may travel, else ignored as RFC 4568 §5.1.3 allows.
 */
export function negotiateOffer(
  offer: string, codecs: ReturnType<typeof codecList>, terms: SrtpTerms = { keysMayTravel: false },
): { remote: RemoteMedia; answer: AudioMediaDescription; srtp?: NegotiatedSrtp } | SdpRefusal {
  const parsed = readAudio(offer);
  if ('problem' in parsed) return parsed;
  const srtp = srtpOfOffer(parsed.profile, parsed.crypto, terms);
  if (srtp && 'problem' in srtp) return srtp;
  const negotiated = negotiateAudio(parsed.audio, { codecs });
  if (!negotiated) return { problem: 'no_common_codec' };
  return {
    remote: {
      address: parsed.address, port: parsed.port, payloadType: negotiated.payloadType, codec: negotiated.codec.name,
      telephoneEvent: negotiated.telephoneEvent?.payloadType ?? null,
    },
    answer: answerFor(negotiated),
    ...(srtp ? { srtp } : {}),
  };
}

function srtpOfOffer(profile: ReturnType<typeof mediaProfile>, crypto: readonly CryptoAttribute[], terms: SrtpTerms): NegotiatedSrtp | SdpRefusal | undefined {
  if (profile === 'dtls' || profile === 'other') return { problem: 'unsupported_profile', detail: 'only RTP/AVP and RTP/SAVP with SDES are supported' };
  if (profile === 'savp') {
    if (!terms.keysMayTravel) return { problem: 'srtp_keys_over_insecure_transport', detail: 'SDES keys are accepted over SIP over TLS only' };
    const chosen = chooseCrypto(crypto);
    return 'problem' in chosen ? { problem: 'srtp_not_acceptable', detail: chosen.problem } : { ...chosen, protocol: 'RTP/SAVP' };
  }
  const chosen = terms.keysMayTravel && crypto.length > 0 ? chooseCrypto(crypto) : undefined;
  if (chosen && !('problem' in chosen)) return { ...chosen, protocol: 'RTP/AVP' };
  return terms.required ? { problem: 'srtp_required', detail: 'this trunk requires SRTP (RTP/SAVP with a=crypto)' } : undefined;
}

/**
 * Reads a peer's SDP answer to our offer. With `offeredTag` (our offer carried `a=crypto` with it),
 * the answer's line of that tag gives the peer's key; `required`: an answer without one is refused.
 */
export function readAnswer(
  answer: string, codecs: ReturnType<typeof codecList>, srtp?: { offeredTag: number; required: boolean },
): (RemoteMedia & { srtpKey?: string }) | SdpRefusal {
  const result = negotiateOffer(answer, codecs, { keysMayTravel: srtp !== undefined });
  if ('problem' in result) return result;
  if (!srtp) return result.remote;
  const parsed = readAudio(answer);
  const line = 'problem' in parsed ? undefined : parsed.crypto.find((c) => c.id === srtp.offeredTag);
  const key = line ? readCryptoLine(line) : undefined;
  if (key && !('problem' in key)) return { ...result.remote, srtpKey: key.key };
  if (srtp.required) return { problem: 'srtp_required', detail: key?.problem ?? `the answer has no a=crypto with tag ${srtp.offeredTag}` };
  return result.remote;
}

function readAudio(text: string): { address: string; port: number; audio: AudioMediaDescription; profile: ReturnType<typeof mediaProfile>; crypto: CryptoAttribute[] } | SdpRefusal {
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
  return { address, port: media.port, audio: fromSdpMedia(media), profile: mediaProfile(media, sdp), crypto: media.crypto ?? [] };
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
