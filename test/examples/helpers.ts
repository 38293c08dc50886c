import { createServer, type IncomingHttpHeaders, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';

/** A request an example app answered, as the app saw it (body parsed by the app itself). */
export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: any;
  status: number;
}

export interface RunningApp {
  url: string;
  server: Server;
  requests: SeenRequest[];
  /** The requests the app answered on `path`. */
  on(path: string): SeenRequest[];
  close(): Promise<void>;
}

/**
 * Serves an example app on a free local port and records what it answered.
 * `create` gets the app's own URL, since the examples build their action URLs from it.
 */
export async function serveExample(create: (url: string) => RequestListener): Promise<RunningApp> {
  const requests: SeenRequest[] = [];
  let handler: RequestListener = (_req, res) => { res.statusCode = 503; res.end(); };
  const server = createServer((req, res) => {
    res.on('finish', () => {
      const url = new URL(req.url ?? '/', 'http://app');
      requests.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body: (req as { body?: unknown }).body, status: res.statusCode });
    });
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  handler = create(url);
  return {
    url, server, requests,
    on: (path) => requests.filter((r) => r.path === path),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const ended = ['completed', 'busy', 'no-answer', 'failed', 'canceled'];

/** The call once it has ended and been priced. */
export function finishedCall(api: TestApi, id: string, timeoutMs = 30_000): Promise<any> {
  return until(async () => {
    const c = (await api.call('GET', `/v1/calls/${id}`)).json();
    return ended.includes(c.status) && c.price !== null ? c : undefined;
  }, timeoutMs);
}

/** A sandbox call's report once the call is over. */
export function sandboxReport(api: TestApi, id: string, timeoutMs = 30_000): Promise<any> {
  return until(async () => {
    const r = (await api.call('GET', `/v1/sandbox/calls/${id}`)).json();
    return r.ended_at ? r : undefined;
  }, timeoutMs);
}

/** KES string → integer cents. */
export const cents = (amount: string): number => Math.round(Number(amount) * 100);

/** The billing rule of docs/billing.md: ceil(seconds × rate per minute / 60), in cents. */
export const priceCents = (durationSeconds: number, ratePerMinuteCents: number): number => Math.ceil((durationSeconds * ratePerMinuteCents) / 60);

export async function balanceCents(api: TestApi): Promise<number> {
  return cents((await api.call('GET', '/v1/wallet')).json().balance);
}

/** PUT /v1/sandbox/phones/{number}. */
export async function setPhone(api: TestApi, number: string, behaviour: Record<string, unknown>): Promise<void> {
  const res = await api.call('PUT', `/v1/sandbox/phones/${encodeURIComponent(number)}`, { body: behaviour });
  if (res.statusCode !== 200) throw new Error(`sandbox phone ${number}: ${res.statusCode} ${res.body}`);
}

/** The WAV's format fields (RIFF/WAVE, PCM). */
export function wavInfo(wav: Buffer): { riff: string; wave: string; channels: number; sampleRate: number; bitsPerSample: number; dataBytes: number } {
  return {
    riff: wav.subarray(0, 4).toString('latin1'), wave: wav.subarray(8, 12).toString('latin1'),
    channels: wav.readUInt16LE(22), sampleRate: wav.readUInt32LE(24), bitsPerSample: wav.readUInt16LE(34), dataBytes: wav.length - 44,
  };
}
