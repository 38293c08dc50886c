/**
 * SIP over a byte stream (RFC 3261 §18), the part TCP and TLS share:
 * messages framed by Content-Length, one connection per remote address
 * reused in both directions (§18.2.2: a response goes back over the
 * connection the request came on; a request to a peer that is connected
 * already goes over that connection, RFC 5923-style), idle connections
 * closed after `idleTimeoutMs`.
 *
 * Inbound connections are held to the limits of SPEC §13 ("Abuse"): at most
 * `maxConnectionsPerSource` from one address (the next is closed at once),
 * and a connection must bring each message's header within
 * `headerTimeoutMs` — counted from the connection (or, for TLS, the end of
 * its handshake), and from the first byte of each later message — or it is
 * closed. Without these one host could hold every connection slot, or keep
 * half-sent headers open forever (slowloris).
 */
import type { Server, Socket } from 'node:net';
import { TypedEmitter } from '../../shared/typed-emitter.js';
import { silentLogger, type Logger } from '../../shared/log.js';
import { StreamFramer, type FramedItem, type SipParserLimits } from '../message/parser.js';
import { addressKey, normalizeAddress, type NetAddress, type SipTransport, type TransportEvents, type TransportOptions } from './transport.js';

export interface StreamTransportOptions extends TransportOptions {
  /** Close a connection with no traffic for this long. Default 5 minutes. */
  idleTimeoutMs?: number;
  /** Give up connecting (TLS: and the handshake) after this long. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** After the peer half-closes, close our side once no data has been written for this long. Default 2000 ms. */
  halfCloseQuietMs?: number;
  /** Most simultaneous connections; new inbound ones are refused beyond it. Default 10000. */
  maxConnections?: number;
  /** Most inbound connections from one source address; the next one is closed at once (SPEC §13). Default 100. */
  maxConnectionsPerSource?: number;
  /** An inbound connection that has not sent a complete SIP header within this long is closed (SPEC §13). Default 10000 ms. */
  headerTimeoutMs?: number;
}

/** How a stream transport opens its sockets: plain TCP, or TLS on top of it. */
export interface StreamSockets {
  readonly protocol: 'tcp' | 'tls';
  /** The listening server; it emits 'connection' for every raw socket, before any TLS handshake. */
  createServer(): Server;
  /** The server event that hands over a socket ready for SIP: 'connection' (TCP) or 'secureConnection' (after the TLS handshake). */
  readonly adoptEvent: 'connection' | 'secureConnection';
  /** Starts an outbound connection. */
  connect(remote: NetAddress): Socket;
  /** The socket event after which an outbound connection carries SIP: 'connect' or 'secureConnect'. */
  readonly readyEvent: 'connect' | 'secureConnect';
}

interface Connection {
  socket: Socket;
  framer: StreamFramer;
  remote: NetAddress;
  ready: Promise<void>;
  isReady: boolean;
  closing: boolean;
  /** Inbound only: armed while a header is awaited (SPEC §13). */
  headerTimer: NodeJS.Timeout | undefined;
  inbound: boolean;
}

const FRAMING_LOST_GRACE_MS = 200;
/** A source refused for too many connections is logged at most this often. */
const REFUSAL_LOG_INTERVAL_MS = 60_000;
/** Bound on the sources remembered for that, so a spray of addresses cannot grow it. */
const REFUSAL_LOG_MAX_SOURCES = 10_000;

export class StreamTransport extends TypedEmitter<TransportEvents> implements SipTransport {
  readonly protocol: 'tcp' | 'tls';
  readonly reliable = true;
  local: NetAddress;
  readonly #sockets: StreamSockets;
  readonly #server: Server;
  readonly #connections = new Map<string, Connection>();
  /** Inbound connections per source address (raw sockets, counted before any TLS handshake). */
  readonly #perSource = new Map<string, number>();
  /** Every inbound raw socket, adopted or still in its TLS handshake, so that close() ends them all. */
  readonly #inbound = new Set<Socket>();
  readonly #refusalLoggedAt = new Map<string, number>();
  readonly #limits: SipParserLimits | undefined;
  readonly #log: Logger;
  readonly #idleMs: number;
  readonly #connectMs: number;
  readonly #halfCloseMs: number;
  readonly #maxPerSource: number;
  readonly #headerMs: number;
  #closed: Promise<void> | undefined;

