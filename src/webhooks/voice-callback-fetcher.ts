import type { CallErrorCode } from '../shared/call-codes.js';
import type { CallbackPolicy } from '../shared/callback-url-policy.js';
import { newId } from '../shared/ids.js';
import { HttpFailure, type SafeHttpClient } from './safe-http-client.js';
import { signedHeaders } from './signer.js';

/** The SPEC §5 body fields; `metadata` pairs are merged in flat. */
export interface VoiceCallbackBody {
  CallId: string;
  From: string;
  To: string;
  Direction: 'inbound' | 'outbound';
  CallStatus: string;
  AccountId: string;
  Digits?: string;
  DialCallStatus?: string;
  DialCallId?: string;
  DialCallDuration?: number;
  RecordingUrl?: string;
  RecordingDuration?: number;
  ConferenceName?: string;
  /** Answering machine detection's decision, on calls placed with `machine_detection` (SPEC §17). */
  AnsweredBy?: string;
  [extra: string]: unknown;
}

/** What the customer's server answered, before the actions are parsed. */
export type VoiceCallbackAnswer =
  | { format: 'json'; value: unknown; url: string }
  | { format: 'xml'; text: string; url: string };

export interface VoiceCallbackError {
  code: Extract<CallErrorCode, `webhook_${string}`>;
  message: string;
  url: string;
}

export type VoiceCallbackResult =
  | { ok: true; answer: VoiceCallbackAnswer; errors: VoiceCallbackError[] }
  | { ok: false; errors: VoiceCallbackError[] };

/** One HTTP exchange with the customer's server, as the call's timeline shows it (SPEC §14). */
export interface WebhookExchangeObserver {
  /** Called as the request leaves: the URL as configured, the method and the fields sent (in the body, or for GET the query). */
  request(exchange: { url: string; method: 'POST' | 'GET'; body: VoiceCallbackBody; attempt: number }): void;
  /** Called with the answer (any status), or with why there was none (`error`). */
  response(exchange: {
    url: string; durationMs: number;
    answer?: { status: number; contentType: string; body: Buffer };
    error?: { code: VoiceCallbackError['code']; message: string };
  }): void;
}

export interface FetchActionsInput {
  url: string;
  /** Tried when `url` fails (the number's fallback_url). */
  fallbackUrl?: string | null;
  body: VoiceCallbackBody;
  /**
   * Default POST (the body as JSON). GET sends the same fields in the query
   * string (added to the URL's own) and signs the request target (path and
   * query) instead of a body.
   */
  method?: 'POST' | 'GET';
  secrets: readonly string[];
  policy: CallbackPolicy;
  signal?: AbortSignal;
  /** Told of every request and its answer (the call's timeline). */
  observer?: WebhookExchangeObserver;
}

export interface VoiceCallbackFetcherOptions {
  /** Default 10 s (SPEC §5). */
  timeoutMs?: number;
  /** Largest answer accepted. Default 1 MiB. */
  maxResponseBytes?: number;
  now?: () => Date;
}

/**
 * Fetches actions from a customer's server (SPEC §5): a signed JSON POST to
 * the URL as given (its query string kept), one retry when the connection
 * fails, then the fallback URL. Every failure is returned as an error to
 * record on the call; a success may still carry the errors of a failed first
 * URL.
 */
export class VoiceCallbackFetcher {
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #now: () => Date;

  constructor(private readonly http: SafeHttpClient, options: VoiceCallbackFetcherOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#maxBytes = options.maxResponseBytes ?? 1024 * 1024;
    this.#now = options.now ?? (() => new Date());
  }

  async fetchActions(input: FetchActionsInput): Promise<VoiceCallbackResult> {
    const errors: VoiceCallbackError[] = [];
    for (const url of [input.url, input.fallbackUrl].filter((u): u is string => !!u)) {
      const answer = await this.#fetchOne(url, input, errors);
      if (answer) return { ok: true, answer, errors };
      if (input.signal?.aborted) break;
    }
    return { ok: false, errors };
  }

