import type { FastifyPluginAsync } from 'fastify';
import type { ApiContext } from './api-context.js';
import { buildOpenApiDocument } from './openapi.js';
import { requireAdminKey, requireWorkspaceKey, type Authenticate } from './plugins/auth.js';
import { registerAdminRoutes } from './routes/admin-routes.js';
import { registerAdminNodeRoutes } from './routes/admin-nodes-routes.js';
import { registerAdminSipBanRoutes } from './routes/admin-sip-bans-routes.js';
import { registerAdminTrunkRoutes } from './routes/admin-trunks-routes.js';
import { registerCallCreateRoutes } from './routes/calls-create-routes.js';
import { registerCallRoutes } from './routes/calls-routes.js';
import { registerConferenceRoutes } from './routes/conferences-routes.js';
import { registerNumberRoutes } from './routes/numbers-routes.js';
import { registerRecordingRoutes } from './routes/recordings-routes.js';
import { registerSandboxRoutes } from './routes/sandbox-routes.js';
import { registerSettingsRoutes } from './routes/settings-routes.js';
import { registerSipCredentialRoutes } from './routes/sip-credentials-routes.js';
import { registerWalletRoutes } from './routes/wallet-routes.js';
import { registerWebhookRoutes } from './routes/webhooks-routes.js';

/**
 * The REST API in three encapsulated scopes (fastify plugins), each with
 * the one hook that decides who may call its routes: handlers never look at
 * the key. Routes keep their full paths (no prefix), so that a request no
 * route takes falls to the one not-found handler of the root, whatever path
 * it has (plugins/errors.ts).
 */
export interface ScopeOptions {
  ctx: ApiContext;
  authenticate: Authenticate;
}

/** Paths served without a key (the root's unrouted-request check skips them too). */
export const publicPaths: ReadonlySet<string> = new Set(['/healthz', '/v1/openapi.json']);

/** Health and the OpenAPI document: no key. */
export const publicRoutes: FastifyPluginAsync<{ ctx: ApiContext }> = async (scope, { ctx }) => {
  scope.get('/healthz', async (_request, reply) => {
    const { ready, draining, components } = ctx.readiness();
    // Load balancers take a draining node out of rotation while its calls finish (SPEC §18).
    return reply.status(ready ? 200 : 503).send({ status: draining ? 'draining' : ready ? 'ok' : 'starting', components });
  });
  scope.get('/v1/openapi.json', async () => buildOpenApiDocument(ctx.publicUrl));
};

/** Everything a workspace key does: its hook puts the key's workspace on `request.workspaceId`. */
export const workspaceRoutes: FastifyPluginAsync<ScopeOptions> = async (scope, { ctx, authenticate }) => {
  scope.decorateRequest('workspaceId', '');
  scope.addHook('onRequest', requireWorkspaceKey(authenticate));
  registerNumberRoutes(scope, ctx);
  registerCallRoutes(scope, ctx);
  registerCallCreateRoutes(scope, ctx);
  registerConferenceRoutes(scope, ctx);
  registerRecordingRoutes(scope, ctx);
  registerWalletRoutes(scope, ctx);
  registerSettingsRoutes(scope, ctx);
  registerWebhookRoutes(scope, ctx);
  registerSandboxRoutes(scope, ctx);
  registerSipCredentialRoutes(scope, ctx);
};

/** The operator's endpoints, `/v1/admin/...`: the admin key only. */
export const adminRoutes: FastifyPluginAsync<ScopeOptions> = async (scope, { ctx, authenticate }) => {
  scope.addHook('onRequest', requireAdminKey(authenticate));
  registerAdminRoutes(scope, ctx);
  registerAdminTrunkRoutes(scope, ctx);
  registerAdminSipBanRoutes(scope, ctx);
  registerAdminNodeRoutes(scope, ctx);
};
