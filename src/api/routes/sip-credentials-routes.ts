import type { FastifyInstance } from 'fastify';
import { checkCallbackUrl } from '../../shared/callback-url-policy.js';
import { AppError, quoteInput } from '../../shared/errors.js';
import { parseE164 } from '../../shared/phone-number.js';
import type { SipCredential, SipCredentialPatch } from '../../store/repos/sip-credential-repo.js';
import type { ApiContext } from '../api-context.js';
import { pick } from '../body-schemas/body-schema.js';
import { createSipCredentialBody, patchSipCredentialBody, type CreateSipCredentialBody, type PatchSipCredentialBody } from '../body-schemas/sip-credentials.js';
import { params, type IdParams } from '../route-schemas.js';

/**
 * Reads `routing_url` and `caller_id` of a credential (SPEC §13): the URL
 * obeys the callback policy, the caller ID must be a number the workspace
 * has claimed (422 `caller_id_not_allowed`), so an agent never presents
 * another's number. `null` (or `""`) clears either.
 */
async function readCallFields(ctx: ApiContext, workspaceId: string, body: PatchSipCredentialBody): Promise<Pick<SipCredentialPatch, 'routingUrl' | 'callerId'>> {
  const fields: Pick<SipCredentialPatch, 'routingUrl' | 'callerId'> = {};
  const routingUrl = pick(body, ['routing_url', 'routingUrl']);
  if (routingUrl) {
    if (routingUrl.value) checkCallbackUrl(routingUrl.value, await ctx.store.settings.get(workspaceId), routingUrl.name);
    fields.routingUrl = routingUrl.value || null;
  }
  const rawCallerId = pick(body, ['caller_id', 'callerId']);
  if (rawCallerId) {
    if (rawCallerId.value) {
      const callerId = parseE164(rawCallerId.value);
      if (!callerId) throw new AppError('validation_failed', `${rawCallerId.name} must be an E.164 number such as +254700000001`, rawCallerId.name);
      if (!(await ctx.store.numbers.get(workspaceId, callerId))) {
        throw new AppError('caller_id_not_allowed', `${callerId} is not a number of this workspace (see GET /v1/numbers)`, rawCallerId.name);
      }
      fields.callerId = callerId;
    } else {
      fields.callerId = null;
    }
  }
  return fields;
}

/** Softphone credentials (SPEC §4, §13): a user registers as sip:USERNAME@<workspace domain> and places calls from there. */
export function registerSipCredentialRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const view = (c: SipCredential, registered: boolean) => {
    const domain = ctx.engine.sipDomainOf(c.workspaceId);
    return {
      id: c.id, username: c.username, domain, aor: `sip:${c.username}@${domain}`, registered,
      registrar: `sip:${ctx.sipAddress.host}:${ctx.sipAddress.port}`, routing_url: c.routingUrl, caller_id: c.callerId, created_at: c.createdAt,
    };
  };
  const isRegistered = (c: SipCredential) => ctx.engine.registrationsOf(c.workspaceId).some((r) => r.aor === `sip:${c.username}@${ctx.engine.sipDomainOf(c.workspaceId)}`.toLowerCase());

  app.post<{ Body: CreateSipCredentialBody }>('/v1/sip/credentials', { schema: { body: createSipCredentialBody } }, async (request, reply) => {
    const { workspaceId } = request;
    const { username, password } = request.body;
    const fields = await readCallFields(ctx, workspaceId, request.body);
    const created = await ctx.store.sipCredentials.create({ workspaceId, username, password, ...fields, now: ctx.clock.now() });
    if (!created) throw new AppError('already_exists', `the SIP user '${quoteInput(username)}' exists in this workspace`, 'username');
    return reply.status(201).send(view(created, false));
  });

  app.get('/v1/sip/credentials', async (request) => {
    const { workspaceId } = request;
    const live = new Set(ctx.engine.registrationsOf(workspaceId).map((r) => r.aor));
    return (await ctx.store.sipCredentials.list(workspaceId)).map((c) => view(c, live.has(`sip:${c.username}@${ctx.engine.sipDomainOf(workspaceId)}`.toLowerCase())));
  });

  app.patch<{ Params: IdParams; Body: PatchSipCredentialBody }>('/v1/sip/credentials/:id', { schema: { params: params.sipCredential, body: patchSipCredentialBody } }, async (request) => {
    const { workspaceId, body } = request;
    const { id } = request.params;
    if (!(await ctx.store.sipCredentials.get(workspaceId, id))) throw new AppError('not_found', `no SIP credential ${quoteInput(id)} in this workspace`);
    const patch: SipCredentialPatch = { ...(await readCallFields(ctx, workspaceId, body)), ...(body.password ? { password: body.password } : {}) };
    const updated = await ctx.store.sipCredentials.update(workspaceId, id, patch);
    if (!updated) throw new AppError('not_found', `no SIP credential ${quoteInput(id)} in this workspace`);
    return view(updated, isRegistered(updated));
  });

  app.delete<{ Params: IdParams }>('/v1/sip/credentials/:id', { schema: { params: params.sipCredential } }, async (request, reply) => {
    const { workspaceId } = request;
    const { id } = request.params;
    if (!(await ctx.store.sipCredentials.delete(workspaceId, id))) throw new AppError('not_found', `no SIP credential ${quoteInput(id)} in this workspace`);
    return reply.status(204).send();
  });
}
