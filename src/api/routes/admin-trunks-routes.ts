import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { AppError, quoteInput } from '../../shared/errors.js';
import type { NewTrunk, NumberFormat, Trunk, TrunkInput } from '../../store/repos/trunk-repo.js';
import type { ApiContext } from '../api-context.js';
import { asBody, optionalBoolean, optionalInteger, optionalString, optionalStringArray, requiredString, type Body } from '../request-fields.js';
import { params, type IdParams } from '../route-schemas.js';

const hostPattern = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/** The trunk as the API shows it, with its live registration and health: the password never leaves the server. */
function trunkView(t: Trunk, live: ApiContext['trunks']): Record<string, unknown> {
  return {
    id: t.id, name: t.name, host: t.host, port: t.port, transport: t.transport, username: t.username, password_set: t.password !== null,
    prefixes: t.prefixes, inbound_addresses: t.inboundAddresses, priority: t.priority, answer_timeout: t.answerTimeout,
    register: t.register, auth_username: t.authUsername, realm: t.realm, register_expires: t.registerExpires, options_ping: t.optionsPing,
    country_code: t.countryCode, number_format: t.numberFormat, tech_prefix: t.techPrefix, from_domain: t.fromDomain, send_pai: t.sendPai,
    ...live.statusOf(t), created_at: t.createdAt, updated_at: t.updatedAt,
  };
}

const numberFormats: readonly NumberFormat[] = ['e164', 'international', 'national'];

/** The carrier fields of SPEC §13 that are in the body. */
function readCarrierFields(body: Body): Partial<TrunkInput> {
  const out: Partial<TrunkInput> = {};
  const register = optionalBoolean(body, ['register']);
  if (register !== undefined) out.register = register;
  const authUsername = optionalString(body, ['auth_username', 'authUsername'], { nullable: true, maxLength: 100 });
  if (authUsername !== undefined) out.authUsername = authUsername === '' ? null : authUsername;
  const realm = optionalString(body, ['realm'], { nullable: true, maxLength: 253 });
  if (realm !== undefined) out.realm = realm === '' ? null : realm;
  // RFC 3261 §10.2.1.1 leaves the lifetime to the parties; below 60 s refreshes would flood a carrier, above a day no carrier grants.
  const registerExpires = optionalInteger(body, ['register_expires', 'registerExpires'], { min: 60, max: 86_400 });
  if (registerExpires !== undefined) out.registerExpires = registerExpires;
  const priority = optionalInteger(body, ['priority'], { min: 0, max: 1000 });
  if (priority !== undefined) out.priority = priority;
  const answerTimeout = optionalInteger(body, ['answer_timeout', 'answerTimeout'], { min: 1, max: 30 });
  if (answerTimeout !== undefined) out.answerTimeout = answerTimeout;
  const optionsPing = optionalInteger(body, ['options_ping', 'optionsPing'], { min: 0, max: 3600 });
  if (optionsPing !== undefined) out.optionsPing = optionsPing;
  const countryCode = optionalString(body, ['country_code', 'countryCode'], { maxLength: 4 });
  if (countryCode !== undefined && countryCode !== null) {
    const digits = countryCode.replace(/^\+/, '');
    if (!/^[1-9]\d{0,2}$/.test(digits)) throw new AppError('validation_failed', 'country_code must be a country calling code of 1 to 3 digits, such as 254', 'country_code');
    out.countryCode = digits;
  }
  const numberFormat = optionalString(body, ['number_format', 'numberFormat']);
  if (numberFormat !== undefined && numberFormat !== null) {
    if (!(numberFormats as readonly string[]).includes(numberFormat)) throw new AppError('validation_failed', 'number_format must be e164, international or national', 'number_format');
    out.numberFormat = numberFormat as NumberFormat;
  }
  const techPrefix = optionalString(body, ['tech_prefix', 'techPrefix'], { nullable: true, maxLength: 32 });
  if (techPrefix !== undefined) {
    if (techPrefix !== null && techPrefix !== '' && !/^[0-9A-Za-z*#]+$/.test(techPrefix)) {
      throw new AppError('validation_failed', 'tech_prefix may hold digits, letters, * and # only', 'tech_prefix');
    }
    out.techPrefix = techPrefix === '' ? null : techPrefix;
  }
  const fromDomain = optionalString(body, ['from_domain', 'fromDomain'], { nullable: true, maxLength: 253 });
  if (fromDomain !== undefined) {
    if (fromDomain !== null && fromDomain !== '' && !hostPattern.test(fromDomain) && isIP(fromDomain) === 0) {
      throw new AppError('validation_failed', 'from_domain must be a host name or an IP address', 'from_domain');
    }
    out.fromDomain = fromDomain === '' || fromDomain === null ? null : fromDomain.toLowerCase();
  }
  const sendPai = optionalBoolean(body, ['send_pai', 'sendPai']);
  if (sendPai !== undefined) out.sendPai = sendPai;
  return out;
}

/** Rules across fields, on the trunk as it will be stored. */
function checkTrunk(t: Pick<TrunkInput, 'username' | 'password' | 'register'>): void {
  if (t.username && !t.password) throw new AppError('validation_failed', 'password is required with username', 'password');
  if (t.register && !t.username) throw new AppError('validation_failed', 'register needs the username (and password) to register with', 'username');
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
  else if (!partial) out.port = 5060;
  const transport = optionalString(body, ['transport']);
  if (transport !== undefined && transport !== null) {
    if (transport !== 'udp' && transport !== 'tcp') throw new AppError('validation_failed', 'transport must be udp or tcp', 'transport');
    out.transport = transport;
  } else if (!partial) out.transport = 'udp';
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
  return { ...out, ...readCarrierFields(body) };
}

/** Admin trunks (SPEC §4): carriers that outbound E.164 calls go to and inbound calls come from. */
export function registerAdminTrunkRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post('/v1/admin/trunks', async (request, reply) => {
    const input = readTrunk(asBody(request.body), false) as NewTrunk;
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

  app.patch<{ Params: IdParams }>('/v1/admin/trunks/:id', { schema: { params: params.trunk } }, async (request) => {
    const { id } = request.params;
    const patch = readTrunk(asBody(request.body), true);
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
