/**
 * The plain types of `MediaEndpoint`'s API: what the call engine passes in
 * and gets back. Kept apart so the endpoint file holds behaviour only.
 */
import type { FetchPolicy } from '../shared/fetch-policy.js';
import type { Logger } from '../shared/log.js';
import type { CodecName } from './codecs/codec.js';
import type { AudioMediaDescription } from './codecs/negotiate.js';
import type { DtmfEvent } from './dtmf/digits.js';
import type { MediaEndpoint } from './endpoint.js';
import type { MediaClock } from './media-clock.js';
import type { PortLease, PortPool } from './rtp/port-pool.js';
import type { RtpSessionOptions } from './rtp/rtp-session.js';
import type { SrtpKeys } from './rtp/srtp-keys.js';
import type { TtsService } from './sources/tts.js';
import type { UrlAudioLoader } from './sources/url-audio.js';

/** Where the far end wants media, from its SDP. */
export interface RemoteMedia {
  address: string;
  port: number;
  /** Default port + 1. */
  rtcpPort?: number;
  /** The negotiated audio payload type. */
  payloadType: number;
  /** Codec of a dynamic payload type; inferred for 0 (PCMU) and 8 (PCMA). */
  codec?: CodecName;
  /** Negotiated telephone-event payload type; omit or null if none. */
  telephoneEvent?: number | null;
  /** SRTP keys (SDES) when the leg is encrypted; absent = plain RTP. Plain data, so it crosses to media workers. */
  srtp?: SrtpKeys;
}

/** What to put in our SDP. */
export interface LocalMedia {
  address: string;
  port: number;
  rtcpPort: number;
  /** Formats we offer (use `answerFor` after negotiating to answer). */
  audio: AudioMediaDescription;
}

/** Quality figures for call records and diagnostics. */
export interface EndpointStats {
  codec: CodecName;
  packetsSent: number;
  packetsReceived: number;
  /** Packets missing at playout (concealed). */
  packetsLost: number;
  /** Packets that arrived after their playout time. */
  packetsLate: number;
  /**
   * Packets received but not played: skipped because the jitter buffer held
   * more than its maximum depth (a burst after a stall), or dropped to drain
   * delay back to the prefetch depth. Loss the far end's RTCP cannot see.
   */
  packetsDiscarded: number;
  /** Packets from other sources dropped by symmetric RTP. */
  packetsForeign: number;
  jitterMs: number;
  /** The far end's view of our stream, from its last RTCP report. */
  remote?: { fractionLost?: number; cumulativeLost?: number; jitter?: number };
}

/** How `play` ended. 'failed': the source threw while playing (logged). */
export type PlayResult = 'done' | 'aborted' | 'replaced' | 'closed' | 'failed';

/** Options of `playUrl`. */
export interface PlayUrlOptions {
  /** The fetch policy of the workspace the URL is played for (plain data; it crosses to media workers). */
  policy: FetchPolicy;
  /** Times to play, 0 = until aborted. Default 1. */
  loop?: number;
  signal?: AbortSignal;
}

/** Which audio a tap or recording hears: the caller, what we play to them, or both. */
export type Track = 'inbound' | 'outbound' | 'both';

export type EndpointState = 'open' | 'closed';

export type MediaEndpointEvents = {
  dtmf: [DtmfEvent];
  /** No RTP from the far end for `rtpTimeoutMs`; emitted once until RTP resumes. */
  rtpTimeout: [];
  /** The session latched to the far end's real address (symmetric RTP). */
  latched: [{ address: string; port: number }];
  closed: [];
};

/** What the engine hands each endpoint. */
export interface EndpointContext {
  id: string;
  clock: MediaClock;
  pool: PortPool;
  lease: PortLease;
  advertisedAddress: string;
  codecs: readonly CodecName[];
  telephoneEventPayloadType: number;
  rtpTimeoutMs: number;
  session: RtpSessionOptions;
  tts: () => TtsService;
  urls: UrlAudioLoader;
  /** The call's logger; the endpoint's lines add `mediaEndpoint: id`. */
  logger: Logger;
  onClosed: (endpoint: MediaEndpoint) => void;
}
