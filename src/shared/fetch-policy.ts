/**
 * The fetch policy (SPEC §18): every request the platform makes on a
 * customer's behalf — voice callbacks, webhooks, `play`, `waitUrl`, `stream`,
 * sandbox scripts — goes through the checks here, so the platform cannot be
 * used as a proxy into its own network.
 *
 * - Each hop's URL is checked (`checkHop`): scheme, credentials,
 *   `allowed_callback_hosts`, literal private addresses, localhost names.
 *   Node does not call `lookup` for a host that is an IP literal, so this is
 *   what refuses `Location: http://127.0.0.1/`.
 * - The address a name resolves to is checked at connect time
 *   (`guardedLookup`, for undici Agents, `http` and `ws` options), on the
 *   address actually used, so a name pointing (or rebinding) inside is
 *   refused too.
 * - Media GETs (`play`, `waitUrl`) follow at most `MAX_REDIRECTS` redirects, each hop checked both ways
 *   (`guardedGet`). Voice callbacks (POST, or GET when an action asks) and webhooks, and the `stream`
 *   WebSocket follow none: a 3xx is their answer.
 *
 * The policy is plain data (`FetchPolicy`), so it crosses to media worker
 * threads with the command that fetches.
 */
import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import { Agent, request, type Dispatcher } from 'undici';
import { checkCallbackUrl, isNonPublicAddress, type CallbackPolicy } from './callback-url-policy.js';
import { isAppError } from './errors.js';

/** A workspace's fetch policy: its `allowed_callback_hosts` and `allow_private_callbacks`. Plain data. */
export type FetchPolicy = CallbackPolicy;

/** The strictest policy: public addresses only, any host. For fetches that know no workspace. */
export const publicOnlyPolicy: FetchPolicy = Object.freeze({ allowedCallbackHosts: Object.freeze([]), allowPrivateCallbacks: false });

/** The stable code of a fetch the policy refused, on the error and in the call's `errors`. */
export const FETCH_NOT_ALLOWED = 'fetch_not_allowed';

/** Redirects a GET follows; one more is refused. */
export const MAX_REDIRECTS = 5;

/** A fetch the policy refused: the URL of a hop, the address its name resolved to, or one redirect too many. */
export class FetchRefusedError extends Error {
  readonly code = FETCH_NOT_ALLOWED;

  /** `url`: the hop that was refused (a redirect target, not necessarily the URL asked for). */
  constructor(message: string, readonly url: string) {
    super(message);
    this.name = 'FetchRefusedError';
  }
}

/**
 * Whether `error` (or an error it wraps as `cause`) is a refusal of the
 * policy. Goes by `code`, so it also knows a refusal rebuilt from a media
 * worker's reply.
 */
export function isFetchRefused(error: unknown): error is Error & { code: typeof FETCH_NOT_ALLOWED } {
  return refusalIn(error) !== undefined;
}

/** The refusal in `error`'s cause chain, if any. */
export function refusalIn(error: unknown): (Error & { code: typeof FETCH_NOT_ALLOWED }) | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if ((e as { code?: unknown }).code === FETCH_NOT_ALLOWED) return e as Error & { code: typeof FETCH_NOT_ALLOWED };
  }
  return undefined;
}

/** Just the policy from a workspace's settings, as data that crosses to a worker thread. */
export function fetchPolicyOf(settings: CallbackPolicy): FetchPolicy {
  return { allowedCallbackHosts: [...settings.allowedCallbackHosts], allowPrivateCallbacks: settings.allowPrivateCallbacks };
}

/** A string equal for equal policies (caches of fetched content are keyed by it). */
export function policyKey(policy: FetchPolicy): string {
  return `${policy.allowPrivateCallbacks ? 'any' : 'public'}:${[...policy.allowedCallbackHosts].map((h) => h.toLowerCase()).sort().join(',')}`;
}

/**
 * Checks one hop's URL (`http`/`https`; `ws`/`wss` are checked as their
 * http twins). Throws `FetchRefusedError` naming `field`; answers the URL.
 */
export function checkHop(url: string | URL, policy: FetchPolicy, field = 'url'): URL {
  const raw = String(url);
  const asHttp = raw.replace(/^ws(s?):/i, 'http$1:');
  try {
    checkCallbackUrl(asHttp, policy, field);
  } catch (error) {
    if (isAppError(error)) throw new FetchRefusedError(error.message, raw);
    throw error;
  }
  return new URL(raw);
}

