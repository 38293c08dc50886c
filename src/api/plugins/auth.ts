import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { AppError } from '../../shared/errors.js';
import type { Store } from '../../store/store.js';
import type { RateLimiter } from './rate-limit.js';

export type AuthContext = { kind: 'admin'; keyId: string } | { kind: 'workspace'; keyId: string; workspaceId: string };

declare module 'fastify' {
  interface FastifyRequest {
    /** The key the request was authenticated with; undefined on public routes. */
    auth: AuthContext | undefined;
    /**
     * The workspace of the workspace key. Only requests in the workspace
     * scope have it (its hook sets it before any handler runs).
     */
    workspaceId: string;
  }
}

/**
 * The API key of an `Authorization` header: `Bearer <key>`, or (SPEC §14)
 * `Basic base64(<key>:)`, the key as the user name and an empty password,
 * as `curl -u KEY:` sends it. Anything else is 401 `unauthorized` saying why.
 */
export function apiKeyOf(header: string | undefined): string {
  if (!header) throw new AppError('unauthorized', 'send your API key as "Authorization: Bearer <key>" (or curl -u <key>:)');
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (bearer) return bearer[1]!;
  const basic = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header);
  if (!basic) {
    if (/^Basic(\s|$)/i.test(header)) throw new AppError('unauthorized', 'the Basic credentials are not base64 of "<key>:"');
    throw new AppError('unauthorized', 'send your API key as "Authorization: Bearer <key>" (or curl -u <key>:)');
  }
  const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new AppError('unauthorized', 'the Basic credentials must be "<key>:" (the API key as the user name, an empty password)');
  const user = decoded.slice(0, colon);
  if (user === '' || decoded.slice(colon + 1) !== '' || /\s/.test(user)) {
    throw new AppError('unauthorized', 'the Basic credentials must be "<key>:" (the API key as the user name, an empty password)');
  }
  return user;
}

/**
 * Authenticates a request (SPEC §2): the bearer key is looked up by its hash
 * (401 `unauthorized` when missing, unknown or revoked), then it pays the
 * key's rate limit (429). Sets and answers `request.auth`.
 */
export type Authenticate = (request: FastifyRequest, reply: FastifyReply) => Promise<AuthContext>;

export function keyAuthentication(store: Store, rateLimiter: RateLimiter): Authenticate {
  return async (request, reply) => {
    const key = await store.apiKeys.findActiveByKey(apiKeyOf(request.headers.authorization));
    if (!key) throw new AppError('unauthorized', 'the API key is unknown or revoked');
    const auth: AuthContext = key.kind === 'admin'
      ? { kind: 'admin', keyId: key.id }
      : { kind: 'workspace', keyId: key.id, workspaceId: key.workspaceId! };
    request.auth = auth;
    // Unauthenticated floods are answered 401 above, before they cost a bucket.
    rateLimiter.take(auth.keyId, reply);
    return auth;
  };
}

/** The onRequest hook of the workspace scope: a workspace key, whose workspace goes on `request.workspaceId`. */
export function requireWorkspaceKey(authenticate: Authenticate): onRequestAsyncHookHandler {
  return async function workspaceKeyRequired(request, reply) {
    const auth = await authenticate(request, reply);
    if (auth.kind !== 'workspace') throw new AppError('forbidden', 'this endpoint needs a workspace API key, not the admin key');
    request.workspaceId = auth.workspaceId;
  };
}

/** The onRequest hook of the admin scope (`/v1/admin/...`): the operator's key. */
export function requireAdminKey(authenticate: Authenticate): onRequestAsyncHookHandler {
  return async function adminKeyRequired(request, reply) {
    const auth = await authenticate(request, reply);
    if (auth.kind !== 'admin') throw new AppError('forbidden', 'this endpoint needs the admin key');
  };
}

/** The path of a request target; absolute-form targets (`GET http://host/v1/numbers`, as proxies send them) are routed by their path, so are read by it. */
function targetPath(url: string): string {
  return (url.split('?')[0] ?? '').replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '');
}

/**
 * A request under /v1 that no route takes (an unknown path, or a method the
 * path does not have) still needs a key, unless its path is a public one:
 * without one it is 401, as on any /v1 route, before the not-found handler
 * answers 404 or 405 (plugins/errors.ts). Routed requests are authenticated
 * by the hook of their scope instead.
 */
export function registerUnroutedAuth(app: FastifyInstance, authenticate: Authenticate, publicPaths: ReadonlySet<string>): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!request.is404) return;
    const path = targetPath(request.url);
    if (path.startsWith('/v1/') && !publicPaths.has(path)) await authenticate(request, reply);
  });
}