  constructor(sockets: StreamSockets, options: StreamTransportOptions = {}) {
    super();
    this.protocol = sockets.protocol;
    this.#sockets = sockets;
    this.local = { address: options.host ?? '0.0.0.0', port: options.port ?? (sockets.protocol === 'tls' ? 5061 : 5060) };
    this.#limits = options.limits;
    this.#log = options.logger ?? silentLogger;
    this.#idleMs = options.idleTimeoutMs ?? 300_000;
    this.#connectMs = options.connectTimeoutMs ?? 5000;
    this.#halfCloseMs = options.halfCloseQuietMs ?? 2000;
    this.#maxPerSource = options.maxConnectionsPerSource ?? 100;
    this.#headerMs = options.headerTimeoutMs ?? 10_000;
    this.#server = sockets.createServer();
    this.#server.maxConnections = options.maxConnections ?? 10_000;
    this.#server.on('connection', (socket: Socket) => this.#admit(socket));
    if (sockets.adoptEvent === 'secureConnection') {
      this.#server.on('secureConnection', (socket: Socket) => this.#adopt(socket, undefined));
      this.#server.on('tlsClientError', (error: Error, socket: Socket) => {
        this.#log.debug({ err: error, remote: { address: normalizeAddress(socket.remoteAddress ?? ''), port: socket.remotePort } }, 'SIP TLS handshake failed');
        socket.destroy();
      });
    }
    this.#server.on('error', (error) => this.emit('error', error));
  }

  /** Open connections (for tests and metrics). */
  get connectionCount(): number {
    return this.#connections.size;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.local.port, this.local.address, () => {
        this.#server.off('error', reject);
        const address = this.#server.address();
        if (address && typeof address === 'object') this.local = { address: address.address, port: address.port };
        resolve();
      });
    });
  }

  send(data: Buffer, remote: NetAddress): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('transport closed'));
    const connection = this.#connections.get(addressKey(remote)) ?? this.#open(remote);
    const { socket } = connection;
    // Write synchronously when connected, so an answer queued just before the connection is closed still goes out.
    const write = (): Promise<void> =>
      new Promise((resolve, reject) => {
        if (socket.destroyed || !socket.writable) {
          reject(new Error('connection closed'));
          return;
        }
        socket.write(data, (error) => (error ? reject(error) : resolve()));
      });
    return connection.isReady ? write() : connection.ready.then(write);
  }

  close(): Promise<void> {
    this.#closed ??= new Promise((resolve) => {
      for (const connection of this.#connections.values()) connection.socket.destroy();
      for (const socket of this.#inbound) socket.destroy();
      this.#connections.clear();
      this.#server.close(() => resolve());
    });
    return this.#closed;
  }

  #open(remote: NetAddress): Connection {
    const socket = this.#sockets.connect(remote);
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => socket.destroy(new Error('connect timeout')), this.#connectMs);
      socket.once(this.#sockets.readyEvent, () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    ready.catch(() => undefined);
    return this.#adopt(socket, ready, remote);
  }

  /** SPEC §13: a raw inbound socket is counted against its source, and closed at once over the limit. */
  #admit(socket: Socket): void {
    const source = normalizeAddress(socket.remoteAddress ?? '');
    const count = this.#perSource.get(source) ?? 0;
    if (count >= this.#maxPerSource || this.#closed) {
      socket.destroy();
      if (!this.#closed) this.#logRefusal(source);
      return;
    }
    this.#perSource.set(source, count + 1);
    this.#inbound.add(socket);
    socket.once('close', () => {
      this.#inbound.delete(socket);
      const left = (this.#perSource.get(source) ?? 1) - 1;
      if (left > 0) this.#perSource.set(source, left);
      else this.#perSource.delete(source);
    });
    if (this.#sockets.adoptEvent === 'connection') this.#adopt(socket, undefined);
  }

  #logRefusal(source: string): void {
    const now = Date.now();
    const last = this.#refusalLoggedAt.get(source);
    if (last !== undefined && now - last < REFUSAL_LOG_INTERVAL_MS) return;
    if (this.#refusalLoggedAt.size >= REFUSAL_LOG_MAX_SOURCES) {
      for (const [address, at] of this.#refusalLoggedAt) if (now - at >= REFUSAL_LOG_INTERVAL_MS) this.#refusalLoggedAt.delete(address);
      if (this.#refusalLoggedAt.size >= REFUSAL_LOG_MAX_SOURCES) this.#refusalLoggedAt.clear();
    }
    this.#refusalLoggedAt.set(source, now);
    this.#log.warn({ source, limit: this.#maxPerSource, transport: this.protocol }, 'SIP connections refused: too many from one source');
  }

  /** Takes a socket into the table; `ready` is undefined for inbound sockets (ready now, and held to the header deadline). */
  #adopt(socket: Socket, ready: Promise<void> | undefined, remote?: NetAddress): Connection {
    const peer = remote ?? { address: normalizeAddress(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 };
    const key = addressKey(peer);
    const inbound = ready === undefined;
    const connection: Connection = {
      socket, framer: new StreamFramer(this.#limits), remote: peer, ready: ready ?? Promise.resolve(), isReady: inbound, closing: false, headerTimer: undefined, inbound,
    };
    if (this.#closed) {
      socket.destroy();
      return connection;
    }
    ready?.then(() => (connection.isReady = true), () => undefined);
    this.#connections.set(key, connection);
    if (inbound) this.#armHeaderTimer(connection);
    socket.setTimeout(this.#idleMs, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      const items = connection.framer.push(chunk);
      if (connection.inbound) this.#watchHeader(connection, items.length > 0);
      this.#deliver(connection, items);
    });
    socket.on('end', () => {
      // Parse what is left as if the peer's FIN ended the message. Answers may still be on their way
      // (a registrar awaiting its database), so our side closes after a quiet period, not at once.
      clearTimeout(connection.headerTimer);
      this.#deliver(connection, connection.framer.end());
      socket.setTimeout(this.#halfCloseMs, () => socket.end());
    });
    socket.on('error', (error) => this.#log.debug({ err: error, remote: peer }, `SIP ${this.protocol.toUpperCase()} connection error`));
    socket.on('close', () => {
      clearTimeout(connection.headerTimer);
      if (this.#connections.get(key) === connection) this.#connections.delete(key);
    });
    return connection;
  }

  /**
   * After each chunk: nothing buffered means every message so far is complete, and the connection
   * may stay idle; a partial message starts the clock, and restarts it when earlier ones completed.
   */
  #watchHeader(connection: Connection, completed: boolean): void {
    if (connection.framer.pending === 0) {
      clearTimeout(connection.headerTimer);
      connection.headerTimer = undefined;
    } else if (completed || connection.headerTimer === undefined) {
      this.#armHeaderTimer(connection);
    }
  }

  #armHeaderTimer(connection: Connection): void {
    clearTimeout(connection.headerTimer);
    connection.headerTimer = setTimeout(() => {
      this.#log.debug({ remote: connection.remote, timeoutMs: this.#headerMs }, 'SIP connection closed: no complete header in time');
      connection.socket.destroy();
    }, this.#headerMs);
  }

  #deliver(connection: Connection, items: FramedItem[]): void {
    const context = { transport: this, remote: connection.remote };
    for (const item of items) {
      if (item.ok) this.emit('message', item.message, context);
      else {
        this.#log.debug({ remote: connection.remote, code: item.error.code, reason: item.error.message }, `unparseable SIP on ${this.protocol.toUpperCase()}`);
        this.emit('invalid', item.error, context);
      }
    }
    // RFC 4475 §3.1.2.3, §3.3.9: with the framing lost, close the connection. Nothing more is read; a short
    // grace lets answers to the messages before the break (a registrar awaiting its database) go out first.
    if (connection.framer.broken && !connection.closing) {
      connection.closing = true;
      clearTimeout(connection.headerTimer);
      setTimeout(() => connection.socket.end(), FRAMING_LOST_GRACE_MS).unref();
    }
  }
}
