import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../shared/errors.js';
import type { Store } from '../../store/store.js';

export type AuthContext = { kind: 'admin'; keyId: string } | { kind: 'workspace'; keyId: string; workspaceId: string };

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext | undefined;
  }
}

/** Paths under /v1 that need no key. */
const publicPaths = new Set(['/v1/openapi.json']);

/**
 * Bearer authentication (SPEC §2): every /v1 request names an API key; keys
 * are looked up by their hash. Routes then ask for the kind they need.
 */
export function registerAuth(app: FastifyInstance, store: Store): void {
  app.decorateRequest('auth', undefined);
  app.addHook('onRequest', async (request) => {
    // The router also takes absolute-form targets (`GET http://host/v1/numbers`, as proxies send them): so must this check.
    const path = (request.url.split('?')[0] ?? '').replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '');
    if (!path.startsWith('/v1/') || publicPaths.has(path)) return;
    const header = request.headers.authorization;
    const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!m) throw new AppError('unauthorized', 'send your API key as "Authorization: Bearer <key>"');
    const key = await store.apiKeys.findActiveByKey(m[1]!);
    if (!key) throw new AppError('unauthorized', 'the API key is unknown or revoked');
    request.auth = key.kind === 'admin'
      ? { kind: 'admin', keyId: key.id }
      : { kind: 'workspace', keyId: key.id, workspaceId: key.workspaceId! };
  });
}

/** The workspace of a workspace key; admin keys are refused on workspace routes. */
export function workspaceOf(request: FastifyRequest): string {
  const auth = request.auth;
  if (!auth) throw new AppError('unauthorized', 'an API key is required');
  if (auth.kind !== 'workspace') throw new AppError('forbidden', 'this endpoint needs a workspace API key, not the admin key');
  return auth.workspaceId;
}

export function requireAdmin(request: FastifyRequest): void {
  const auth = request.auth;
  if (!auth) throw new AppError('unauthorized', 'an API key is required');
  if (auth.kind !== 'admin') throw new AppError('forbidden', 'this endpoint needs the admin key');
}
