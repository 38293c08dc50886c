/**
 * SIP over TCP (RFC 3261 §18): messages framed by Content-Length, one
 * connection per remote address reused in both directions (§18.2.2: a
 * response goes back over the connection the request came on), idle
 * connections closed after `idleTimeoutMs`.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { TypedEmitter } from '../../shared/typed-emitter.js';
import { silentLogger, type Logger } from '../../shared/log.js';
import { StreamFramer, type FramedItem, type SipParserLimits } from '../message/parser.js';
import { addressKey, normalizeAddress, type NetAddress, type SipTransport, type TransportEvents, type TransportOptions } from './transport.js';

export interface TcpTransportOptions extends TransportOptions {
  /** Close a connection with no traffic for this long. Default 5 minutes. */
  idleTimeoutMs?: number;
  /** Give up connecting after this long. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** After the peer half-closes, close our side once no data has been written for this long. Default 2000 ms. */
  halfCloseQuietMs?: number;
  /** Most simultaneous connections; new inbound ones are refused beyond it. Default 10000. */
  maxConnections?: number;
}

interface Connection {
  socket: Socket;
  framer: StreamFramer;
  remote: NetAddress;
  ready: Promise<void>;
  closing: boolean;
}

const FRAMING_LOST_GRACE_MS = 200;

export class TcpTransport extends TypedEmitter<TransportEvents> implements SipTransport {
  readonly protocol = 'tcp' as const;
  readonly reliable = true;
  local: NetAddress;
  readonly #server: Server;
  readonly #connections = new Map<string, Connection>();
  readonly #limits: SipParserLimits | undefined;
  readonly #log: Logger;
  readonly #idleMs: number;
  readonly #connectMs: number;
  readonly #halfCloseMs: number;
  #closed: Promise<void> | undefined;

  constructor(options: TcpTransportOptions = {}) {
    super();
    this.local = { address: options.host ?? '0.0.0.0', port: options.port ?? 5060 };
    this.#limits = options.limits;
    this.#log = options.logger ?? silentLogger;
    this.#idleMs = options.idleTimeoutMs ?? 300_000;
    this.#connectMs = options.connectTimeoutMs ?? 5000;
    this.#halfCloseMs = options.halfCloseQuietMs ?? 2000;
    // allowHalfOpen: a peer that shuts its side down still gets our answer (RFC 4475 torture files without a final CRLF).
    this.#server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.#adopt(socket, Promise.resolve()));
    this.#server.maxConnections = options.maxConnections ?? 10_000;
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
    let connection = this.#connections.get(addressKey(remote));
    if (!connection) {
      const socket = createConnection({ host: remote.address, port: remote.port, allowHalfOpen: true, noDelay: true });
      const ready = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => socket.destroy(new Error('connect timeout')), this.#connectMs);
        socket.once('connect', () => {
          clearTimeout(timer);
          resolve();
        });
        socket.once('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
      });
      ready.catch(() => undefined);
      connection = this.#adopt(socket, ready, remote);
    }
    const { socket, ready } = connection;
    // Write synchronously when connected, so an answer queued just before the connection is closed still goes out.
    const write = (): Promise<void> =>
      new Promise((resolve, reject) => {
        if (socket.destroyed || !socket.writable) {
          reject(new Error('connection closed'));
          return;
        }
        socket.write(data, (error) => (error ? reject(error) : resolve()));
      });
    return socket.connecting ? ready.then(write) : write();
  }

  close(): Promise<void> {
    this.#closed ??= new Promise((resolve) => {
      for (const connection of this.#connections.values()) connection.socket.destroy();
      this.#connections.clear();
      this.#server.close(() => resolve());
    });
    return this.#closed;
  }

  #adopt(socket: Socket, ready: Promise<void>, remote?: NetAddress): Connection {
    const peer = remote ?? { address: normalizeAddress(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 };
    const key = addressKey(peer);
    const connection: Connection = { socket, framer: new StreamFramer(this.#limits), remote: peer, ready, closing: false };
    if (this.#closed) {
      socket.destroy();
      return connection;
    }
    this.#connections.set(key, connection);
    socket.setTimeout(this.#idleMs, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => this.#deliver(connection, connection.framer.push(chunk)));
    socket.on('end', () => {
      // Parse what is left as if the peer's FIN ended the message. Answers may still be on their way
      // (a registrar awaiting its database), so our side closes after a quiet period, not at once.
      this.#deliver(connection, connection.framer.end());
      socket.setTimeout(this.#halfCloseMs, () => socket.end());
    });
    socket.on('error', (error) => this.#log.debug({ err: error, remote: peer }, 'SIP TCP connection error'));
    socket.on('close', () => {
      if (this.#connections.get(key) === connection) this.#connections.delete(key);
    });
    return connection;
  }

  #deliver(connection: Connection, items: FramedItem[]): void {
    const context = { transport: this, remote: connection.remote };
    for (const item of items) {
      if (item.ok) this.emit('message', item.message, context);
      else {
        this.#log.debug({ remote: connection.remote, code: item.error.code, reason: item.error.message }, 'unparseable SIP on TCP');
        this.emit('invalid', item.error, context);
      }
    }
    // RFC 4475 §3.1.2.3, §3.3.9: with the framing lost, close the connection. Nothing more is read; a short
    // grace lets answers to the messages before the break (a registrar awaiting its database) go out first.
    if (connection.framer.broken && !connection.closing) {
      connection.closing = true;
      setTimeout(() => connection.socket.end(), FRAMING_LOST_GRACE_MS).unref();
    }
  }
}
