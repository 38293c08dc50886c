import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiFailure, apiErrorText, ConsoleApi, type ApiAnswer } from './console-api.js';
import { html, type SafeHtml } from './html.js';
import { page } from './layout.js';
import { ConsoleSessions, type ConsoleSession } from './sessions.js';

export const sessionCookie = 'sautikit_console';

/** What a page or an action is given. */
export interface ConsoleRequest {
  session: ConsoleSession;
  api: ConsoleApi;
  params: Record<string, string>;
  query: Record<string, string>;
  /** A form's fields (a repeated name keeps its last value). */
  form: Record<string, string>;
}

/** A page's heading and current nav entry, and its content. */
export interface PageContent {
  title: string;
  body: SafeHtml;
  /** Nav entry to mark; the page's own path by default. */
  current?: string;
}

/** Where an action sends the browser afterwards (303), with a message shown once. */
export interface ActionOutcome {
  redirect: string;
  ok?: string;
  error?: string;
}

export function cookieOf(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/** A POST from another site's page is refused even before the CSRF token is read (browsers send Origin on POST). */
export function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (!origin) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

/** Turns the API's answer to an action into the flash message and where to go next. */
export function outcomeOf(answer: ApiAnswer, redirect: string, ok: string): ActionOutcome {
  return answer.status < 400 ? { redirect, ok } : { redirect, error: apiErrorText(answer) };
}

/**
 * The console's route helpers: pages need a session (else the sign-in
 * page), actions need a session and its CSRF token, live views stream a
 * fragment as server-sent events whenever it changes.
 */
export class ConsoleRoutes {
  /** Open live streams, ended when the server closes (they would otherwise hold its shutdown). */
  readonly #streams = new Set<() => void>();

  constructor(
    /** The server the console is served by, and whose REST API it calls in-process. */
    readonly app: FastifyInstance,
    readonly sessions: ConsoleSessions,
    readonly liveIntervalMs: number,
  ) {}

  #context(request: FastifyRequest, session: ConsoleSession): ConsoleRequest {
    const raw = (request.body ?? {}) as Record<string, string | string[]>;
    const form: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) form[k] = Array.isArray(v) ? v[v.length - 1]! : v;
    return {
      session, api: new ConsoleApi(this.app, session.key),
      params: request.params as Record<string, string>, query: request.query as Record<string, string>, form,
    };
  }

  session(request: FastifyRequest): ConsoleSession | undefined {
    return this.sessions.find(cookieOf(request, sessionCookie));
  }

  /** Only for the given kind of key (the other kind is sent to its home page). */
  page(path: string, kind: ConsoleSession['kind'], render: (c: ConsoleRequest) => Promise<PageContent>): void {
    this.app.get(path, async (request, reply) => {
      const session = this.session(request);
      if (!session) return reply.redirect('/console/sign-in', 303);
      if (session.kind !== kind) return reply.redirect(homeOf(session), 303);
      const c = this.#context(request, session);
      let content: PageContent;
      try {
        content = await render(c);
      } catch (error) {
        if (!(error instanceof ApiFailure)) throw error;
        if (error.status === 401) return this.#signedOut(session, reply);
        reply.status(error.status);
        content = { title: error.status === 404 ? 'Not found' : 'Error', body: html`<p class="flash error" role="alert">${error.message}</p>`, current: '' };
      }
      return reply.type('text/html; charset=utf-8').send(page({ title: content.title, current: content.current ?? path, session }, content.body).value);
    });
  }

  action(path: string, handler: (c: ConsoleRequest) => Promise<ActionOutcome>): void {
    this.app.post(path, async (request, reply) => {
      const session = this.session(request);
      if (!session) return reply.redirect('/console/sign-in', 303);
      const c = this.#context(request, session);
      const token = c.form['_csrf'] ?? request.headers['x-csrf-token'];
      if (!sameOrigin(request) || !ConsoleSessions.csrfMatches(session, token)) {
        return reply.status(403).type('text/html; charset=utf-8').send(html`<!doctype html><html lang="en"><title>Refused</title><p>This form was refused: its CSRF token is missing or wrong. Reload the page and try again.</p></html>`.value);
      }
      const outcome = await handler(c);
      if (outcome.ok) session.flash = { kind: 'ok', text: outcome.ok };
      if (outcome.error) session.flash = { kind: 'error', text: outcome.error };
      return reply.redirect(outcome.redirect, 303);
    });
  }

  /** A server-sent event stream of `render()`, sent again whenever it renders differently. */
  live(path: string, render: (c: ConsoleRequest) => Promise<SafeHtml>): void {
    this.app.get(path, async (request, reply) => {
      const session = this.session(request);
      if (!session) return reply.status(401).send();
      const c = this.#context(request, session);
      reply.hijack();
      const out = reply.raw;
      out.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
      let last = '';
      let closed = false;
      let wake: () => void = () => undefined;
      const stop = () => {
        closed = true;
        wake();
      };
      request.raw.on('close', stop);
      this.#streams.add(stop);
      while (!closed && this.sessions.isOpen(session.id)) {
        try {
          const fragment = (await render(c)).value;
          if (fragment !== last) {
            last = fragment;
            out.write(`data: ${fragment.replace(/\n/g, '\ndata: ')}\n\n`);
          } else {
            out.write(': still here\n\n');
          }
        } catch {
          break;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.liveIntervalMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      this.#streams.delete(stop);
      out.end();
    });
  }

  /** Ends every live stream (the server is closing). */
  closeStreams(): void {
    for (const stop of this.#streams) stop();
  }

  #signedOut(session: ConsoleSession, reply: FastifyReply): FastifyReply {
    this.sessions.close(session.id);
    return reply.redirect('/console/sign-in', 303);
  }
}

export function homeOf(session: ConsoleSession): string {
  return session.kind === 'admin' ? '/console/admin/workspaces' : '/console';
}
