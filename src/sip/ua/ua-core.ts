/**
 * The narrow view of the user agent that calls, sessions and client
 * requests use: sending requests and ACKs, building Via/Contact, and the
 * dialog table. Internal to `src/sip/ua`.
 */
import type { Logger } from '../../shared/log.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import type { TransportProtocol } from '../transport/transport.js';
import type { Channel, TransactionTimers } from '../transaction/transaction.js';
import type { ClientTransaction, ServerTransaction } from '../transaction/transaction-layer.js';
import type { DigestCredentials } from './digest.js';
import type { SipSession } from './sip-session.js';

export interface SentRequest {
  /** The request of the latest attempt (a digest retry has a new CSeq and branch). */
  readonly request: SipRequest;
  readonly transaction: ClientTransaction;
  readonly channel: Channel;
}

export interface SendOptions {
  /** Answer 401/407 once with these credentials (RFC 3261 §22.2). */
  auth?: DigestCredentials;
  /** Fixed destination, skipping Route / Request-URI resolution. */
  channel?: Channel;
  /** Transport to use when the next-hop URI names none. */
  preferredProtocol?: TransportProtocol;
  /**
   * Every response of the final attempt: provisionals, the final one and
   * (INVITE) 2xx retransmissions. Timeouts and transport errors arrive as
   * synthesized 408 and 503 responses (RFC 3261 §8.1.3.1).
   */
  onResponse: (response: SipResponse, sent: SentRequest) => void;
  /**
   * When set, a timeout or transport error is told here instead of as a
   * synthesized 408/503, for callers that must tell a peer's answer from
   * silence (OPTIONS health pings).
   */
  onNoResponse?: (why: 'timeout' | 'transport-error') => void;
  /** A digest retry was sent. */
  onRetry?: (sent: SentRequest) => void;
}

export interface UaCore {
  readonly timers: TransactionTimers;
  readonly log: Logger;
  readonly userAgent: string;
  /** Via parts for a request leaving over `protocol`. */
  via(protocol: TransportProtocol): { protocol: string; host: string; port: number };
  /** Our media address (for SDP) as given to `peer`: see `AdvertisedHost`. */
  mediaAddressFor(peer: string): string;
  /** Whether SDES keys may travel in SDP over `protocol` (TLS, or any when the operator allowed it). */
  keysMayTravelOver(protocol: TransportProtocol): boolean;
  /** Contact URI (with brackets) for `protocol`; `secure` for a dialog begun with a SIPS URI (a `sips:` Contact over TLS). */
  contact(protocol: TransportProtocol, user?: string, secure?: boolean): string;
  channelFor(request: SipRequest, preferred?: TransportProtocol): Channel;
  send(request: SipRequest, options: SendOptions): SentRequest;
  /** Sends outside any transaction (the ACK for a 2xx, RFC 3261 §13.2.2.4). */
  sendStateless(request: SipRequest, channel: Channel): void;
  /** Sends a response through its server transaction. */
  respond(tx: ServerTransaction, response: SipResponse): void;
  addSession(session: SipSession): void;
  removeSession(session: SipSession): void;
  /** RFC 4028: the smallest Session-Expires we accept (our Min-SE), in seconds. */
  readonly minSessionExpires: number;
  /** RFC 3262: PRACKs in the early dialog `callId|localTag` go to `handler` until `forgetPrack`. */
  expectPrack(key: string, handler: (request: SipRequest, tx: ServerTransaction) => void): void;
  forgetPrack(key: string): void;
}
