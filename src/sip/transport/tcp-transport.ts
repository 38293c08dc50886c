/**
 * SIP over TCP (RFC 3261 §18): the shared stream transport on plain sockets.
 */
import { createConnection, createServer } from 'node:net';
import { StreamTransport, type StreamTransportOptions } from './stream-transport.js';

export type TcpTransportOptions = StreamTransportOptions;

export class TcpTransport extends StreamTransport {
  declare readonly protocol: 'tcp';

  constructor(options: TcpTransportOptions = {}) {
    super({
      protocol: 'tcp',
      // allowHalfOpen: a peer that shuts its side down still gets our answer (RFC 4475 torture files without a final CRLF).
      createServer: () => createServer({ allowHalfOpen: true, noDelay: true }),
      adoptEvent: 'connection',
      connect: (remote) => createConnection({ host: remote.address, port: remote.port, allowHalfOpen: true, noDelay: true }),
      readyEvent: 'connect',
    }, options);
  }
}
