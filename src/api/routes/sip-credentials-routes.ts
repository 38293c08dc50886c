import type { FastifyInstance } from 'fastify';
import { AppError, quoteInput } from '../../shared/errors.js';
import type { SipCredential } from '../../store/repos/sip-credential-repo.js';
import type { ApiContext } from '../api-context.js';
import { createSipCredentialBody, type CreateSipCredentialBody } from '../body-schemas/sip-credentials.js';
import { params, type IdParams } from '../route-schemas.js';

/** Softphone credentials (SPEC §4): a user registers as sip:USERNAME@<workspace domain>. */
export function registerSipCredentialRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const view = (c: SipCredential, registered: boolean) => {
    const domain = ctx.engine.sipDomainOf(c.workspaceId);
    return {
      id: c.id, username: c.username, domain, aor: `sip:${c.username}@${domain}`, registered,
      registrar: `sip:${ctx.sipAddress.host}:${ctx.sipAddress.port}`, created_at: c.createdAt,
    };
  };

  app.post<{ Body: CreateSipCredentialBody }>('/v1/sip/credentials', { schema: { body: createSipCredentialBody } }, async (request, reply) => {
    const { workspaceId } = request;
    const { username, password } = request.body;
    const created = await ctx.store.sipCredentials.create({ workspaceId, username, password, now: ctx.clock.now() });
    if (!created) throw new AppError('already_exists', `the SIP user '${quoteInput(username)}' exists in this workspace`, 'username');
    return reply.status(201).send(view(created, false));
  });

  app.get('/v1/sip/credentials', async (request) => {
    const { workspaceId } = request;
    const live = new Set(ctx.engine.registrationsOf(workspaceId).map((r) => r.aor));
    return (await ctx.store.sipCredentials.list(workspaceId)).map((c) => view(c, live.has(`sip:${c.username}@${ctx.engine.sipDomainOf(workspaceId)}`.toLowerCase())));
  });

  app.delete<{ Params: IdParams }>('/v1/sip/credentials/:id', { schema: { params: params.sipCredential } }, async (request, reply) => {
    const { workspaceId } = request;
    const { id } = request.params;
    if (!(await ctx.store.sipCredentials.delete(workspaceId, id))) throw new AppError('not_found', `no SIP credential ${quoteInput(id)} in this workspace`);
    return reply.status(204).send();
  });
}
