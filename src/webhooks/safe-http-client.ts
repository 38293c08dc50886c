import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import { AppError } from '../shared/errors.js';
import { checkCallbackUrl, isNonPublicAddress, type CallbackPolicy } from '../shared/callback-url-policy.js';

export type HttpFailureKind = 'not_allowed' | 'connect_failed' | 'timeout' | 'too_large' | 'network';

/** Why a request to a customer's server did not produce a response. */
export class HttpFailure extends Error {
  constructor(readonly kind: HttpFailureKind, message: string) {
    super(message);
    this.name = 'HttpFailure';
  }
}

export interface HttpResponse {
  status: number;
  contentType: string;
  body: Buffer;
}

export interface PostOptions {
  headers: Record<string, string>;
  body: string;
  policy: CallbackPolicy;
  /** Whole-request timeout. Default 10 s. */
  timeoutMs?: number;
  /** Larger responses are cut off and fail as `too_large`. Default 1 MiB. */
  maxResponseBytes?: number;
  signal?: AbortSignal;
}

/**
 * Refuses to connect to non-public addresses. DNS is checked at connect time,
 * on the address actually used, so a name that resolves inside (or rebinds
 * after the URL was saved) cannot reach the internal network.
 */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return (callback as (e: Error) => void)(error);
    const list = addresses as dns.LookupAddress[];
    const inside = list.find((a) => isNonPublicAddress(a.address));
    if (inside) {
      const refused = Object.assign(new Error(`${hostname} resolves to non-public address ${inside.address}`), { code: 'ESAUTIKIT_PRIVATE' });
      return (callback as (e: Error) => void)(refused);
    }
    if (options.all) return (callback as (e: null, a: dns.LookupAddress[]) => void)(null, list);
    const first = list[0];
    if (!first) return (callback as (e: Error) => void)(new Error(`${hostname} has no address`));
    return (callback as (e: null, a: string, f: number) => void)(null, first.address, first.family);
  });
};

const connectFailureCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'EPIPE']);

/** HTTP POSTs to customers' servers, within the workspace's callback policy. */
export class SafeHttpClient {
  readonly #publicOnly: Agent;
  readonly #anyAddress: Agent;

  constructor(options: { connectTimeoutMs?: number } = {}) {
    const connect = { timeout: options.connectTimeoutMs ?? 5000 };
    this.#publicOnly = new Agent({ connect: { ...connect, lookup: guardedLookup }, keepAliveTimeout: 10_000, connections: 64 });
    this.#anyAddress = new Agent({ connect, keepAliveTimeout: 10_000, connections: 64 });
  }

  async post(url: string, options: PostOptions): Promise<HttpResponse> {
    try {
      checkCallbackUrl(url, options.policy, 'url');
    } catch (error) {
      throw new HttpFailure('not_allowed', error instanceof AppError ? error.message : String(error));
    }
    const timeoutMs = options.timeoutMs ?? 10_000;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const max = options.maxResponseBytes ?? 1024 * 1024;
    try {
      const res = await request(url, {
        method: 'POST', headers: options.headers, body: options.body, signal,
        dispatcher: options.policy.allowPrivateCallbacks ? this.#anyAddress : this.#publicOnly,
        headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > max) {
          res.body.destroy();
          throw new HttpFailure('too_large', `the response is larger than ${max} bytes`);
        }
        chunks.push(chunk as Buffer);
      }
      const type = res.headers['content-type'];
      return { status: res.statusCode, contentType: (Array.isArray(type) ? type[0] : type) ?? '', body: Buffer.concat(chunks) };
    } catch (error) {
      throw classify(error, timeout, timeoutMs);
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.#publicOnly.close(), this.#anyAddress.close()]);
  }
}

function classify(error: unknown, timeout: AbortSignal, timeoutMs: number): HttpFailure {
  if (error instanceof HttpFailure) return error;
  const err = error as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = err.code ?? err.cause?.code ?? '';
  if (code === 'ESAUTIKIT_PRIVATE' || err.cause?.code === 'ESAUTIKIT_PRIVATE') return new HttpFailure('not_allowed', (err.cause ?? err).message);
  if (timeout.aborted || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return new HttpFailure('timeout', `no answer within ${timeoutMs / 1000} s`);
  if (connectFailureCodes.has(code)) return new HttpFailure('connect_failed', `${code}: ${(err.cause ?? err).message}`);
  return new HttpFailure('network', err.message || String(error));
}
