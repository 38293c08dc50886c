import type { FastifyInstance } from 'fastify';
import { AppError, quoteInput } from '../../shared/errors.js';
import { formatCents } from '../../billing/rating.js';
import { categoryOfDestination, lookupRate } from '../../billing/rate-table.js';
import { parseE164, parseSipTarget } from '../../shared/phone-number.js';
import type { ApiContext } from '../api-context.js';
import { decodeCursor, encodeCursor } from '../request-fields.js';
import { pageQuery, rateQuery, type PageQuery, type RateQuery } from '../route-schemas.js';
import { transactionView } from '../serializers.js';

export function registerWalletRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/v1/wallet', async (request) => {
    const { workspaceId } = request;
    const { balanceCents, reservedCents } = await ctx.wallet.balance(workspaceId);
    return { balance: formatCents(balanceCents), currency: 'KES', reserved: formatCents(reservedCents), available: formatCents(balanceCents - reservedCents) };
  });

  /** The ledger, newest first. */
  app.get<{ Querystring: PageQuery }>('/v1/wallet/transactions', { schema: { querystring: pageQuery(50, 1000) } }, async (request, reply) => {
    const { workspaceId } = request;
    const { limit } = request.query;
    const before = decodeCursor(request.query.cursor);
    const rows = await ctx.wallet.transactions(workspaceId, { limit: limit + 1, ...(before ? { before } : {}) });
    const page = rows.slice(0, limit);
    if (rows.length > limit) {
      void reply.header('Link', `<${ctx.publicUrl}/v1/wallet/transactions?limit=${limit}&cursor=${encodeCursor(page[page.length - 1]!.id)}>; rel="next"`);
    }
    return page.map(transactionView);
  });

  /** The rate that would apply to a destination: `?to=+254712345678` or `?to=sip:agent@pbx.example.com`. */
  app.get<{ Querystring: RateQuery }>('/v1/rates', { schema: { querystring: rateQuery } }, async (request) => {
    const raw = request.query.to;
    const destination = /^sips?:/i.test(raw.trim()) ? (parseSipTarget(raw) ? raw.trim() : undefined) : parseE164(raw);
    if (!destination) throw new AppError('validation_failed', 'to must be an E.164 number or a sip: URI', 'to');
    const rate = await lookupRate(ctx.store.rates, categoryOfDestination(destination), destination);
    if (!rate) throw new AppError('no_rate', `no rate applies to ${quoteInput(destination)}`, 'to');
    return {
      to: destination, category: rate.category, prefix: rate.prefix, description: rate.description,
      rate_per_minute: formatCents(rate.ratePerMinuteCents), currency: 'KES', billing_increment_seconds: 1,
    };
  });
}