  async #fetchOne(url: string, input: FetchActionsInput, errors: VoiceCallbackError[]): Promise<VoiceCallbackAnswer | undefined> {
    const get = input.method === 'GET';
    const target = get ? withQuery(url, input.body) : url;
    // A GET has no body: what is signed is the request target as the app reads it (path and query, fields included;
    // Express: req.originalUrl), not the host, which proxies rewrite (docs/webhooks.md).
    const signed = get ? requestTarget(target) : JSON.stringify(input.body);
    const eventId = newId('req');
    const observer = input.observer;
    for (let attempt = 1; attempt <= 2; attempt++) {
      const started = performance.now();
      try {
        const { 'content-type': contentType, ...common } = signedHeaders({ rawBody: signed, secrets: input.secrets, eventId, attempt, now: this.#now() });
        const headers = { ...common, ...(get ? {} : { 'content-type': contentType! }), accept: 'application/json, application/xml, text/xml' };
        observer?.request({ url, method: get ? 'GET' : 'POST', body: input.body, attempt });
        const res = await this.http.post(target, {
          ...(get ? { method: 'GET' as const } : { body: signed }), policy: input.policy, timeoutMs: this.#timeoutMs, maxResponseBytes: this.#maxBytes,
          headers,
          ...(input.signal ? { signal: input.signal } : {}),
        });
        observer?.response({ url, durationMs: performance.now() - started, answer: res });
        if (res.status < 200 || res.status >= 300) {
          errors.push({ code: 'webhook_http_error', message: `the webhook answered HTTP ${res.status}`, url });
          return undefined;
        }
        const parsed = parseAnswer(res.contentType, res.body.toString('utf8'), url);
        if ('error' in parsed) {
          errors.push({ code: 'webhook_invalid_response', message: parsed.error, url });
          return undefined;
        }
        return parsed;
      } catch (error) {
        if (!(error instanceof HttpFailure)) throw error;
        observer?.response({ url, durationMs: performance.now() - started, error: { code: errorCode(error), message: error.message } });
        // Only a failed connection is retried: the request never reached the app.
        if (error.kind === 'connect_failed' && attempt === 1 && !input.signal?.aborted) continue;
        errors.push({ code: errorCode(error), message: error.message, url });
        return undefined;
      }
    }
    return undefined;
  }
}

/** `url` with the callback's fields added to its query string (flat values as text; metadata pairs are flat already). */
export function withQuery(url: string, body: VoiceCallbackBody): string {
  const target = new URL(url);
  for (const [key, value] of Object.entries(body)) {
    if (value === undefined || value === null) continue;
    target.searchParams.append(key, typeof value === 'object' ? JSON.stringify(value) : String(value));
  }
  return target.toString();
}

function requestTarget(url: string): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}

function errorCode(error: HttpFailure): VoiceCallbackError['code'] {
  switch (error.kind) {
    case 'timeout': return 'webhook_timeout';
    case 'not_allowed': return 'webhook_not_allowed';
    case 'too_large': return 'webhook_response_too_large';
    default: return 'webhook_unreachable';
  }
}

/** JSON (object or bare array) or `<Response>` XML, by content type and, failing that, by the body's first character. */
export function parseAnswer(contentType: string, text: string, url: string): VoiceCallbackAnswer | { error: string } {
  const trimmed = text.trim();
  const type = contentType.toLowerCase();
  const looksXml = trimmed.startsWith('<');
  if (type.includes('xml') || (looksXml && !type.includes('json'))) {
    if (!looksXml) return { error: `the webhook answered ${contentType || 'no content type'} that is not XML` };
    return { format: 'xml', text: trimmed, url };
  }
  if (trimmed === '') return { error: 'the webhook answered an empty body (expected {"actions":[…]}, an array of actions or <Response> XML)' };
  try {
    return { format: 'json', value: JSON.parse(trimmed) as unknown, url };
  } catch (error) {
    return { error: `the webhook answered invalid JSON: ${(error as Error).message}` };
  }
}
