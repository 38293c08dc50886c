/**
 * A real local WebSocket server for the audio stream tests, shaped like the
 * AI page's bridge (`handleProtocols` picks the subprotocol), recording
 * everything the platform sends.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface StreamConnection {
  ws: WebSocket;
  protocol: string;
  /** The upgrade request's headers (lower-case names). */
  headers: Record<string, string | string[] | undefined>;
  /** Parsed text messages, in order. */
  texts: any[];
  binary: Buffer[];
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves with the first text message (already received or future) matching `match`. */
  text(match: (msg: any) => boolean): Promise<any>;
  /** Resolves once at least `count` binary frames arrived. */
  frames(count: number): Promise<Buffer[]>;
}

export interface StreamServer {
  url: string;
  port: number;
  next(): Promise<StreamConnection>;
  close(): Promise<void>;
}

export type PickProtocol = (offered: Set<string>) => string | false;

export const pickDrachtio: PickProtocol = (offered) => (offered.has('audio.drachtio.org') ? 'audio.drachtio.org' : false);

export async function startStreamServer(pick: PickProtocol = pickDrachtio): Promise<StreamServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (offered) => pick(offered) });
  await once(wss, 'listening');
  const port = (wss.address() as AddressInfo).port;
  const pending: StreamConnection[] = [];
  const waiters: ((c: StreamConnection) => void)[] = [];
  wss.on('connection', (ws, request) => {
    const texts: any[] = [];
    const binary: Buffer[] = [];
    let notify: (() => void)[] = [];
    const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data, isBinary) => {
      const buf = data as Buffer;
      if (isBinary) binary.push(Buffer.from(buf));
      else texts.push(JSON.parse(buf.toString('utf8')));
      const list = notify;
      notify = [];
      for (const fn of list) fn();
    });
    const until = <T>(check: () => T | undefined): Promise<T> =>
      new Promise((resolve) => {
        const test = (): void => {
          const v = check();
          if (v !== undefined) resolve(v);
          else notify.push(test);
        };
        test();
      });
    const conn: StreamConnection = {
      ws,
      protocol: ws.protocol,
      headers: request.headers,
      texts,
      binary,
      closed,
      text: (match) => until(() => texts.find(match)),
      frames: (count) => until(() => (binary.length >= count ? binary.slice(0, count) : undefined)),
    };
    const waiter = waiters.shift();
    if (waiter) waiter(conn);
    else pending.push(conn);
  });
  return {
    url: `ws://127.0.0.1:${port}/audio`,
    port,
    next: () => {
      const ready = pending.shift();
      return ready ? Promise.resolve(ready) : new Promise((resolve) => waiters.push(resolve));
    },
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** Little-endian 16-bit PCM bytes → samples. */
export function samplesOf(frames: Buffer[]): Int16Array {
  const bytes = Buffer.concat(frames);
  const out = new Int16Array(bytes.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readInt16LE(i * 2);
  return out;
}

/** Samples → little-endian bytes (what a bridge sends). */
export function bytesOf(pcm: Int16Array): Buffer {
  const out = Buffer.alloc(pcm.length * 2);
  for (let i = 0; i < pcm.length; i++) out.writeInt16LE(pcm[i]!, i * 2);
  return out;
}

/** One channel of interleaved stereo. */
export function channel(pcm: Int16Array, index: 0 | 1): Int16Array {
  const out = new Int16Array(pcm.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = pcm[i * 2 + index]!;
  return out;
}

/** From the first sample louder than `threshold`, `length` samples (or fewer). */
export function fromOnset(pcm: Int16Array, length: number, threshold = 2000): Int16Array {
  let start = 0;
  while (start < pcm.length && Math.abs(pcm[start]!) < threshold) start++;
  return pcm.subarray(start, start + length);
}
