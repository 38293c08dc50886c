import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, quoteInput } from '../../shared/errors.js';
import { parseE164 } from '../../shared/phone-number.js';
import { formatCents, parseAmountToCents } from '../../billing/rating.js';
import { provisionWorkspace } from '../../store/provision-workspace.js';
import type { NumberKind } from '../../store/repos/number-repo.js';
import type { Rate } from '../../store/repos/rate-repo.js';
import type { ApiContext } from '../api-context.js';
import { withIdempotency } from '../idempotency.js';
import {
  createWorkspaceBody, creditBody, inventoryBody, ratesBody, type CreateWorkspaceBody, type CreditBody, type InventoryBody, type RatesBody,
} from '../body-schemas/admin.js';
import { pick } from '../body-schemas/body-schema.js';
import { limitQuery, params, type IdParams, type LimitQuery } from '../route-schemas.js';
import { rateView } from '../serializers.js';

/** The rate table may also come as a bare array: validated as `{rates: […]}`. */
async function wrapBareRates(request: FastifyRequest): Promise<void> {
  if (Array.isArray(request.body)) request.body = { rates: request.body };
}

export function registerAdminRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Body: CreateWorkspaceBody }>('/v1/admin/workspaces', { schema: { body: createWorkspaceBody } }, async (request, reply) => {
    const { name } = request.body;
    const { workspace, apiKey } = await provisionWorkspace(ctx.store, { name, allowPrivateCallbacks: ctx.allowPrivateCallbacksByDefault, now: ctx.clock.now() });
    return reply.status(201).send({ id: workspace.id, name: workspace.name, api_key: apiKey, signing_secret: workspace.signingSecret, created_at: workspace.createdAt });
  });

  app.get('/v1/admin/workspaces', async () => {
    const workspaces = await ctx.store.workspaces.list();
    const views = [];
    for (const w of workspaces) {
      const { balanceCents, reservedCents } = await ctx.wallet.balance(w.id);
      views.push({ id: w.id, name: w.name, created_at: w.createdAt, balance: formatCents(balanceCents), reserved: formatCents(reservedCents), currency: 'KES' });
    }
    return views;
  });

  app.post<{ Params: IdParams }>('/v1/admin/workspaces/:id/keys', { schema: { params: params.workspace } }, async (request, reply) => {
    const { id } = request.params;
    const workspace = await ctx.store.workspaces.get(id);
    if (!workspace) throw new AppError('not_found', `no workspace ${quoteInput(id)}`);
    const { record, key } = await ctx.store.apiKeys.create({ kind: 'workspace', workspaceId: workspace.id, now: ctx.clock.now() });
    return reply.status(201).send({ id: record.id, key, workspace_id: workspace.id, created_at: record.createdAt });
  });

  app.get<{ Params: IdParams }>('/v1/admin/workspaces/:id/keys', { schema: { params: params.workspace } }, async (request) => {
    const { id } = request.params;
    const workspace = await ctx.store.workspaces.get(id);
    if (!workspace) throw new AppError('not_found', `no workspace ${quoteInput(id)}`);
    return (await ctx.store.apiKeys.listForWorkspace(id)).map((k) => ({ id: k.id, prefix: k.keyPrefix, created_at: k.createdAt, revoked_at: k.revokedAt }));
  });

  app.delete<{ Params: IdParams }>('/v1/admin/keys/:id', { schema: { params: params.key } }, async (request, reply) => {
    const { id } = request.params;
    const key = await ctx.store.apiKeys.get(id);
    if (!key || key.kind !== 'workspace') throw new AppError('not_found', `no workspace key ${quoteInput(id)}`);
    await ctx.store.apiKeys.revoke(id, ctx.clock.now());
    return reply.status(204).send();
  });

  app.post<{ Params: IdParams; Body: CreditBody }>('/v1/admin/workspaces/:id/credits', { schema: { params: params.workspace, body: creditBody } }, async (request, reply) => {
    const { id } = request.params;
    const { body } = request;
    const workspace = await ctx.store.workspaces.get(id);
    if (!workspace) throw new AppError('not_found', `no workspace ${quoteInput(id)}`);
    const cents = parseAmountToCents(body.amount);
    if (cents === undefined || cents <= 0) throw new AppError('validation_failed', 'amount must be a positive amount of KES such as "500.00"', 'amount');
    const reference = body.reference ?? null;
    // An Idempotency-Key header makes a retried top-up safe: it is applied once.
    const header = request.headers['idempotency-key'];
    const result = await withIdempotency(ctx.store, {
      workspaceId: id, scope: 'credits', key: typeof header === 'string' ? header : undefined, body, now: ctx.clock.now(), field: 'Idempotency-Key',
    }, async () => {
      const transactionId = await ctx.wallet.credit({ workspaceId: id, amountCents: cents, reference, now: ctx.clock.now() });
      const { balanceCents } = await ctx.wallet.balance(id);
      return { status: 201, body: { transaction_id: transactionId, amount: formatCents(cents), balance: formatCents(balanceCents), currency: 'KES', reference } };
    });
    return reply.status(result.status).send(result.body);
  });

  /** Adds numbers to the inventory: `{numbers:["+254700000100", …], type?:"mobile"}` or `{numbers:[{number,type}]}`. */
  app.post<{ Body: InventoryBody }>('/v1/admin/numbers', { schema: { body: inventoryBody } }, async (request, reply) => {
    const { body } = request;
    const defaultKind: NumberKind = pick(body, ['type', 'kind'])?.value ?? 'mobile';
    const entries = body.numbers.map((item, i) => {
      const raw = typeof item === 'string' ? item : item.number;
      const number = raw === undefined ? undefined : parseE164(raw);
      if (!number) throw new AppError('validation_failed', `numbers[${i}] is not an E.164 number`, `numbers[${i}]`);
      return { number, kind: typeof item === 'string' ? defaultKind : item.type ?? defaultKind };
    });
    const added = await ctx.store.numbers.addToInventory(entries, ctx.clock.now());
    return reply.status(201).send({ added, already_present: entries.length - added });
  });

  app.get<{ Querystring: LimitQuery }>('/v1/admin/numbers', { schema: { querystring: limitQuery(1000, 10_000) } }, async (request) => {
    return (await ctx.store.numbers.listInventory(request.query.limit)).map((n) => ({ number: n.number, type: n.kind, claimed: n.claimed }));
  });

  app.get('/v1/admin/rates', async () => {
    return (await ctx.store.rates.list()).map(rateView);
  });

  /** Replaces the rate table: `{rates:[{category, prefix, description, rate_per_minute}]}`, or the bare array. */
  app.put<{ Body: RatesBody }>('/v1/admin/rates', { schema: { body: ratesBody }, preValidation: wrapBareRates }, async (request) => {
    const seen = new Set<string>();
    const rates: Rate[] = request.body.rates.map((r, i) => {
      const field = `rates[${i}]`;
      const category = r.category ?? 'outbound';
      const prefix = r.prefix?.trim() ?? '';
      if (category === 'outbound' || category === 'inbound') {
        if (!/^(\+\d{0,15})?$/.test(prefix)) throw new AppError('validation_failed', `${field}.prefix must be an E.164 prefix such as +25471`, `${field}.prefix`);
      } else if (prefix !== '') {
        throw new AppError('validation_failed', `${field}.prefix must be empty for ${category} rates`, `${field}.prefix`);
      }
      // The schema has made sure one spelling is there.
      const rateValue = pick(r, ['rate_per_minute', 'ratePerMinute'])!;
      const cents = parseAmountToCents(rateValue.value);
      const rateField = `${field}.${rateValue.name}`;
      if (cents === undefined || cents < 0) throw new AppError('validation_failed', `${rateField} must be an amount like "3.50"`, rateField);
      const key = `${category}:${prefix}`;
      if (seen.has(key)) throw new AppError('validation_failed', `${field} repeats ${category} prefix '${prefix}'`, `${field}.prefix`);
      seen.add(key);
      const description = r.description?.slice(0, 200) ?? `${category} ${prefix}`.trim();
      return { category, prefix, description, ratePerMinuteCents: cents };
    });
    await ctx.store.rates.replaceAll(rates, ctx.clock.now());
    return (await ctx.store.rates.list()).map(rateView);
  });
}
