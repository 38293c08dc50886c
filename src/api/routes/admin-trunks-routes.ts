import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { isAddressOrCidr } from '../../shared/address-list.js';
import { AppError, quoteInput } from '../../shared/errors.js';
import type { Trunk, TrunkInput } from '../../store/repos/trunk-repo.js';
import type { ApiContext } from '../api-context.js';
import { pick } from '../body-schemas/body-schema.js';
import { createTrunkBody, updateTrunkBody, type CreateTrunkBody, type UpdateTrunkBody } from '../body-schemas/trunks.js';
import { params, type IdParams } from '../route-schemas.js';

const hostPattern = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/** The trunk as the API shows it: the password never leaves the server. */
function trunkView(t: Trunk): Record<string, unknown> {
  return {
    id: t.id, name: t.name, host: t.host, port: t.port, transport: t.transport, username: t.username, password_set: t.password !== null,
    prefixes: t.prefixes, inbound_addresses: t.inboundAddresses, created_at: t.createdAt, updated_at: t.updatedAt,
  };
}

/** What a new trunk has unless its body says otherwise. */
const trunkDefaults: Partial<TrunkInput> = { port: 5060, transport: 'udp', username: null, password: null, prefixes: [], inboundAddresses: [] };

/** The trunk fields of a body (their types checked by its schema); with `partial`, absent fields stay absent (PATCH). */
function readTrunk(body: UpdateTrunkBody, partial: boolean): Partial<TrunkInput> {
  if (body.host !== undefined && !hostPattern.test(body.host) && isIP(body.host) === 0) {
    throw new AppError('validation_failed', 'host must be a host name or an IP address', 'host');
  }
  const badPrefix = body.prefixes?.find((p) => !/^\+\d{0,15}$/.test(p));
  if (badPrefix !== undefined) throw new AppError('validation_failed', `'${quoteInput(badPrefix)}' is not an E.164 prefix such as +254`, 'prefixes');
  const inbound = pick(body, ['inbound_addresses', 'inboundAddresses']);
  const badAddress = inbound?.value.find((a) => !isAddressOrCidr(a));
  if (inbound && badAddress !== undefined) throw new AppError('validation_failed', `'${quoteInput(badAddress)}' is not an IP address or CIDR range`, inbound.name);
  const given: Partial<TrunkInput> = {
    name: body.name, host: body.host?.toLowerCase(), port: body.port, transport: body.transport, username: body.username, password: body.password,
    prefixes: body.prefixes, inboundAddresses: inbound?.value,
  };
  const sent = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)) as Partial<TrunkInput>;
  return partial ? sent : { ...trunkDefaults, ...sent };
}

/** Admin trunks (SPEC §4): carriers that outbound E.164 calls go to and inbound calls come from. */
export function registerAdminTrunkRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Body: CreateTrunkBody }>('/v1/admin/trunks', { schema: { body: createTrunkBody } }, async (request, reply) => {
    const input = readTrunk(request.body, false) as TrunkInput;
    if (input.username && !input.password) throw new AppError('validation_failed', 'password is required with username', 'password');
    const trunk = await ctx.store.trunks.create(input, ctx.clock.now());
    if (!trunk) throw new AppError('already_exists', `a trunk named '${quoteInput(input.name)}' exists`, 'name');
    return reply.status(201).send(trunkView(trunk));
  });

  app.get('/v1/admin/trunks', async () => {
    return (await ctx.store.trunks.list()).map(trunkView);
  });

  app.get<{ Params: IdParams }>('/v1/admin/trunks/:id', { schema: { params: params.trunk } }, async (request) => {
    const { id } = request.params;
    const trunk = await ctx.store.trunks.get(id);
    if (!trunk) throw new AppError('not_found', `no trunk ${quoteInput(id)}`);
    return trunkView(trunk);
  });

  app.patch<{ Params: IdParams; Body: UpdateTrunkBody }>('/v1/admin/trunks/:id', { schema: { params: params.trunk, body: updateTrunkBody } }, async (request) => {
    const { id } = request.params;
    const patch = readTrunk(request.body, true);
    const existing = await ctx.store.trunks.get(id);
    if (!existing) throw new AppError('not_found', `no trunk ${quoteInput(id)}`);
    if (patch.name && patch.name !== existing.name && (await ctx.store.trunks.list()).some((t) => t.name === patch.name)) {
      throw new AppError('already_exists', `a trunk named '${quoteInput(patch.name)}' exists`, 'name');
    }
    return trunkView((await ctx.store.trunks.update(id, patch, ctx.clock.now()))!);
  });

  app.delete<{ Params: IdParams }>('/v1/admin/trunks/:id', { schema: { params: params.trunk } }, async (request, reply) => {
    const { id } = request.params;
    if (!(await ctx.store.trunks.delete(id))) throw new AppError('not_found', `no trunk ${quoteInput(id)}`);
    return reply.status(204).send();
  });
}
