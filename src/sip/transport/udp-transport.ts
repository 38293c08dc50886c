/**
 * SIP over UDP (RFC 3261 §18): one datagram is one message.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { TypedEmitter } from '../../shared/typed-emitter.js';
import { silentLogger, type Logger } from '../../shared/log.js';
import { parseDatagram, type SipParserLimits } from '../message/parser.js';
import { SipParseError } from '../message/parse-error.js';
import { normalizeAddress, type NetAddress, type SipTransport, type TransportEvents, type TransportOptions } from './transport.js';

export interface UdpTransportOptions extends TransportOptions {
  /** SO_RCVBUF / SO_SNDBUF in bytes, so call bursts are not dropped by the kernel. Default 4 MiB (the kernel may cap it). */
  socketBufferSize?: number;
}

export class UdpTransport extends TypedEmitter<TransportEvents> implements SipTransport {
  readonly protocol = 'udp' as const;
  readonly reliable = false;
  local: NetAddress;
  readonly #socket: Socket;
  readonly #limits: SipParserLimits | undefined;
  readonly #log: Logger;
  readonly #bufferSize: number;
  #closed: Promise<void> | undefined;

  constructor(options: UdpTransportOptions = {}) {
    super();
    const host = options.host ?? '0.0.0.0';
    this.local = { address: host, port: options.port ?? 5060 };
    this.#limits = options.limits;
    this.#log = options.logger ?? silentLogger;
    this.#bufferSize = options.socketBufferSize ?? 4 * 1024 * 1024;
    this.#socket = createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4' });
    this.#socket.on('message', (data, rinfo) => this.#onDatagram(data, { address: normalizeAddress(rinfo.address), port: rinfo.port }));
    this.#socket.on('error', (error) => this.emit('error', error));
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#socket.once('error', reject);
      this.#socket.bind(this.local.port, this.local.address, () => {
        this.#socket.off('error', reject);
        try {
          this.#socket.setRecvBufferSize(this.#bufferSize);
          this.#socket.setSendBufferSize(this.#bufferSize);
        } catch (error) {
          this.#log.warn({ err: error }, 'could not enlarge UDP socket buffers');
        }
        const address = this.#socket.address();
        this.local = { address: address.address, port: address.port };
        resolve();
      });
    });
  }

  send(data: Buffer, remote: NetAddress): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('transport closed'));
    return new Promise((resolve, reject) => {
      this.#socket.send(data, remote.port, remote.address, (error) => (error ? reject(error) : resolve()));
    });
  }

  close(): Promise<void> {
    this.#closed ??= new Promise((resolve) => {
      try {
        this.#socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
    return this.#closed;
  }

  #onDatagram(data: Buffer, remote: NetAddress): void {
    // RFC 5626 §4.4.1 keep-alive (CRLFCRLF) and stray whitespace: nothing to do.
    if (data.every((b) => b === 0x0d || b === 0x0a || b === 0x20)) return;
    try {
      this.emit('message', parseDatagram(data, this.#limits), { transport: this, remote });
    } catch (error) {
      if (error instanceof SipParseError) {
        this.#log.debug({ remote, code: error.code, reason: error.message }, 'unparseable SIP datagram');
        this.emit('invalid', error, { transport: this, remote });
      } else {
        this.#log.error({ err: error, remote }, 'SIP datagram handling failed');
      }
    }
  }
}
