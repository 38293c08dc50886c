/**
 * Codec negotiation for SDP offer/answer (RFC 3264), as pure functions over a
 * small typed description of one audio m= section. The SIP side converts to
 * and from `sdp-transform`'s shape with `fromSdpMedia` / `toSdpMediaFields`.
 */
import type { MediaDescription } from 'sdp-transform';
import { mediaDefaults } from '../media-defaults.js';
import { codecByName, type Codec, type CodecName } from './codec.js';

/** One payload format of an m= line: a=rtpmap plus optional a=fmtp. */
export interface PayloadFormat {
  payloadType: number;
  /** rtpmap encoding name, e.g. `PCMU`, `telephone-event`. */
  encoding: string;
  clockRate: number;
  channels?: number;
  /** a=fmtp value, e.g. `0-16` for telephone-event. */
  fmtp?: string;
}

/** A typed view of one audio m= section: formats in preference order. */
export interface AudioMediaDescription {
  payloads: PayloadFormat[];
  /** a=ptime in ms, when present. */
  ptime?: number;
}

/** The outcome of negotiation: what both ends send and expect. */
export interface NegotiatedAudio {
  codec: Codec;
  payloadType: number;
  /** Present when both sides support RFC 4733 telephone-event at 8 kHz. */
  telephoneEvent?: { payloadType: number; fmtp: string };
}

/** Static payload types of RFC 3551 that may appear without an rtpmap. */
const STATIC_PAYLOADS: Record<number, { encoding: string; clockRate: number }> = {
  0: { encoding: 'PCMU', clockRate: 8000 },
  8: { encoding: 'PCMA', clockRate: 8000 },
};

/** Options for `negotiateAudio`. */
export interface NegotiateOptions {
  /** Codecs we accept, in our preference order. Default `['PCMU', 'PCMA']` (`mediaDefaults.codecs`). */
  codecs?: readonly CodecName[];
  /**
   * Whose order wins: `'offerer'` (RFC 3264 custom: the first offered codec we
   * support) or `'local'` (our list order). Default `'offerer'`.
   */
  preference?: 'offerer' | 'local';
}

/** Convert an sdp-transform media section into the typed description. */
export function fromSdpMedia(media: MediaDescription): AudioMediaDescription {
  // sdp-transform gives a lone payload type as a number ("m=audio 6000 RTP/AVP 0").
  const order = String(media.payloads ?? '')
    .split(/\s+/)
    .filter((p) => p !== '')
    .map(Number)
    .filter((n) => Number.isInteger(n));
  const payloads: PayloadFormat[] = [];
  for (const pt of order) {
    const rtp = media.rtp.find((r) => r.payload === pt);
    const fixed = STATIC_PAYLOADS[pt];
    const encoding = rtp?.codec ?? fixed?.encoding;
    if (encoding === undefined) continue;
    const fmtp = media.fmtp.find((f) => f.payload === pt)?.config;
    payloads.push({
      payloadType: pt,
      encoding,
      clockRate: rtp?.rate ?? fixed?.clockRate ?? 8000,
      ...(rtp?.encoding !== undefined ? { channels: rtp.encoding } : {}),
      ...(fmtp !== undefined ? { fmtp } : {}),
    });
  }
  return { payloads, ...(media.ptime !== undefined ? { ptime: media.ptime } : {}) };
}

/** The `payloads`, `rtp` and `fmtp` fields of an sdp-transform media section. */
export function toSdpMediaFields(desc: AudioMediaDescription): Pick<MediaDescription, 'payloads' | 'rtp' | 'fmtp'> & { ptime?: number } {
  return {
    payloads: desc.payloads.map((p) => p.payloadType).join(' '),
    rtp: desc.payloads.map((p) => ({
      payload: p.payloadType,
      codec: p.encoding,
      rate: p.clockRate,
      ...(p.channels !== undefined ? { encoding: p.channels } : {}),
    })),
    fmtp: desc.payloads.filter((p) => p.fmtp !== undefined).map((p) => ({ payload: p.payloadType, config: p.fmtp ?? '' })),
    ...(desc.ptime !== undefined ? { ptime: desc.ptime } : {}),
  };
}

function isTelephoneEvent(p: PayloadFormat): boolean {
  return p.encoding.toLowerCase() === 'telephone-event' && p.clockRate === 8000;
}

/**
 * Pick the audio codec and telephone-event format from a remote offer.
 * Returns `undefined` when no offered codec is acceptable (answer 488).
 */
export function negotiateAudio(offer: AudioMediaDescription, options: NegotiateOptions = {}): NegotiatedAudio | undefined {
  const accepted = options.codecs ?? mediaDefaults.codecs;
  const usable = offer.payloads.filter((p) => {
    const codec = codecByName(p.encoding);
    return codec !== undefined && accepted.includes(codec.name) && p.clockRate === codec.clockRate && (p.channels ?? 1) === 1;
  });
  if (options.preference === 'local') {
    usable.sort((a, b) => accepted.indexOf(a.encoding.toUpperCase() as CodecName) - accepted.indexOf(b.encoding.toUpperCase() as CodecName));
  }
  const chosen = usable[0];
  if (!chosen) return undefined;
  const codec = codecByName(chosen.encoding);
  if (!codec) return undefined;
  const te = offer.payloads.find(isTelephoneEvent);
  return {
    codec,
    payloadType: chosen.payloadType,
    ...(te ? { telephoneEvent: { payloadType: te.payloadType, fmtp: te.fmtp ?? '0-15' } } : {}),
  };
}

/** The answer's description for a negotiated result: the one codec plus telephone-event. */
export function answerFor(negotiated: NegotiatedAudio, ptime = 20): AudioMediaDescription {
  const payloads: PayloadFormat[] = [{ payloadType: negotiated.payloadType, encoding: negotiated.codec.name, clockRate: negotiated.codec.clockRate }];
  if (negotiated.telephoneEvent) {
    payloads.push({ payloadType: negotiated.telephoneEvent.payloadType, encoding: 'telephone-event', clockRate: 8000, fmtp: negotiated.telephoneEvent.fmtp });
  }
  return { payloads, ptime };
}

/** Options for `localOffer`. */
export interface LocalOfferOptions {
  /** Codecs to offer in order. Default `['PCMU', 'PCMA']` (`mediaDefaults.codecs`). */
  codecs?: readonly CodecName[];
  /** Payload type for telephone-event; `null` to not offer it. Default 101. */
  telephoneEventPayloadType?: number | null;
  /** Default 20. */
  ptime?: number;
}

/** The description we offer when we originate a call. */
export function localOffer(options: LocalOfferOptions = {}): AudioMediaDescription {
  const payloads: PayloadFormat[] = [];
  for (const name of options.codecs ?? mediaDefaults.codecs) {
    const codec = codecByName(name);
    if (codec) payloads.push({ payloadType: codec.defaultPayloadType, encoding: codec.name, clockRate: codec.clockRate });
  }
  const te = options.telephoneEventPayloadType === undefined ? 101 : options.telephoneEventPayloadType;
  if (te !== null) payloads.push({ payloadType: te, encoding: 'telephone-event', clockRate: 8000, fmtp: '0-16' });
  return { payloads, ptime: options.ptime ?? 20 };
}
