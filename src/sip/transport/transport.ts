/**
 * The seam between the SIP stack and the network. UDP, TCP and TLS implement
 * it today; WebSocket (RFC 7118) can be added later without touching the
 * transaction layer. Transports parse at the boundary: listeners receive
 * either a typed message or a typed parse error, never raw bytes.
 */
import type { TypedEmitter } from '../../shared/typed-emitter.js';
import type { SipMessage } from '../message/message.js';
import type { SipParseError } from '../message/parse-error.js';
import type { SipParserLimits } from '../message/parser.js';
import type { Logger } from '../../shared/log.js';

export type TransportProtocol = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

/** Connection-oriented transports (RFC 3261 §18: framed by Content-Length, no retransmissions, responses on the request's connection). */
export function isStreamProtocol(protocol: TransportProtocol): protocol is 'tcp' | 'tls' | 'ws' | 'wss' {
  return protocol !== 'udp';
}

/** Transports a peer opens and we cannot (RFC 7118 §5: a browser is reached only over its own WebSocket). */
export function isWebSocketProtocol(protocol: string): protocol is 'ws' | 'wss' {
  return protocol === 'ws' || protocol === 'wss';
}

export interface NetAddress {
  address: string;
  port: number;
}

/** Where a message came from and through which transport. */
export interface InboundContext {
  transport: SipTransport;
  remote: NetAddress;
}

export type TransportEvents = {
  message: [message: SipMessage, context: InboundContext];
  /** A message that failed to parse; for requests the stack may answer 400 (responses are dropped). */
  invalid: [error: SipParseError, context: InboundContext];
  error: [error: Error];
};

export interface SipTransport extends TypedEmitter<TransportEvents> {
  readonly protocol: TransportProtocol;
  /** Reliable transports get no retransmissions (RFC 3261 §17.1.1.2, §17.1.2.2). */
  readonly reliable: boolean;
  /** Bound address; valid after `listen()` resolves. Port 0 at construction becomes the real port. */
  readonly local: NetAddress;
  listen(): Promise<void>;
  /** Sends one serialized message. Rejects on a transport error (RFC 3261 §8.1.3.1 maps it to 503). */
  send(data: Buffer, remote: NetAddress): Promise<void>;
  /** Idempotent; closes every socket and connection. */
  close(): Promise<void>;
}

export interface TransportOptions {
  /** Address to bind. Default `'0.0.0.0'`. */
  host?: string;
  /** Port to bind; 0 picks a free one. Default 5060. */
  port?: number;
  /** Parser size limits. Default 64 KiB messages, 256 headers. */
  limits?: SipParserLimits;
  /** Default `silentLogger`. */
  logger?: Logger;
}

/** `::ffff:1.2.3.4` → `1.2.3.4`, so the same peer has one key whichever socket saw it. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

export function addressKey(remote: NetAddress): string {
  return `${normalizeAddress(remote.address)}:${remote.port}`;
}
