import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync, type FastifySchema } from 'fastify';
import type { ApiContext } from './api-context.js';
import { keyAuthentication, registerUnroutedAuth } from './plugins/auth.js';
import { answerClientError, registerClientErrorAnswers } from './plugins/client-errors.js';
import { answerFrameworkError, maxPathSegmentLength, registerErrorHandling, validationErrorOf } from './plugins/errors.js';
import { createRateLimiter, type RateLimitOptions } from './plugins/rate-limit.js';
import { registerValidation } from './plugins/validation.js';
import { adminRoutes, publicPaths, publicRoutes, workspaceRoutes } from './route-scopes.js';

export interface ApiServerOptions {
  /** Largest request body accepted, in bytes. Default 1 MiB. */
  bodyLimit?: number;
  /** Called for every route registered, with its schema (tests compare them with the OpenAPI document). */
  onRoute?: (method: string, url: string, schema: FastifySchema | undefined) => void;
  rateLimit?: RateLimitOptions;
  /** Plugins served beside the API by the same server (the web console), each in its own scope. */
  extensions?: FastifyPluginAsync[];
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
    // Route schemas (route-schemas.ts, body-schemas/; validators in plugins/validation.ts): failures name the parameter or field with the schema's own message.
    schemaErrorFormatter: validationErrorOf,
    // A missing Host is refused by our onRequest hook instead, with a JSON body.
    http: { requireHostHeader: false },
  });
  registerClientErrorAnswers(app);
  if (options.onRoute) {
    const onRoute = options.onRoute;
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) if (method !== 'HEAD') onRoute(method, route.url, route.schema);
    });
  }
  registerErrorHandling(app);
  registerValidation(app);
  // One authentication and one rate limiter for every scope: a key has one bucket.
  const authenticate = keyAuthentication(ctx.store, createRateLimiter(app, options.rateLimit));
  registerUnroutedAuth(app, authenticate, publicPaths);
  await app.register(publicRoutes, { ctx });
  await app.register(workspaceRoutes, { ctx, authenticate });
  await app.register(adminRoutes, { ctx, authenticate });
  for (const extension of options.extensions ?? []) await app.register(extension);
  await app.ready();
  return app;
}
