import type { FastifyInstance } from 'fastify';
import { AppError, quoteInput } from '../../shared/errors.js';
import { checkCallbackUrl } from '../../shared/callback-url-policy.js';
import { eventTypes, isEventType } from '../../webhooks/event-types.js';
import type { OutboxItem } from '../../store/repos/outbox-repo.js';
import type { ApiContext } from '../api-context.js';
import { pick } from '../body-schemas/body-schema.js';
import { createWebhookBody, rotateSecretBody, type CreateWebhookBody, type RotateSecretBody } from '../body-schemas/webhooks.js';
import { decodeCursor, encodeCursor } from '../request-fields.js';
import { pageQuery, params, type IdParams, type PageQuery } from '../route-schemas.js';

const defaultGraceSeconds = 24 * 3600;
const graceOf = (body: RotateSecretBody): number => pick(body, ['grace_seconds', 'graceSeconds'])?.value ?? defaultGraceSeconds;

function deliveryView(item: OutboxItem, attempts: Array<{ attempt: number; statusCode: number | null; latencyMs: number; error: string | null; at: string }>): Record<string, unknown> {
  return {
    id: item.id, event_id: item.envelope.id, type: item.type, url: item.targetUrl, status: item.status, attempts: item.attempts,
    next_attempt_at: item.status === 'pending' ? item.nextAttemptAt : null, last_error: item.lastError, created_at: item.createdAt,
    attempt_log: attempts.map((a) => ({ attempt: a.attempt, status_code: a.statusCode, latency_ms: a.latencyMs, error: a.error, at: a.at })),
  };
}

/** Workspace webhook endpoints (SPEC §4) and signing-secret rotation (SPEC §9). */
export function registerWebhookRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Body: CreateWebhookBody }>('/v1/webhooks', { schema: { body: createWebhookBody } }, async (request, reply) => {
    const { workspaceId } = request;
    const { url } = request.body;
    checkCallbackUrl(url, await ctx.store.settings.get(workspaceId), 'url');
    const events = request.body.events ?? ['*'];
    if (events.length === 0) throw new AppError('validation_failed', 'events must name at least one event type (or "*")', 'events');
    const unknown = events.find((e) => e !== '*' && !isEventType(e));
    if (unknown !== undefined) throw new AppError('validation_failed', `unknown event type '${quoteInput(unknown)}'; known: ${eventTypes.join(', ')}`, 'events');
    const endpoint = await ctx.store.webhookEndpoints.create({ workspaceId, url, events, now: ctx.clock.now() });
    return reply.status(201).send({ id: endpoint.id, url: endpoint.url, events: endpoint.events, secret: endpoint.secret, created_at: endpoint.createdAt });
  });

  app.get('/v1/webhooks', async (request) => {
    const { workspaceId } = request;
    return (await ctx.store.webhookEndpoints.list(workspaceId)).map((e) => ({ id: e.id, url: e.url, events: e.events, created_at: e.createdAt }));
  });

  app.delete<{ Params: IdParams }>('/v1/webhooks/:id', { schema: { params: params.webhook } }, async (request, reply) => {
    const { workspaceId } = request;
    const { id } = request.params;
    if (!(await ctx.store.webhookEndpoints.delete(workspaceId, id, ctx.clock.now()))) throw new AppError('not_found', `no webhook ${quoteInput(id)} in this workspace`);
    return reply.status(204).send();
  });

  app.post<{ Params: IdParams; Body: RotateSecretBody }>('/v1/webhooks/:id/rotate-secret', { schema: { params: params.webhook, body: rotateSecretBody } }, async (request) => {
    const { workspaceId } = request;
    const { id } = request.params;
    const grace = graceOf(request.body);
    const endpoint = await ctx.store.webhookEndpoints.rotateSecret(workspaceId, id, ctx.clock.now(), grace);
    if (!endpoint) throw new AppError('not_found', `no webhook ${quoteInput(id)} in this workspace`);
    return { id: endpoint.id, secret: endpoint.secret, previous_secret_expires_at: endpoint.previousSecretExpiresAt };
  });

  app.get<{ Params: IdParams; Querystring: PageQuery }>('/v1/webhooks/:id/deliveries', { schema: { params: params.webhook, querystring: pageQuery(50, 500) } }, async (request, reply) => {
    const { workspaceId } = request;
    const { id } = request.params;
    if (!(await ctx.store.webhookEndpoints.get(workspaceId, id))) throw new AppError('not_found', `no webhook ${quoteInput(id)} in this workspace`);
    const { limit } = request.query;
    const before = decodeCursor(request.query.cursor);
    const rows = await ctx.store.outbox.listForEndpoint(id, { limit: limit + 1, ...(before ? { before } : {}) });
    const page = rows.slice(0, limit);
    if (rows.length > limit) {
      void reply.header('Link', `<${ctx.publicUrl}/v1/webhooks/${id}/deliveries?limit=${limit}&cursor=${encodeCursor(page[page.length - 1]!.id)}>; rel="next"`);
    }
    const views = [];
    for (const item of page) views.push(deliveryView(item, await ctx.store.outbox.attempts(item.id)));
    return views;
  });

  /** Queues a failed (or stopped) delivery for another round of attempts. */
  app.post<{ Params: IdParams }>('/v1/webhooks/deliveries/:id/retry', { schema: { params: params.delivery } }, async (request, reply) => {
    const { workspaceId } = request;
    const { id } = request.params;
    const item = await ctx.store.outbox.get(id);
    if (!item || item.workspaceId !== workspaceId) throw new AppError('not_found', `no delivery ${quoteInput(id)} in this workspace`);
    if (item.status === 'delivered' || item.status === 'pending') {
      throw new AppError('validation_failed', `delivery ${quoteInput(id)} is ${item.status}; only failed or stopped deliveries can be retried`, 'id');
    }
    await ctx.store.outbox.requeue(id, ctx.clock.now());
    ctx.wakeDeliverer();
    const updated = (await ctx.store.outbox.get(id))!;
    return reply.status(202).send(deliveryView(updated, await ctx.store.outbox.attempts(id)));
  });

  /** Rotates the workspace signing secret; the old one stays valid for the grace period. */
  app.post<{ Body: RotateSecretBody }>('/v1/settings/signing-secret/rotate', { schema: { body: rotateSecretBody } }, async (request) => {
    const { workspaceId } = request;
    const grace = graceOf(request.body);
    const workspace = await ctx.store.workspaces.rotateSigningSecret(workspaceId, ctx.clock.now(), grace);
    return { signing_secret: workspace!.signingSecret, previous_secret_expires_at: workspace!.previousSecretExpiresAt };
  });
}
