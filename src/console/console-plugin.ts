import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { consoleCss, consoleJs } from './console-assets.js';
import { ConsoleApi } from './console-api.js';
import { ConsoleRoutes, homeOf, sameOrigin, sessionCookie } from './console-routes.js';
import { html } from './html.js';
import { signInPage } from './layout.js';
import { registerAdminPages } from './pages/admin-pages.js';
import { registerCallPages } from './pages/call-pages.js';
import { registerConferencePages } from './pages/conference-pages.js';
import { registerNumberPages } from './pages/number-pages.js';
import { registerOverviewPage } from './pages/overview-page.js';
import { registerSandboxPage } from './pages/sandbox-page.js';
import { registerWalletPage } from './pages/wallet-page.js';
import { registerWorkspacePages } from './pages/workspace-pages.js';
import { ConsoleSessions, type ConsoleSession } from './sessions.js';

export interface ConsoleOptions {
  /** How often live views re-render, in ms. Default 1000. */
  liveIntervalMs?: number;
}

// htmx 2.x from its npm package: served by this process, never from a CDN.
const htmxJs = readFileSync(createRequire(import.meta.url).resolve('htmx.org/dist/htmx.min.js'), 'utf8');

/** Which kind of key this is, asked of the API itself (a workspace key may read its wallet; the admin key may list workspaces). */
async function kindOfKey(app: FastifyInstance, key: string): Promise<ConsoleSession['kind'] | undefined> {
  const api = new ConsoleApi(app, key);
  if ((await api.request('GET', '/v1/wallet')).status === 200) return 'workspace';
  if ((await api.request('GET', '/v1/admin/workspaces')).status === 200) return 'admin';
  return undefined;
}

function setSessionCookie(request: FastifyRequest, reply: FastifyReply, value: string, maxAgeSeconds: number): void {
  // Secure whenever the browser reached us over https (directly or through a proxy that says so).
  const secure = request.protocol === 'https' || request.headers['x-forwarded-proto'] === 'https';
  reply.header('set-cookie', `${sessionCookie}=${value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`);
}

function parseForm(body: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : [prev].flat().concat(v);
  }
  return out;
}

/**
 * The web console (SPEC §14) at /console, in the API's own process: typed
 * server-rendered pages, htmx for partial updates, server-sent events for
 * live views. Every read and action is an in-process call of the REST API
 * with the session's key (console-api.ts).
 */
export function consolePlugin(options: ConsoleOptions = {}): FastifyPluginAsync {
  return async (scope) => {
    const sessions = new ConsoleSessions();
    const routes = new ConsoleRoutes(scope, sessions, options.liveIntervalMs ?? 1000);
    scope.addHook('preClose', async () => routes.closeStreams());
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 256 * 1024 }, (_request, body, done) => {
      done(null, parseForm(String(body)));
    });
    scope.addHook('onSend', async (request, reply, payload) => {
      if (request.url.startsWith('/console')) {
        // Nothing on a console page may come from another host (SPEC §14), and no other site may frame it.
        reply.header('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; form-action 'self'");
        reply.header('x-content-type-options', 'nosniff');
        reply.header('referrer-policy', 'same-origin');
      }
      return payload;
    });

    scope.get('/', async (_request, reply) => reply.redirect('/console', 302));
    scope.get('/console/assets/htmx.min.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(htmxJs));
    scope.get('/console/assets/console.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(consoleJs));
    scope.get('/console/assets/console.css', async (_request, reply) => reply.type('text/css; charset=utf-8').send(consoleCss));

    scope.get('/console/sign-in', async (request, reply) => {
      const session = routes.session(request);
      if (session) return reply.redirect(homeOf(session), 303);
      return reply.type('text/html; charset=utf-8').send(signInPage().value);
    });
    scope.post('/console/sign-in', async (request, reply) => {
      const key = ((request.body ?? {}) as Record<string, unknown>)['key'];
      // No session exists yet to hold a CSRF token: a cross-site sign-in is refused by its Origin instead.
      if (!sameOrigin(request)) return reply.status(403).type('text/html; charset=utf-8').send(signInPage('Sign-in from another site refused.').value);
      const kind = typeof key === 'string' && key.trim() ? await kindOfKey(scope, key.trim()) : undefined;
      if (!kind) return reply.status(401).type('text/html; charset=utf-8').send(signInPage('That key is unknown or revoked.').value);
      const session = sessions.open(String(key).trim(), kind);
      setSessionCookie(request, reply, session.id, 12 * 3600);
      return reply.redirect(homeOf(session), 303);
    });
    scope.post('/console/sign-out', async (request, reply) => {
      const session = routes.session(request);
      const token = ((request.body ?? {}) as Record<string, unknown>)['_csrf'] ?? request.headers['x-csrf-token'];
      if (session && !ConsoleSessions.csrfMatches(session, token)) return reply.status(403).type('text/html; charset=utf-8').send(html`<!doctype html><html lang="en"><title>Refused</title><p>Sign-out refused: CSRF token missing.</p></html>`.value);
      if (session) sessions.close(session.id);
      setSessionCookie(request, reply, '', 0);
      return reply.redirect('/console/sign-in', 303);
    });

    registerOverviewPage(routes);
    registerCallPages(routes);
    registerNumberPages(routes);
    registerWalletPage(routes);
    registerConferencePages(routes);
    registerWorkspacePages(routes);
    registerSandboxPage(routes);
    registerAdminPages(routes);
  };
}
