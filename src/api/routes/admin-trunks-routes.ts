import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { AppError, quoteInput } from '../../shared/errors.js';
import type { Trunk, TrunkInput } from '../../store/repos/trunk-repo.js';
import type { ApiContext } from '../api-context.js';
import { asBody, optionalInteger, optionalString, optionalStringArray, requiredString, type Body } from '../request-fields.js';
import { params, type IdParams } from '../route-schemas.js';

const hostPattern = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/** The trunk as the API shows it: the password never leaves the server. */
function trunkView(t: Trunk): Record<string, unknown> {
  return {
    id: t.id, name: t.name, host: t.host, port: t.port, transport: t.transport, username: t.username, password_set: t.password !== null,
    prefixes: t.prefixes, inbound_addresses: t.inboundAddresses, created_at: t.createdAt, updated_at: t.updatedAt,
  };
}

function isAddressOrCidr(value: string): boolean {
  const [address, bits, extra] = value.split('/');
  if (extra !== undefined || !address) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/** Reads trunk fields; with `partial`, absent fields stay absent (PATCH). */
function readTrunk(body: Body, partial: boolean): Partial<TrunkInput> {
  const out: Partial<TrunkInput> = {};
  const name = partial ? optionalString(body, ['name'], { maxLength: 100 }) : requiredString(body, ['name'], { maxLength: 100 });
  if (name !== undefined && name !== null) out.name = name;
  const host = partial ? optionalString(body, ['host'], { maxLength: 253 }) : requiredString(body, ['host'], { maxLength: 253 });
  if (host !== undefined && host !== null) {
    if (!hostPattern.test(host) && isIP(host) === 0) throw new AppError('validation_failed', 'host must be a host name or an IP address', 'host');
    out.host = host.toLowerCase();
  }
  const port = optionalInteger(body, ['port'], { min: 1, max: 65535 });
  if (port !== undefined) out.port = port;
  const transport = optionalString(body, ['transport']);
  if (transport !== undefined && transport !== null) {
    if (transport !== 'udp' && transport !== 'tcp' && transport !== 'tls') throw new AppError('validation_failed', 'transport must be udp, tcp or tls', 'transport');
    out.transport = transport;
  } else if (!partial) out.transport = 'udp';
  // RFC 3261 §26.2: SIP over TLS defaults to 5061.
  if (out.port === undefined && !partial) out.port = out.transport === 'tls' ? 5061 : 5060;
  const username = optionalString(body, ['username'], { nullable: true, maxLength: 100 });
  if (username !== undefined) out.username = username;
  else if (!partial) out.username = null;
  const password = optionalString(body, ['password'], { nullable: true, maxLength: 200 });
  if (password !== undefined) out.password = password;
  else if (!partial) out.password = null;
  const prefixes = optionalStringArray(body, ['prefixes'], { maxItems: 1000 });
  if (prefixes !== undefined) {
    const bad = prefixes.find((p) => !/^\+\d{0,15}$/.test(p));
    if (bad !== undefined) throw new AppError('validation_failed', `'${quoteInput(bad)}' is not an E.164 prefix such as +254`, 'prefixes');
    out.prefixes = prefixes;
  } else if (!partial) out.prefixes = [];
  const inbound = optionalStringArray(body, ['inbound_addresses', 'inboundAddresses'], { maxItems: 1000 });
  if (inbound !== undefined) {
    const bad = inbound.find((a) => !isAddressOrCidr(a));
    if (bad !== undefined) throw new AppError('validation_failed', `'${quoteInput(bad)}' is not an IP address or CIDR range`, 'inbound_addresses');
    out.inboundAddresses = inbound;
  } else if (!partial) out.inboundAddresses = [];
  return out;
}

/** Admin trunks (SPEC §4): carriers that outbound E.164 calls go to and inbound calls come from. */
export function registerAdminTrunkRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post('/v1/admin/trunks', async (request, reply) => {
    const input = readTrunk(asBody(request.body), false) as TrunkInput;
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

  app.patch<{ Params: IdParams }>('/v1/admin/trunks/:id', { schema: { params: params.trunk } }, async (request) => {
    const { id } = request.params;
    const patch = readTrunk(asBody(request.body), true);
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
