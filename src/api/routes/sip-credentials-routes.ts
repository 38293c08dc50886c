import type { FastifyInstance } from 'fastify';
import { checkCallbackUrl } from '../../shared/callback-url-policy.js';
import { AppError, quoteInput } from '../../shared/errors.js';
import { parseE164 } from '../../shared/phone-number.js';
import type { SipCredential, SipCredentialPatch } from '../../store/repos/sip-credential-repo.js';
import type { ApiContext } from '../api-context.js';
import { asBody, optionalString, requiredString, type Body } from '../request-fields.js';
import { params, type IdParams } from '../route-schemas.js';

function checkPassword(password: string): string {
  if (password.length < 8) throw new AppError('validation_failed', 'password must be at least 8 characters', 'password');
  return password;
}

/**
 * Reads `routing_url` and `caller_id` of a credential (SPEC §13): the URL
 * obeys the callback policy, the caller ID must be a number the workspace
 * has claimed (422 `caller_id_not_allowed`), so an agent never presents
 * another's number. `null` (or `""`) clears either.
 */
async function readCallFields(ctx: ApiContext, workspaceId: string, body: Body): Promise<Pick<SipCredentialPatch, 'routingUrl' | 'callerId'>> {
  const fields: Pick<SipCredentialPatch, 'routingUrl' | 'callerId'> = {};
  const routingUrl = optionalString(body, ['routing_url', 'routingUrl'], { nullable: true, maxLength: 2048 });
  if (routingUrl !== undefined) {
    if (routingUrl) checkCallbackUrl(routingUrl, await ctx.store.settings.get(workspaceId), 'routing_url');
    fields.routingUrl = routingUrl || null;
  }
  const rawCallerId = optionalString(body, ['caller_id', 'callerId'], { nullable: true, maxLength: 32 });
  if (rawCallerId !== undefined) {
    if (rawCallerId) {
      const callerId = parseE164(rawCallerId);
      if (!callerId) throw new AppError('validation_failed', 'caller_id must be an E.164 number such as +254700000001', 'caller_id');
      if (!(await ctx.store.numbers.get(workspaceId, callerId))) {
        throw new AppError('caller_id_not_allowed', `${callerId} is not a number of this workspace (see GET /v1/numbers)`, 'caller_id');
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

  app.post('/v1/sip/credentials', async (request, reply) => {
    const { workspaceId } = request;
    const body = asBody(request.body);
    const username = requiredString(body, ['username'], { maxLength: 64 });
    if (!/^[A-Za-z0-9._~-]{1,64}$/.test(username)) throw new AppError('validation_failed', 'username may hold letters, digits and . _ ~ - only', 'username');
    const password = checkPassword(requiredString(body, ['password'], { maxLength: 128 }));
    const fields = await readCallFields(ctx, workspaceId, body);
    const created = await ctx.store.sipCredentials.create({ workspaceId, username, password, ...fields, now: ctx.clock.now() });
    if (!created) throw new AppError('already_exists', `the SIP user '${quoteInput(username)}' exists in this workspace`, 'username');
    return reply.status(201).send(view(created, false));
  });

  app.get('/v1/sip/credentials', async (request) => {
    const { workspaceId } = request;
    const live = new Set(ctx.engine.registrationsOf(workspaceId).map((r) => r.aor));
    return (await ctx.store.sipCredentials.list(workspaceId)).map((c) => view(c, live.has(`sip:${c.username}@${ctx.engine.sipDomainOf(workspaceId)}`.toLowerCase())));
  });

  app.patch<{ Params: IdParams }>('/v1/sip/credentials/:id', { schema: { params: params.sipCredential } }, async (request) => {
    const { workspaceId } = request;
    const { id } = request.params;
    const body = asBody(request.body);
    if (!(await ctx.store.sipCredentials.get(workspaceId, id))) throw new AppError('not_found', `no SIP credential ${quoteInput(id)} in this workspace`);
    const password = optionalString(body, ['password'], { maxLength: 128 });
    const patch: SipCredentialPatch = { ...(await readCallFields(ctx, workspaceId, body)), ...(password ? { password: checkPassword(password) } : {}) };
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
