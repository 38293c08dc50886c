import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { isAddressOrCidr } from '../../shared/address-list.js';
import { AppError, quoteInput } from '../../shared/errors.js';
import type { NewTrunk, Trunk, TrunkInput } from '../../store/repos/trunk-repo.js';
import type { ApiContext } from '../api-context.js';
import { pick } from '../body-schemas/body-schema.js';
import { createTrunkBody, updateTrunkBody, type CreateTrunkBody, type UpdateTrunkBody } from '../body-schemas/trunks.js';
import { params, type IdParams } from '../route-schemas.js';

const hostPattern = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/** The trunk as the API shows it, with its live registration and health: the password never leaves the server. */
function trunkView(t: Trunk, live: ApiContext['trunks']): Record<string, unknown> {
  return {
    id: t.id, name: t.name, host: t.host, port: t.port, transport: t.transport, username: t.username, password_set: t.password !== null,
    prefixes: t.prefixes, inbound_addresses: t.inboundAddresses, priority: t.priority, answer_timeout: t.answerTimeout,
    register: t.register, auth_username: t.authUsername, realm: t.realm, register_expires: t.registerExpires, options_ping: t.optionsPing,
    country_code: t.countryCode, number_format: t.numberFormat, tech_prefix: t.techPrefix, from_domain: t.fromDomain, send_pai: t.sendPai, srtp: t.srtp,
    ...live.statusOf(t), created_at: t.createdAt, updated_at: t.updatedAt,
  };
}

/** What a new trunk has unless its body says otherwise (the carrier fields default in the repository). */
const trunkDefaults: Partial<TrunkInput> = { port: 5060, transport: 'udp', username: null, password: null, prefixes: [], inboundAddresses: [] };

/** The carrier fields of SPEC §13 that are in the body; what a schema cannot say is checked here. */
function readCarrierFields(body: UpdateTrunkBody): Partial<TrunkInput> {
  const country = pick(body, ['country_code', 'countryCode']);
  const countryCode = country?.value.replace(/^\+/, '');
  if (country && !/^[1-9]\d{0,2}$/.test(countryCode!)) throw new AppError('validation_failed', `${country.name} must be a country calling code of 1 to 3 digits, such as 254`, country.name);
  const tech = pick(body, ['tech_prefix', 'techPrefix']);
  if (tech?.value && !/^[0-9A-Za-z*#]+$/.test(tech.value)) throw new AppError('validation_failed', `${tech.name} may hold digits, letters, * and # only`, tech.name);
  const from = pick(body, ['from_domain', 'fromDomain']);
  if (from?.value && !hostPattern.test(from.value) && isIP(from.value) === 0) throw new AppError('validation_failed', `${from.name} must be a host name or an IP address`, from.name);
  return {
    priority: body.priority, answerTimeout: pick(body, ['answer_timeout', 'answerTimeout'])?.value, register: body.register,
    authUsername: emptyAsNull(pick(body, ['auth_username', 'authUsername'])?.value), realm: emptyAsNull(body.realm),
    registerExpires: pick(body, ['register_expires', 'registerExpires'])?.value, optionsPing: pick(body, ['options_ping', 'optionsPing'])?.value,
    countryCode, numberFormat: pick(body, ['number_format', 'numberFormat'])?.value, techPrefix: emptyAsNull(tech?.value),
    fromDomain: emptyAsNull(from?.value)?.toLowerCase() ?? (from ? null : undefined), sendPai: pick(body, ['send_pai', 'sendPai'])?.value, srtp: body.srtp,
  };
}

/** `""` clears a field like `null`; undefined stays undefined (not sent). */
function emptyAsNull(value: string | null | undefined): string | null | undefined {
  return value === '' ? null : value;
}

/** Rules across fields, on the trunk as it will be stored. */
function checkTrunk(t: Pick<TrunkInput, 'username' | 'password' | 'register'>): void {
  if (t.username && !t.password) throw new AppError('validation_failed', 'password is required with username', 'password');
  if (t.register && !t.username) throw new AppError('validation_failed', 'register needs the username (and password) to register with', 'username');
}

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
    prefixes: body.prefixes, inboundAddresses: inbound?.value, ...readCarrierFields(body),
  };
  const sent = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)) as Partial<TrunkInput>;
  if (partial) return sent;
  // RFC 3261 §26.2: SIP over TLS defaults to 5061.
  return { ...trunkDefaults, ...(sent.transport === 'tls' ? { port: 5061 } : {}), ...sent };
}

/** Admin trunks (SPEC §4): carriers that outbound E.164 calls go to and inbound calls come from. */
export function registerAdminTrunkRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Body: CreateTrunkBody }>('/v1/admin/trunks', { schema: { body: createTrunkBody } }, async (request, reply) => {
    const input = readTrunk(request.body, false) as NewTrunk;
    checkTrunk({ register: false, ...input });
    const trunk = await ctx.store.trunks.create(input, ctx.clock.now());
    if (!trunk) throw new AppError('already_exists', `a trunk named '${quoteInput(input.name)}' exists`, 'name');
    await ctx.trunks.reload();
    return reply.status(201).send(trunkView(trunk, ctx.trunks));
  });

  app.get('/v1/admin/trunks', async () => {
    return (await ctx.store.trunks.list()).map((t) => trunkView(t, ctx.trunks));
  });

  app.get<{ Params: IdParams }>('/v1/admin/trunks/:id', { schema: { params: params.trunk } }, async (request) => {
    const { id } = request.params;
    const trunk = await ctx.store.trunks.get(id);
    if (!trunk) throw new AppError('not_found', `no trunk ${quoteInput(id)}`);
    return trunkView(trunk, ctx.trunks);
  });

  app.patch<{ Params: IdParams; Body: UpdateTrunkBody }>('/v1/admin/trunks/:id', { schema: { params: params.trunk, body: updateTrunkBody } }, async (request) => {
    const { id } = request.params;
    const patch = readTrunk(request.body, true);
    const existing = await ctx.store.trunks.get(id);
    if (!existing) throw new AppError('not_found', `no trunk ${quoteInput(id)}`);
    if (patch.name && patch.name !== existing.name && (await ctx.store.trunks.list()).some((t) => t.name === patch.name)) {
      throw new AppError('already_exists', `a trunk named '${quoteInput(patch.name)}' exists`, 'name');
    }
    checkTrunk({ ...existing, ...patch });
    const updated = (await ctx.store.trunks.update(id, patch, ctx.clock.now()))!;
    await ctx.trunks.reload();
    return trunkView(updated, ctx.trunks);
  });

  app.delete<{ Params: IdParams }>('/v1/admin/trunks/:id', { schema: { params: params.trunk } }, async (request, reply) => {
    const { id } = request.params;
    if (!(await ctx.store.trunks.delete(id))) throw new AppError('not_found', `no trunk ${quoteInput(id)}`);
    // Un-registers a registered trunk (Expires: 0) before answering.
    await ctx.trunks.reload();
    return reply.status(204).send();
  });
}
