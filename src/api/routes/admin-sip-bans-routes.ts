import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { AppError, quoteInput } from '../../shared/errors.js';
import type { ApiContext } from '../api-context.js';
import { params, type AddressParams } from '../route-schemas.js';

/** SIP bans (SPEC §13): operators see which sources are refused for guessing passwords, and lift a ban. */
export function registerAdminSipBanRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/v1/admin/sip/bans', async () => {
    return ctx.sipBans.list().map((ban) => ({
      address: ban.address, banned_at: new Date(ban.bannedAt).toISOString(), expires_at: new Date(ban.expiresAt).toISOString(), failures: ban.failures,
    }));
  });

  app.delete<{ Params: AddressParams }>('/v1/admin/sip/bans/:address', { schema: { params: params.sipBan } }, async (request, reply) => {
    const address = request.params.address.replace(/^\[(.*)\]$/, '$1');
    if (isIP(address) === 0) throw new AppError('validation_failed', `'${quoteInput(address)}' is not an IP address`, 'address');
    if (!ctx.sipBans.lift(address)) throw new AppError('not_found', `no SIP ban on ${quoteInput(address)}`);
    return reply.status(204).send();
  });
}
