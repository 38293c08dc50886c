import net from 'node:net';
import { errorCatalogue } from '../../src/shared/errors.js';

/** A response as it came off the wire. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Everything received, for failure messages. */
  raw: string;
}

function parseResponse(raw: Buffer): RawResponse {
  const text = raw.toString('latin1');
  const split = text.indexOf('\r\n\r\n');
  if (split < 0) throw new Error(`no complete HTTP response head in ${JSON.stringify(text.slice(0, 300))}`);
  const [statusLine, ...headerLines] = text.slice(0, split).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine!)?.[1]);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const at = line.indexOf(':');
    headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
  }
  let body = raw.subarray(Buffer.byteLength(text.slice(0, split + 4), 'latin1'));
  if (headers['transfer-encoding'] === 'chunked') {
    const parts: Buffer[] = [];
    for (let at = 0; ;) {
      const eol = body.indexOf('\r\n', at);
      const size = parseInt(body.subarray(at, eol).toString('latin1'), 16);
      if (!size) break;
      parts.push(body.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  } else if (headers['content-length'] !== undefined) {
    body = body.subarray(0, Number(headers['content-length']));
  }
  return { status, headers, body: body.toString('utf8'), raw: text.slice(0, 2000) };
}

function isComplete(raw: Buffer): boolean {
  const split = raw.indexOf('\r\n\r\n');
  if (split < 0) return false;
  const length = /\r\ncontent-length: *(\d+)/i.exec(raw.subarray(0, split).toString('latin1'))?.[1];
  return length !== undefined && raw.length - split - 4 >= Number(length);
}

/**
 * Sends bytes as they are over a fresh TCP connection (no client library to
 * tidy the URL or refuse a method) and reads the response until the server
 * closes the connection or a response with a Content-Length is complete.
 */
export function rawRequest(baseUrl: string, request: string | Buffer, options: { timeoutMs?: number; halfClose?: boolean } = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const done = () => {
      clearTimeout(timer);
      try {
        resolve(parseResponse(Buffer.concat(chunks)));
      } catch (error) {
        reject(error as Error);
      }
    };
    const timer = setTimeout(() => socket.destroy(), options.timeoutMs ?? 5000);
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      // A whole response with a Content-Length is complete: no need to wait for the server to close.
      if (isComplete(Buffer.concat(chunks))) socket.destroy();
    });
    // The server may close before it has read everything (a 64 KiB header): what arrived still counts.
    socket.on('error', () => undefined);
    socket.on('close', done);
    // Half-closing says the request ends here, as a client that gives up does.
    if (options.halfClose) socket.end(request);
    else socket.write(request);
  });
}

/** The JSON of SPEC §3, or the reason a body is not it. */
export function errorShapeProblem(status: number, contentType: string | undefined, body: string): string | undefined {
  if (!/^application\/json\b/.test(contentType ?? '')) return `content-type ${contentType}`;
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return 'not JSON';
  }
  if (!json || typeof json !== 'object' || Object.keys(json).join() !== 'error') return 'not {"error":{…}}';
  const error = (json as { error: unknown }).error as Record<string, unknown>;
  if (!error || typeof error !== 'object') return 'error is not an object';
  const extra = Object.keys(error).filter((k) => !['code', 'message', 'field'].includes(k));
  if (extra.length) return `extra keys ${extra.join()}`;
  if (typeof error['message'] !== 'string' || error['message'] === '') return 'no message';
  if (error['field'] !== undefined && (typeof error['field'] !== 'string' || error['field'].length > 200)) return 'field is not a short string';
  const code = error['code'];
  if (typeof code !== 'string' || !(code in errorCatalogue)) return `code ${String(code)} is not in the catalogue`;
  const expected = errorCatalogue[code as keyof typeof errorCatalogue].status;
  if (expected !== status) return `code ${code} is ${expected} in the catalogue, sent with ${status}`;
  return undefined;
}

/**
 * The longest run of characters of `input` that `text` repeats, when it is
 * longer than `limit` (else undefined). Windows of limit/2+1 characters at
 * every limit/2 of `text` find any run over `limit` cheaply; only a hit is
 * then measured exactly.
 */
export function echoedRun(text: string, input: string, limit = 200): string | undefined {
  if (text.length <= limit || input.length <= limit) return undefined;
  const step = Math.floor(limit / 2);
  for (let at = 0; at + step + 1 <= text.length; at += step) {
    if (!input.includes(text.slice(at, at + step + 1))) continue;
    // Grow the run around the hit as far as input still contains it.
    let start = at;
    let end = at + step + 1;
    while (end < text.length && input.includes(text.slice(start, end + 1))) end++;
    while (start > 0 && input.includes(text.slice(start - 1, end))) start--;
    if (end - start > limit) return text.slice(start, end);
  }
  return undefined;
}
