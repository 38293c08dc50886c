import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ApiContext } from './api-context.js';
import { buildOpenApiDocument } from './openapi.js';
import { registerAuth } from './plugins/auth.js';
import { answerClientError, registerClientErrorAnswers } from './plugins/client-errors.js';
import { answerFrameworkError, maxPathSegmentLength, registerErrorHandling } from './plugins/errors.js';
import { registerRateLimit, type RateLimitOptions } from './plugins/rate-limit.js';
import { registerBodyDepthLimit } from './request-fields.js';
import { registerAdminRoutes } from './routes/admin-routes.js';
import { registerAdminTrunkRoutes } from './routes/admin-trunks-routes.js';
import { registerCallRoutes } from './routes/calls-routes.js';
import { registerCallCreateRoutes } from './routes/calls-create-routes.js';
import { registerConferenceRoutes } from './routes/conferences-routes.js';
import { registerNumberRoutes } from './routes/numbers-routes.js';
import { registerRecordingRoutes } from './routes/recordings-routes.js';
import { registerSandboxRoutes } from './routes/sandbox-routes.js';
import { registerSettingsRoutes } from './routes/settings-routes.js';
import { registerSipCredentialRoutes } from './routes/sip-credentials-routes.js';
import { registerWalletRoutes } from './routes/wallet-routes.js';
import { registerWebhookRoutes } from './routes/webhooks-routes.js';

export interface ApiServerOptions {
  /** Largest request body accepted, in bytes. Default 1 MiB. */
  bodyLimit?: number;
  /** Called for every route registered (tests compare them with the OpenAPI document). */
  onRoute?: (method: string, url: string) => void;
  rateLimit?: RateLimitOptions;
}

/** Builds the REST API (not yet listening). */
export async function buildApiServer(ctx: ApiContext, options: ApiServerOptions = {}): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: ctx.logger.child({ component: 'api' }) as FastifyBaseLogger,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // The IVR seed's numbers id can be the number itself: '+' must survive in paths.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: maxPathSegmentLength },
    // Errors before any route or hook runs answer SPEC §3 too (plugins/errors.ts, plugins/client-errors.ts).
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: (error, socket) => answerClientError(app, error, socket),
    // A missing Host is refused by our onRequest hook instead, with a JSON body.
    http: { requireHostHeader: false },
  });
  registerClientErrorAnswers(app);
  if (options.onRoute) {
    const onRoute = options.onRoute;
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) if (method !== 'HEAD') onRoute(method, route.url);
    });
  }
  registerErrorHandling(app);
  registerAuth(app, ctx.store);
  registerRateLimit(app, options.rateLimit);
  registerBodyDepthLimit(app);

  app.get('/healthz', async (_request, reply) => {
    const { ready, draining, components } = ctx.readiness();
    // Load balancers take a draining node out of rotation while its calls finish (SPEC §18).
    return reply.status(ready ? 200 : 503).send({ status: draining ? 'draining' : ready ? 'ok' : 'starting', components });
  });
  app.get('/v1/openapi.json', async () => buildOpenApiDocument(ctx.publicUrl));

  registerNumberRoutes(app, ctx);
  registerCallRoutes(app, ctx);
  registerCallCreateRoutes(app, ctx);
  registerConferenceRoutes(app, ctx);
  registerRecordingRoutes(app, ctx);
  registerWalletRoutes(app, ctx);
  registerSettingsRoutes(app, ctx);
  registerAdminRoutes(app, ctx);
  registerAdminTrunkRoutes(app, ctx);
  registerWebhookRoutes(app, ctx);
  registerSandboxRoutes(app, ctx);
  registerSipCredentialRoutes(app, ctx);
  await app.ready();
  return app;
}
