import type { Db, TrunksTable } from '../db.js';
import { newId } from '../../shared/ids.js';
import type { ReadCache } from '../read-cache.js';

/** How a trunk wants the dialled number in the Request-URI and To (SPEC §13). */
export type NumberFormat = 'e164' | 'international' | 'national';
/** SRTP policy of a trunk (SPEC §13). */
export type TrunkSrtp = 'off' | 'optional' | 'mandatory';

export interface Trunk {
  id: string;
  name: string;
  host: string;
  port: number;
  transport: 'udp' | 'tcp' | 'tls';
  username: string | null;
  password: string | null;
  prefixes: string[];
  inboundAddresses: string[];
  /** REGISTER at `host` with digest, refreshed before expiry. Default false. */
  register: boolean;
  /** Digest user name when it differs from `username` (the From/To user of REGISTER). Default null: `username`. */
  authUsername: string | null;
  /** The digest realm to answer; any realm when null (default). */
  realm: string | null;
  /** Seconds asked for in REGISTER. Default 3600. */
  registerExpires: number;
  /** Among trunks of one prefix, lower goes first (ties by name). Default 0. */
  priority: number;
  /** Seconds the trunk has to answer an INVITE (any provisional) or an OPTIONS ping before the next trunk is tried / it is `down`. Default 5. */
  answerTimeout: number;
  /** Seconds between OPTIONS pings; 0 = off. Default 30. */
  optionsPing: number;
  /** Country calling code for numbers the trunk writes without it. Default `'254'`. */
  countryCode: string;
  /** Default `'e164'`. */
  numberFormat: NumberFormat;
  /** Digits put before the dialled number's user part. Default null. */
  techPrefix: string | null;
  /** Host of our From URI towards this trunk. Default null: our SIP address. */
  fromDomain: string | null;
  /** Add P-Asserted-Identity with the caller ID (RFC 3325). Default false. */
  sendPai: boolean;
  /**
   * SRTP (SDES) on calls with this trunk: `off` plain RTP; `optional` our offers carry keys in RTP/AVP
   * and media is encrypted when the carrier answers with keys; `mandatory` RTP/SAVP only. Default `'off'`.
   */
  srtp: TrunkSrtp;
  createdAt: string;
  updatedAt: string;
}

export type TrunkInput = Omit<Trunk, 'id' | 'createdAt' | 'updatedAt'>;

/** The defaults of the carrier fields, for a trunk created without them. */
export const trunkDefaults = {
  register: false, authUsername: null, realm: null, registerExpires: 3600, priority: 0, answerTimeout: 5, optionsPing: 30,
  countryCode: '254', numberFormat: 'e164', techPrefix: null, fromDomain: null, sendPai: false, srtp: 'off',
} as const satisfies Partial<TrunkInput>;

/** A new trunk: the carrier fields it leaves out take `trunkDefaults`. */
export type NewTrunk = Omit<TrunkInput, keyof typeof trunkDefaults> & Partial<TrunkInput>;

function toTrunk(row: TrunksTable): Trunk {
  return {
    id: row.id, name: row.name, host: row.host, port: Number(row.port), transport: row.transport, username: row.username,
    password: row.password, prefixes: JSON.parse(row.prefixes) as string[], inboundAddresses: JSON.parse(row.inbound_addresses) as string[],
    register: Number(row.register) === 1, authUsername: row.auth_username, realm: row.realm, registerExpires: Number(row.register_expires),
    priority: Number(row.priority), answerTimeout: Number(row.answer_timeout), optionsPing: Number(row.options_ping), countryCode: row.country_code,
    numberFormat: row.number_format, techPrefix: row.tech_prefix, fromDomain: row.from_domain, sendPai: Number(row.send_pai) === 1, srtp: row.srtp,
    createdAt: row.created_at, updatedAt: row.updated_at,
  };
}

/** The columns of a trunk's fields (all but id and times). */
function columnsOf(t: TrunkInput): Omit<TrunksTable, 'id' | 'created_at' | 'updated_at'> {
  return {
    name: t.name, host: t.host, port: t.port, transport: t.transport, username: t.username, password: t.password,
    prefixes: JSON.stringify(t.prefixes), inbound_addresses: JSON.stringify(t.inboundAddresses),
    register: t.register ? 1 : 0, auth_username: t.authUsername, realm: t.realm, register_expires: t.registerExpires, priority: t.priority,
    answer_timeout: t.answerTimeout, options_ping: t.optionsPing, country_code: t.countryCode, number_format: t.numberFormat,
    tech_prefix: t.techPrefix, from_domain: t.fromDomain, send_pai: t.sendPai ? 1 : 0, srtp: t.srtp,
  };
}

export class TrunkRepo {
  constructor(private readonly db: Db, private readonly cache: ReadCache) {}

  /** Answers undefined when the name is taken. */
  async create(input: NewTrunk, now: Date): Promise<Trunk | undefined> {
    const row: TrunksTable = { id: newId('trk'), ...columnsOf({ ...trunkDefaults, ...input }), created_at: now.toISOString(), updated_at: now.toISOString() };
    this.cache.drop('trunks');
    const result = await this.db.insertInto('trunks').values(row).onConflict((oc) => oc.column('name').doNothing()).executeTakeFirst();
    this.cache.drop('trunks');
    return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1 ? toTrunk(row) : undefined;
  }

  async list(): Promise<Trunk[]> {
    return this.#read();
  }

  /** The trunks from the cache (every INVITE checks their inbound addresses); do not change what you get. */
  async listCached(): Promise<readonly Trunk[]> {
    return this.cache.get(this.db, 'trunks', () => this.#read());
  }

  async #read(): Promise<Trunk[]> {
    return (await this.db.selectFrom('trunks').selectAll().orderBy('name', 'asc').execute()).map(toTrunk);
  }

  async get(id: string): Promise<Trunk | undefined> {
    const row = await this.db.selectFrom('trunks').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toTrunk(row) : undefined;
  }

  async update(id: string, patch: Partial<TrunkInput>, now: Date): Promise<Trunk | undefined> {
    const current = await this.get(id);
    if (!current) return undefined;
    const next = { ...current, ...patch };
    this.cache.drop('trunks');
    await this.db.updateTable('trunks').set({ ...columnsOf(next), updated_at: now.toISOString() }).where('id', '=', id).execute();
    this.cache.drop('trunks');
    return this.get(id);
  }

  async delete(id: string): Promise<boolean> {
    this.cache.drop('trunks');
    const result = await this.db.deleteFrom('trunks').where('id', '=', id).executeTakeFirst();
    this.cache.drop('trunks');
    return Number(result.numDeletedRows) > 0;
  }
}
