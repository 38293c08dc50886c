import type { Db, TrunksTable } from '../db.js';
import { newId } from '../../shared/ids.js';
import type { ReadCache } from '../read-cache.js';

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
  createdAt: string;
  updatedAt: string;
}

export type TrunkInput = Omit<Trunk, 'id' | 'createdAt' | 'updatedAt'>;

function toTrunk(row: TrunksTable): Trunk {
  return {
    id: row.id, name: row.name, host: row.host, port: Number(row.port), transport: row.transport, username: row.username,
    password: row.password, prefixes: JSON.parse(row.prefixes) as string[], inboundAddresses: JSON.parse(row.inbound_addresses) as string[],
    createdAt: row.created_at, updatedAt: row.updated_at,
  };
}

export class TrunkRepo {
  constructor(private readonly db: Db, private readonly cache: ReadCache) {}

  /** Answers undefined when the name is taken. */
  async create(input: TrunkInput, now: Date): Promise<Trunk | undefined> {
    const row: TrunksTable = {
      id: newId('trk'), name: input.name, host: input.host, port: input.port, transport: input.transport, username: input.username,
      password: input.password, prefixes: JSON.stringify(input.prefixes), inbound_addresses: JSON.stringify(input.inboundAddresses),
      created_at: now.toISOString(), updated_at: now.toISOString(),
    };
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
    await this.db.updateTable('trunks').set({
      name: next.name, host: next.host, port: next.port, transport: next.transport, username: next.username, password: next.password,
      prefixes: JSON.stringify(next.prefixes), inbound_addresses: JSON.stringify(next.inboundAddresses), updated_at: now.toISOString(),
    }).where('id', '=', id).execute();
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