/**
 * A `lookup` (for `net.connect`, undici's `connect`, `http`/`ws` options)
 * that refuses a name resolving to a loopback, private or link-local
 * address. Any one such address refuses the name: a client may try them all.
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return (callback as (e: Error) => void)(error);
    const list = addresses as dns.LookupAddress[];
    const inside = list.find((a) => isNonPublicAddress(a.address));
    if (inside) {
      const refused = new FetchRefusedError(`${hostname} resolves to non-public address ${inside.address}; allow_private_callbacks is off`, hostname);
      return (callback as (e: Error) => void)(refused);
    }
    if (options.all) return (callback as (e: null, a: dns.LookupAddress[]) => void)(null, list);
    const first = list[0];
    if (!first) return (callback as (e: Error) => void)(new Error(`${hostname} has no address`));
    return (callback as (e: null, a: string, f: number) => void)(null, first.address, first.family);
  });
};

/** The `lookup` a connection under `policy` uses: undefined (the system's) when private addresses are allowed. */
export function lookupFor(policy: FetchPolicy): LookupFunction | undefined {
  return policy.allowPrivateCallbacks ? undefined : guardedLookup;
}

/** Options for `PolicyDispatchers`. */
export interface PolicyDispatchersOptions {
  /** TCP (and TLS) connect time limit. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** Idle keep-alive connections are closed after this long. Default 10000 ms. */
  keepAliveTimeoutMs?: number;
  /** Connections per origin. Default 64. */
  connections?: number;
}

/**
 * Two undici connection pools: one whose connections pass `guardedLookup`,
 * one for workspaces that allow private addresses. A connection made under
 * one policy is never reused under the other.
 */
export class PolicyDispatchers {
  readonly #publicOnly: Agent;
  readonly #anyAddress: Agent;

  constructor(options: PolicyDispatchersOptions = {}) {
    const connect = { timeout: options.connectTimeoutMs ?? 5000 };
    const pool = { keepAliveTimeout: options.keepAliveTimeoutMs ?? 10_000, connections: options.connections ?? 64 };
    this.#publicOnly = new Agent({ connect: { ...connect, lookup: guardedLookup }, ...pool });
    this.#anyAddress = new Agent({ connect, ...pool });
  }

  for(policy: FetchPolicy): Dispatcher {
    return policy.allowPrivateCallbacks ? this.#anyAddress : this.#publicOnly;
  }

  async close(): Promise<void> {
    await Promise.all([this.#publicOnly.close(), this.#anyAddress.close()]);
  }
}

/** Options for `guardedGet`. */
export interface GuardedGetOptions {
  policy: FetchPolicy;
  dispatchers: PolicyDispatchers;
  /** Names the URL in refusals (`url`, `waitUrl`). Default 'url'. */
  field?: string;
  /** Redirects followed; one more is refused. Default `MAX_REDIRECTS` (5). */
  maxRedirects?: number;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** A GET's final answer and the URL that gave it. */
export interface GuardedResponse {
  url: string;
  statusCode: number;
  headers: Dispatcher.ResponseData['headers'];
  body: Dispatcher.ResponseData['body'];
}

const redirectStatuses = new Set([301, 302, 303, 307, 308]);

/**
 * GET `url` within `policy`, following redirects itself so that every hop's
 * URL is checked before it is fetched and its address after DNS. Rejects
 * with `FetchRefusedError` when a hop is refused or there are more than
 * `maxRedirects` redirects; other failures reject as undici's do. The
 * caller reads `body`, or destroys it unread.
 */
export async function guardedGet(url: string, options: GuardedGetOptions): Promise<GuardedResponse> {
  const field = options.field ?? 'url';
  const maxRedirects = options.maxRedirects ?? MAX_REDIRECTS;
  let hop = checkHop(url, options.policy, field);
  for (let redirects = 0; ; redirects++) {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(hop.href, {
        method: 'GET', dispatcher: options.dispatchers.for(options.policy), signal: options.signal,
        ...(options.headers ? { headers: options.headers } : {}),
      });
    } catch (error) {
      throw refusalIn(error) ?? error;
    }
    // Destroying an unread body makes undici emit 'error' (aborted); the caller may do just that. Reading still sees errors.
    res.body.on('error', ignore);
    const location = res.headers['location'];
    if (!redirectStatuses.has(res.statusCode) || typeof location !== 'string') return { url: hop.href, statusCode: res.statusCode, headers: res.headers, body: res.body };
    res.body.destroy();
    if (!URL.canParse(location, hop.href)) throw new Error(`GET ${hop.href} answered ${res.statusCode} with an invalid Location`);
    const next = new URL(location, hop);
    if (redirects >= maxRedirects) throw new FetchRefusedError(`${field} redirected more than ${maxRedirects} times (the last to ${next.href})`, next.href);
    hop = checkHop(next, options.policy, `the redirect to ${next.href}`);
  }
}

function ignore(): void {}
