import { request } from 'undici';
import type { CallbackPolicy } from '../shared/callback-url-policy.js';
import { checkHop, FetchRefusedError, PolicyDispatchers, refusalIn } from '../shared/fetch-policy.js';

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
  /** The request body; absent for a GET. */
  body?: string;
  /** Default POST. A GET sends no body (its fields travel in the URL's query string). */
  method?: 'POST' | 'GET';
  policy: CallbackPolicy;
  /** Whole-request timeout. Default 10 s. */
  timeoutMs?: number;
  /** Larger responses are cut off and fail as `too_large`. Default 1 MiB. */
  maxResponseBytes?: number;
  signal?: AbortSignal;
}

const connectFailureCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'EPIPE']);

/**
 * HTTP requests (POST, or GET for voice callbacks that ask for it) to customers' servers, within the workspace's fetch policy
 * (shared/fetch-policy.ts: the URL checked, the address checked after DNS).
 * Redirects are not followed: a 3xx is the answer, so no hop goes unchecked.
 */
export class SafeHttpClient {
  readonly #dispatchers: PolicyDispatchers;

  /** `connectTimeoutMs`: TCP/TLS connect limit. Default 5000 ms. */
  constructor(options: { connectTimeoutMs?: number } = {}) {
    this.#dispatchers = new PolicyDispatchers({ connectTimeoutMs: options.connectTimeoutMs ?? 5000 });
  }

  async post(url: string, options: PostOptions): Promise<HttpResponse> {
    try {
      checkHop(url, options.policy, 'url');
    } catch (error) {
      if (error instanceof FetchRefusedError) throw new HttpFailure('not_allowed', error.message);
      throw error;
    }
    const timeoutMs = options.timeoutMs ?? 10_000;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const max = options.maxResponseBytes ?? 1024 * 1024;
    try {
      const res = await request(url, {
        method: options.method ?? 'POST', headers: options.headers, ...(options.body === undefined ? {} : { body: options.body }), signal,
        dispatcher: this.#dispatchers.for(options.policy),
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
    await this.#dispatchers.close();
  }
}

function classify(error: unknown, timeout: AbortSignal, timeoutMs: number): HttpFailure {
  if (error instanceof HttpFailure) return error;
  const err = error as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = err.code ?? err.cause?.code ?? '';
  const refused = refusalIn(error);
  if (refused) return new HttpFailure('not_allowed', refused.message);
  if (timeout.aborted || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return new HttpFailure('timeout', `no answer within ${timeoutMs / 1000} s`);
  if (connectFailureCodes.has(code)) return new HttpFailure('connect_failed', `${code}: ${(err.cause ?? err).message}`);
  return new HttpFailure('network', err.message || String(error));
}
