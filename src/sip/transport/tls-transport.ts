/**
 * SIP over TLS (RFC 3261 §26.2, §18): the shared stream transport on TLS
 * sockets. We serve our certificate to phones and carriers that connect to
 * us, and check a carrier's certificate when we connect to it: against the
 * system CAs, plus `ca` (PEM) for a carrier with a private or self-signed
 * certificate. The certificate must name the host we dialled (RFC 5922 §7.2;
 * an IP address must be in its subjectAltName).
 */
import { isIP } from 'node:net';
import { connect, createServer, rootCertificates } from 'node:tls';
import { StreamTransport, type StreamTransportOptions } from './stream-transport.js';

export interface TlsTransportOptions extends StreamTransportOptions {
  /** Our certificate chain (PEM). */
  cert: string | Buffer;
  /** Its private key (PEM). */
  key: string | Buffer;
  /** Extra CA certificates (PEM) trusted besides the system ones for connections we open. */
  ca?: string | Buffer;
}

export class TlsTransport extends StreamTransport {
  declare readonly protocol: 'tls';

  constructor(options: TlsTransportOptions) {
    const { cert, key } = options;
    const ca = options.ca ? [...rootCertificates, options.ca.toString()] : undefined;
    super({
      protocol: 'tls',
      // A handshake that does not finish in time is dropped like a header that does not (SPEC §13).
      createServer: () => createServer({ cert, key, allowHalfOpen: true, noDelay: true, handshakeTimeout: options.headerTimeoutMs ?? 10_000 }),
      adoptEvent: 'secureConnection',
      connect: (remote) => connect({
        host: remote.address, port: remote.port, cert, key, ...(ca ? { ca } : {}), rejectUnauthorized: true,
        // SNI carries host names only (RFC 6066 §3).
        ...(isIP(remote.address.replace(/^\[(.*)\]$/, '$1')) === 0 ? { servername: remote.address } : {}),
      }),
      readyEvent: 'secureConnect',
    }, options);
  }
}
