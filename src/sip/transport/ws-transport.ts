/**
 * SIP over WebSocket (RFC 7118): browsers' SIP clients (JsSIP, SIP.js) speak
 * SIP in WebSocket messages with the `sip` subprotocol. Each message carries
 * exactly one SIP message (§5: no framing by Content-Length is needed, a
 * text or binary frame is one message), so the datagram parser serves.
 *
 * The WebSocket endpoint lives on the HTTP server (`/v1/sip/ws`): `attach()`
 * takes over its `upgrade` events for that path. Browsers cannot accept
 * connections, so this transport never opens one: a request goes out only
 * over a connection the peer opened (RFC 7118 §5: the registrar keeps the
 * connection of the REGISTER, and calls go back over it), looked up by the
 * connection's remote address and port, which the registrar writes into the
 * binding's target like it does for TCP.
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { TypedEmitter } from '../../shared/typed-emitter.js';
import { silentLogger, type Logger } from '../../shared/log.js';
import { parseDatagram, type SipParserLimits } from '../message/parser.js';
import { SipParseError } from '../message/parse-error.js';
import { addressKey, normalizeAddress, type NetAddress, type SipTransport, type TransportEvents } from './transport.js';

/** RFC 7118 §4: the WebSocket subprotocol of SIP. */
export const SIP_WS_SUBPROTOCOL = 'sip';

export interface WsTransportOptions {
  /** `ws`, or `wss` when the HTTP side is TLS (a TLS reverse proxy in front counts: see docs/deployment.md). Default `ws`. */
  protocol?: 'ws' | 'wss';
  /** The HTTP path served. Default `/v1/sip/ws`. */
  path?: string;
  /** Parser size limits. Default 64 KiB messages, 256 headers. */
  limits?: SipParserLimits;
  /** Most connections from one source address (SPEC §13 "Abuse", as for TCP). Default 100. */
  maxConnectionsPerSource?: number;
  /** Default `silentLogger`. */
  logger?: Logger;
}

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}

export class WsTransport extends TypedEmitter<TransportEvents> implements SipTransport {
  readonly protocol: 'ws' | 'wss';
  readonly reliable = true;
  /** The HTTP server's address once attached (Via and Contact name it). */
  local: NetAddress = { address: '0.0.0.0', port: 0 };
  readonly path: string;
  readonly #server: WebSocketServer;
  readonly #connections = new Map<string, WebSocket>();
  readonly #perSource = new Map<string, number>();
  readonly #limits: SipParserLimits | undefined;
  readonly #maxPerSource: number;
  readonly #log: Logger;
  #detach: (() => void) | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: WsTransportOptions = {}) {
    super();
    this.protocol = options.protocol ?? 'ws';
    this.path = options.path ?? '/v1/sip/ws';
    this.#limits = options.limits;
    this.#maxPerSource = options.maxConnectionsPerSource ?? 100;
    this.#log = options.logger ?? silentLogger;
    this.#server = new WebSocketServer({
      noServer: true,
      maxPayload: options.limits?.maxMessageSize ?? 65_536,
      // RFC 7118 §4: the client offers `sip`; a handshake without it is refused.
      handleProtocols: (offered) => (offered.has(SIP_WS_SUBPROTOCOL) ? SIP_WS_SUBPROTOCOL : false),
    });
  }

  /** Connections open now (tests, metrics). */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Nothing to bind: the HTTP server listens. `attach()` it once it does. */
  listen(): Promise<void> {
    return Promise.resolve();
  }

  /** Serve WebSocket upgrades for `path` on `http` (after it listens, so its port is known). */
  attach(http: HttpServer): void {
    const address = http.address();
    if (address && typeof address === 'object') this.local = { address: address.address, port: address.port };
    const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
      if ((request.url ?? '').split('?')[0] === this.path) this.#upgrade(request, socket, head);
      // With a listener, Node leaves unanswered upgrades open: one for a path nobody serves is refused.
      else if (http.listenerCount('upgrade') === 1) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    };
    http.on('upgrade', onUpgrade);
    this.#detach = () => http.off('upgrade', onUpgrade);
  }

  send(data: Buffer, remote: NetAddress): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('transport closed'));
    const socket = this.#connections.get(addressKey(remote));
    // RFC 7118 §5: a WebSocket client cannot be connected to; without its connection it is unreachable.
    if (!socket || socket.readyState !== socket.OPEN) return Promise.reject(new Error(`no WebSocket connection from ${addressKey(remote)}`));
    return new Promise((resolve, reject) => socket.send(data.toString('utf8'), (error) => (error ? reject(error) : resolve())));
  }

  close(): Promise<void> {
    this.#closed ??= new Promise((resolve) => {
      this.#detach?.();
      for (const socket of this.#connections.values()) socket.terminate();
      this.#connections.clear();
      this.#server.close(() => resolve());
    });
    return this.#closed;
  }

  #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const source = normalizeAddress(request.socket.remoteAddress ?? '');
    const count = this.#perSource.get(source) ?? 0;
    // A TLS reverse proxy on this host brings every browser from loopback: the per-source limit is for remote sources.
    if (this.#closed || (count >= this.#maxPerSource && !isLoopback(source))) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      if (!this.#closed) this.#log.warn({ source, limit: this.#maxPerSource, transport: this.protocol }, 'SIP WebSocket refused: too many from one source');
      return;
    }
    const offered = String(request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!offered.includes(SIP_WS_SUBPROTOCOL)) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 40\r\n\r\nthe WebSocket subprotocol must be "sip"\n');
      return;
    }
    this.#server.handleUpgrade(request, socket, head, (ws) => this.#adopt(ws, { address: source, port: request.socket.remotePort ?? 0 }));
  }

  #adopt(ws: WebSocket, remote: NetAddress): void {
    const key = addressKey(remote);
    const source = remote.address;
    this.#perSource.set(source, (this.#perSource.get(source) ?? 0) + 1);
    this.#connections.set(key, ws);
    this.#log.debug({ remote }, 'SIP WebSocket connected');
    const context = { transport: this, remote };
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      // RFC 7118 §5: keep-alive CRLFs (RFC 5626 §3.5.1) are not messages.
      if (bytes.length <= 4 && bytes.toString('latin1').trim() === '') return;
      try {
        this.emit('message', parseDatagram(bytes, this.#limits), context);
      } catch (error) {
        if (!(error instanceof SipParseError)) throw error;
        this.#log.debug({ remote, code: error.code, reason: error.message }, 'unparseable SIP on WebSocket');
        this.emit('invalid', error, context);
      }
    });
    ws.on('error', (error) => this.#log.debug({ err: error, remote }, 'SIP WebSocket error'));
    ws.on('close', () => {
      if (this.#connections.get(key) === ws) this.#connections.delete(key);
      const left = (this.#perSource.get(source) ?? 1) - 1;
      if (left > 0) this.#perSource.set(source, left);
      else this.#perSource.delete(source);
      this.#log.debug({ remote }, 'SIP WebSocket closed');
    });
  }
}
