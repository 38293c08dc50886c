import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { parseDatagram, SipResponse, SipHeaders, type SipMessage } from '../../src/sip/index.js';
import type { EventMap, TypedEmitter } from '../../src/shared/typed-emitter.js';

/** Timers short enough for a fast suite, long enough not to race on a loaded machine. */
export const FAST_TIMERS = { t1: 40, t2: 160, t4: 200 };

/**
 * Responses to broken requests echo the broken headers (a 400 to a bad Via
 * copies that Via), so the test client reads them loosely: status line and
 * raw header lines, without the strict parser.
 */
export function looseResponse(data: Buffer): SipResponse | undefined {
  const text = data.toString('utf8');
  const end = text.indexOf('\r\n\r\n');
  const lines = (end < 0 ? text : text.slice(0, end)).split('\r\n');
  const match = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(lines.shift() ?? '');
  if (!match) return undefined;
  const headers = new SipHeaders();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return new SipResponse({ status: Number(match[1]), reason: match[2] ?? '', headers });
}

/** Splits a byte stream into messages by Content-Length (test side, lenient). */
function splitStream(buffer: Buffer): { messages: Buffer[]; rest: Buffer } {
  const messages: Buffer[] = [];
  while (true) {
    const end = buffer.indexOf('\r\n\r\n');
    if (end < 0) break;
    const head = buffer.subarray(0, end).toString('utf8');
    const length = Number(/^(?:content-length|l)[ \t]*:[ \t]*(\d+)/im.exec(head)?.[1] ?? '0');
    if (buffer.length < end + 4 + length) break;
    messages.push(buffer.subarray(0, end + 4 + length));
    buffer = buffer.subarray(end + 4 + length);
  }
  return { messages, rest: buffer };
}

export interface Exchange {
  responses: SipResponse[];
  /** The server closed the TCP connection. */
  closed: boolean;
}

/**
 * Sends `data` and collects responses until a final response arrives (when
 * `untilFinal`), or until `quietMs` pass without any datagram.
 */
export function udpExchange(port: number, data: Buffer, options: { untilFinal?: boolean; quietMs?: number } = {}): Promise<Exchange> {
  const quietMs = options.quietMs ?? 300;
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const responses: SipResponse[] = [];
    let timer: NodeJS.Timeout;
    const finish = (): void => {
      clearTimeout(timer);
      socket.close();
      resolve({ responses, closed: false });
    };
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(finish, quietMs);
    };
    socket.on('message', (msg) => {
      const parsed = looseResponse(msg);
      if (!parsed) return;
      responses.push(parsed);
      if (options.untilFinal && parsed.status >= 200) finish();
      else arm();
    });
    socket.on('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.send(data, port, '127.0.0.1');
      arm();
    });
  });
}

/** Same over TCP; `halfClose` shuts our side after writing (for messages that end without CRLFCRLF). */
export function tcpExchange(port: number, data: Buffer, options: { untilFinal?: boolean; quietMs?: number; halfClose?: boolean; waitClose?: boolean } = {}): Promise<Exchange> {
  const quietMs = options.quietMs ?? 300;
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let pending: Buffer = Buffer.alloc(0);
    const responses: SipResponse[] = [];
    let closed = false;
    let done = false;
    let timer: NodeJS.Timeout;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ responses, closed });
    };
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(finish, quietMs);
    };
    socket.on('data', (chunk: Buffer) => {
      const split = splitStream(Buffer.concat([pending, chunk]));
      pending = split.rest;
      for (const raw of split.messages) {
        const response = looseResponse(raw);
        if (!response) continue;
        responses.push(response);
        if (options.untilFinal && response.status >= 200) {
          // When a close is expected, wait for it (the 'end' handler finishes); otherwise stop now.
          if (!options.waitClose) finish();
          else {
            clearTimeout(timer);
            timer = setTimeout(finish, 2000);
          }
          return;
        }
      }
      arm();
    });
    socket.on('end', () => {
      closed = true;
      finish();
    });
    socket.on('error', (error) => (done ? undefined : reject(error)));
    socket.on('connect', () => {
      socket.write(data);
      if (options.halfClose) socket.end();
      arm();
    });
  });
}

export const SDP_OFFER = [
  'v=0',
  'o=- 1 1 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 40000 RTP/AVP 0 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=sendrecv',
  '',
].join('\r\n');

export const SDP_ANSWER = SDP_OFFER.replace('o=- 1 1', 'o=- 2 1').replace('40000', '40002');

/** Resolves with the arguments of the first emission of `event` (pass the event map explicitly: inference through TypedEmitter fails). */
export function once<E extends EventMap, K extends keyof E>(emitter: TypedEmitter<E>, event: K): Promise<E[K]> {
  return new Promise((resolve) => emitter.once(event, (...args: E[K]) => resolve(args)));
}

/** A raw UDP peer that records every SIP message it receives. */
export class UdpPeer {
  readonly socket = createSocket('udp4');
  readonly received: SipMessage[] = [];
  #waiters: Array<() => void> = [];

  async bind(): Promise<number> {
    this.socket.on('message', (msg) => {
      try {
        this.received.push(parseDatagram(msg));
      } catch {
        return;
      }
      for (const w of this.#waiters.splice(0)) w();
    });
    await new Promise<void>((resolve) => this.socket.bind(0, '127.0.0.1', () => resolve()));
    return this.socket.address().port;
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(data: Buffer | string, port: number): void {
    this.socket.send(typeof data === 'string' ? Buffer.from(data) : data, port, '127.0.0.1');
  }

  /** Waits until `predicate` holds over the received messages (fails the test after `timeoutMs`). */
  async waitFor(predicate: (received: SipMessage[]) => boolean, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.received)) {
      if (Date.now() > deadline) throw new Error(`timed out; received: ${this.received.map((m) => m.startLine).join(' | ')}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  close(): void {
    this.socket.close();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
