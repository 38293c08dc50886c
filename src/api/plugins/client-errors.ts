import { maxHeaderSize, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../shared/errors.js';
import { routeMiss } from './errors.js';

/**
 * Requests Node's HTTP server answers before fastify sees them: whatever its
 * parser refuses ('clientError': headers over 16 KiB, a method it does not
 * know, a malformed request line, header or chunk, a timeout), CONNECT, and
 * an `Expect` other than 100-continue. Each gets a whole HTTP response with a
 * SPEC §3 body, and the connection is closed (the parser cannot go on).
 */

/** A parser error as Node hands it to 'clientError'. */
export interface ParserError extends Error {
  code?: string;
  rawPacket?: unknown;
}

/** The request line of the packet the parser failed on, when it is there to read. */
function requestLineOf(rawPacket: unknown): { method: string; target: string } | undefined {
  if (!Buffer.isBuffer(rawPacket)) return undefined;
  const end = rawPacket.indexOf(10);
  const line = rawPacket.subarray(0, end < 0 ? Math.min(rawPacket.length, 65536) : end).toString('latin1');
  const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}) (\S+) HTTP\/\d\.\d\r?$/.exec(line);
  return m ? { method: m[1]!, target: m[2]! } : undefined;
}

/** Whether the request line alone is over the header limit (a URL of 16 KiB or more): it fills the packet, or runs past the limit. */
function requestLineTooLong(rawPacket: unknown): boolean {
  if (!Buffer.isBuffer(rawPacket) || !/^[A-Za-z-]{1,32} \//.test(rawPacket.subarray(0, 40).toString('latin1'))) return false;
  const end = rawPacket.indexOf(10);
  return end < 0 || end >= maxHeaderSize;
}

/** What a client is told for a parser error; undefined when there is no one left to tell (the peer reset the connection). */
export function parserErrorAnswer(app: FastifyInstance, err: ParserError): { error: AppError; allow?: string } | undefined {
  switch (err.code) {
    case 'ECONNRESET':
      return undefined;
    case 'HPE_HEADER_OVERFLOW':
      return requestLineTooLong(err.rawPacket)
        ? { error: new AppError('url_too_long', 'the request line is longer than the server accepts (16 KiB with the headers)') }
        : { error: new AppError('header_too_large', 'the request line and headers are larger than the server accepts (16 KiB)') };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { error: new AppError('payload_too_large', 'the chunk extensions of the request body are larger than the server accepts') };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { error: new AppError('request_timeout', 'the request did not arrive in time') };
    case 'HPE_INVALID_METHOD': {
      const line = requestLineOf(err.rawPacket);
      if (line) return routeMiss(app, line.method, line.target);
      return { error: new AppError('malformed_request', 'the request line is not method, path and HTTP version') };
    }
    case 'HPE_INVALID_URL':
      return { error: new AppError('invalid_url', 'the URL holds a character a URL may not hold (spaces and control characters must be percent-encoded)') };
    default:
      return { error: new AppError('malformed_request', `the request is not well-formed HTTP (${err.code ?? 'unreadable'})`) };
  }
}

/** Sockets already answered: the parser may report more errors for the bytes that follow. */
const answered = new WeakSet<Duplex>();

/** How long an answered socket's further input is read and dropped before it is destroyed. */
const lingerMs = 1000;

/**
 * Writes a whole response with a SPEC §3 body on a raw socket and closes it.
 * The rest of the client's input (a 64 KiB header still arriving) is read and
 * dropped for a moment first: closing with unread input makes the kernel
 * send a reset, which can destroy the answer before the client reads it.
 */
export function writeErrorResponse(socket: Duplex, error: AppError, allow?: string): void {
  answered.add(socket);
  const body = JSON.stringify(error.toJSON());
  const head = [
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...(allow ? [`Allow: ${allow}`] : []),
    'Connection: close',
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
  const linger = setTimeout(() => socket.destroy(), lingerMs);
  linger.unref();
  socket.once('close', () => clearTimeout(linger));
  socket.once('end', () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.resume();
}

/** Fastify's `clientErrorHandler`: answers what Node's parser refused, in SPEC §3 shape. */
export function answerClientError(app: FastifyInstance, err: ParserError, socket: Duplex): void {
  if (socket.destroyed || answered.has(socket)) return;
  const answer = parserErrorAnswer(app, err);
  // A response already on its way on this connection cannot be followed by another one: just close.
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (!answer || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  app.log.debug({ err, code: answer.error.code }, 'client error');
  writeErrorResponse(socket, answer.error, answer.allow);
}

/** CONNECT (no proxying here) and `Expect` other than 100-continue, which Node would answer itself without a body. */
export function registerClientErrorAnswers(app: FastifyInstance): void {
  app.server.on('connect', (_request: IncomingMessage, socket: Duplex) => {
    writeErrorResponse(socket, new AppError('method_not_allowed', 'CONNECT is not a method of this server: it is not a proxy'));
  });
  app.server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    const error = new AppError('expectation_failed', 'the only expectation this server meets is Expect: 100-continue');
    const body = JSON.stringify(error.toJSON());
    response.writeHead(error.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
    response.end(body);
    request.resume();
  });
}
