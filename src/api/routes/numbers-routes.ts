import type { FastifyInstance } from 'fastify';
import { AppError, quoteInput } from '../../shared/errors.js';
import { checkCallbackUrl } from '../../shared/callback-url-policy.js';
import { parseE164, parseE164Prefix } from '../../shared/phone-number.js';
import type { NumberUrls } from '../../store/repos/number-repo.js';
import type { ApiContext } from '../api-context.js';
import { pick } from '../body-schemas/body-schema.js';
import { claimNumberBody, updateNumberBody, type ClaimNumberBody, type UpdateNumberBody } from '../body-schemas/numbers.js';
import { decodeParam } from '../request-fields.js';
import { availableNumbersQuery, params, type AvailableNumbersQuery, type IdParams } from '../route-schemas.js';
import { numberView } from '../serializers.js';

const urlFields = [
  { key: 'routingUrl', names: ['routing_url', 'routingUrl'] },
  { key: 'statusUrl', names: ['status_url', 'statusUrl'] },
  { key: 'fallbackUrl', names: ['fallback_url', 'fallbackUrl'] },
] as const;

/** The URL fields of a number (their types checked by the body schema), each checked against the workspace's callback policy. */
async function readNumberUrls(ctx: ApiContext, workspaceId: string, body: UpdateNumberBody): Promise<NumberUrls> {
  const policy = await ctx.store.settings.get(workspaceId);
  const urls: NumberUrls = {};
  for (const { key, names } of urlFields) {
    const found = pick(body, names);
    if (!found) continue;
    if (found.value !== null && found.value !== '') checkCallbackUrl(found.value, policy, found.name);
    urls[key] = found.value === '' ? null : found.value;
  }
  const friendly = pick(body, ['friendly_name', 'friendlyName']);
  if (friendly) urls.friendlyName = friendly.value;
  return urls;
}

export function registerNumberRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: AvailableNumbersQuery }>('/v1/numbers/available', { schema: { querystring: availableNumbersQuery } }, async (request) => {
    const prefix = parseE164Prefix(request.query.prefix ?? '+');
    if (prefix === undefined) throw new AppError('validation_failed', 'prefix must be an E.164 prefix such as +25470', 'prefix');
    const available = await ctx.store.numbers.listAvailable(prefix, request.query.limit);
    return available.map((n) => ({ number: n.number, type: n.kind }));
  });

  app.post<{ Body: ClaimNumberBody }>('/v1/numbers', { schema: { body: claimNumberBody } }, async (request, reply) => {
    const { workspaceId, body } = request;
    const rawNumber = pick(body, ['number', 'phone_number', 'phoneNumber'])?.value;
    const rawPrefix = body.prefix;
    const number = rawNumber === undefined ? undefined : parseE164(rawNumber);
    if (rawNumber && !number) throw new AppError('validation_failed', 'number must be an E.164 number such as +254700000001', 'number');
    const prefix = rawPrefix === undefined ? undefined : parseE164Prefix(rawPrefix);
    if (rawPrefix && prefix === undefined) throw new AppError('validation_failed', 'prefix must be an E.164 prefix such as +25470', 'prefix');
    const urls = await readNumberUrls(ctx, workspaceId, body);
    const result = await ctx.store.numbers.claim({ workspaceId, ...(number ? { number } : {}), ...(prefix ? { prefix } : {}), urls, now: ctx.clock.now() });
    if (!result.ok) {
      if (result.reason === 'not_available') throw new AppError('number_not_available', `${number} is not available to claim`, 'number');
      throw new AppError('no_numbers_available', `no unclaimed number starts with ${prefix ?? '+'}`, 'prefix');
    }
    return reply.status(201).send(numberView(result.number));
  });

  app.get('/v1/numbers', async (request) => {
    const { workspaceId } = request;
    return (await ctx.store.numbers.list(workspaceId)).map(numberView);
  });

  app.get<{ Params: IdParams }>('/v1/numbers/:id', { schema: { params: params.number } }, async (request) => {
    const { workspaceId } = request;
    const { id } = request.params;
    const number = await ctx.store.numbers.get(workspaceId, decodeParam(id));
    if (!number) throw new AppError('not_found', `no number ${quoteInput(id)} in this workspace`);
    return numberView(number);
  });

  app.patch<{ Params: IdParams; Body: UpdateNumberBody }>('/v1/numbers/:id', { schema: { params: params.number, body: updateNumberBody } }, async (request) => {
    const { workspaceId, body } = request;
    const { id } = request.params;
    const existing = await ctx.store.numbers.get(workspaceId, decodeParam(id));
    if (!existing) throw new AppError('not_found', `no number ${quoteInput(id)} in this workspace`);
    const urls = await readNumberUrls(ctx, workspaceId, body);
    const updated = await ctx.store.numbers.update(workspaceId, existing.id, urls);
    return numberView(updated!);
  });

  app.delete<{ Params: IdParams }>('/v1/numbers/:id', { schema: { params: params.number } }, async (request, reply) => {
    const { workspaceId } = request;
    const { id } = request.params;
    const released = await ctx.store.numbers.release(workspaceId, decodeParam(id), ctx.clock.now());
    if (!released) throw new AppError('not_found', `no number ${quoteInput(id)} in this workspace`);
    return reply.status(204).send();
  });
}
