/**
 * The browser softphone (SPEC §15): `/console/softphone`, one self-contained
 * page on SIP.js, which is served from node_modules (no CDN: the page makes
 * no request outside this server). It registers with a workspace SIP
 * credential over `/v1/sip/ws`, dials, answers, mutes, hangs up and sends
 * DTMF (SIP INFO, which `getDigits` hears like RFC 4733). The credential
 * comes from the form, or from `?user=&password=&domain=` (tests, links).
 *
 * Why SIP.js rather than JsSIP: SIP.js ships plain ES modules with no
 * runtime dependencies, so the browser loads them as they are; JsSIP's npm
 * package is CommonJS with dependencies and would need a bundler here.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { softphoneHtml, softphoneScript } from './softphone-assets.js';

export interface SoftphonePageOptions {
  /** Where the page is served. Default `/console/softphone`. */
  prefix?: string;
}

/** SIP.js's ES modules (`lib/`), resolved from its package. */
function sipJsRoot(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('sip.js/package.json')), 'lib');
}

export const softphonePage: FastifyPluginAsync<SoftphonePageOptions> = async (app, options) => {
  const prefix = options.prefix ?? '/console/softphone';
  const root = sipJsRoot();
  // Scripts and styles from this server only; media and the WebSocket to it.
  const csp = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:; media-src 'self' blob: mediastream:; img-src 'self' data:";
  app.get(prefix, async (_request, reply) => reply.header('content-security-policy', csp).type('text/html; charset=utf-8').send(softphoneHtml(prefix)));
  app.get(`${prefix}/app.js`, async (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(softphoneScript));
  app.get<{ Params: { '*': string } }>(`${prefix}/sip.js/*`, async (request, reply) => {
    const wanted = path.normalize(request.params['*']);
    const file = path.join(root, wanted);
    // Only SIP.js's own modules: no way out of its lib/ folder, nothing but .js.
    if (!file.startsWith(root + path.sep) || !file.endsWith('.js')) {
      return reply.status(404).send({ error: { code: 'not_found', message: 'no such file' } });
    }
    try {
      const text = await readFile(file);
      return await reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(text);
    } catch {
      return reply.status(404).send({ error: { code: 'not_found', message: 'no such file' } });
    }
  });
};

