import type { Db } from '../db.js';
import { newId } from '../../shared/ids.js';
import { PreparedQuery } from '../prepared-query.js';
import { runInTransaction } from './run-in-transaction.js';

export type NumberKind = 'mobile' | 'landline' | 'tollfree';

export interface ClaimedNumber {
  id: string;
  workspaceId: string;
  number: string;
  routingUrl: string | null;
  statusUrl: string | null;
  fallbackUrl: string | null;
  friendlyName: string | null;
  claimedAt: string;
}

export interface AvailableNumber {
  number: string;
  kind: NumberKind;
}

export interface NumberUrls {
  routingUrl?: string | null;
  statusUrl?: string | null;
  fallbackUrl?: string | null;
  friendlyName?: string | null;
}

type Row = {
  id: string; workspace_id: string; number: string; routing_url: string | null; status_url: string | null;
  fallback_url: string | null; friendly_name: string | null; claimed_at: string; released_at: string | null;
};

function toClaimed(row: Row): ClaimedNumber {
  return {
    id: row.id, workspaceId: row.workspace_id, number: row.number, routingUrl: row.routing_url, statusUrl: row.status_url,
    fallbackUrl: row.fallback_url, friendlyName: row.friendly_name, claimedAt: row.claimed_at,
  };
}

export type ClaimResult =
  | { ok: true; number: ClaimedNumber }
  | { ok: false; reason: 'not_available' | 'none_available' };

/** Every inbound call looks its number up. */
const claimOf = new PreparedQuery((db: Db, number: string) => db.selectFrom('numbers').selectAll().where('number', '=', number).where('released_at', 'is', null));

export class NumberRepo {
  constructor(private readonly db: Db) {}

  /** Adds numbers to the inventory; numbers already there are left as they are. Answers how many were added. */
  async addToInventory(numbers: Array<{ number: string; kind: NumberKind }>, now: Date): Promise<number> {
    let added = 0;
    for (const n of numbers) {
      const result = await this.db.insertInto('number_inventory')
        .values({ number: n.number, kind: n.kind, added_at: now.toISOString(), claimed_by: null })
        .onConflict((oc) => oc.column('number').doNothing()).executeTakeFirst();
      added += Number(result.numInsertedOrUpdatedRows ?? 0n);
    }
    return added;
  }

  async listAvailable(prefix: string, limit: number): Promise<AvailableNumber[]> {
    const rows = await this.db.selectFrom('number_inventory').select(['number', 'kind'])
      .where('claimed_by', 'is', null).where('number', 'like', `${stripLikeWildcards(prefix)}%`)
      .orderBy('number', 'asc').limit(limit).execute();
    return rows.map((r) => ({ number: r.number, kind: r.kind as NumberKind }));
  }

  async listInventory(limit: number): Promise<Array<AvailableNumber & { claimed: boolean }>> {
    const rows = await this.db.selectFrom('number_inventory').selectAll().orderBy('number', 'asc').limit(limit).execute();
    return rows.map((r) => ({ number: r.number, kind: r.kind as NumberKind, claimed: r.claimed_by !== null }));
  }

  /**
   * Claims one number for the workspace: the exact `number` when given, else
   * the first available one starting with `prefix`. Atomic: two concurrent
   * claims of one number cannot both win.
   */
  async claim(input: { workspaceId: string; number?: string; prefix?: string; urls: NumberUrls; now: Date }): Promise<ClaimResult> {
    const candidates = input.number !== undefined
      ? [input.number]
      : (await this.listAvailable(input.prefix ?? '+', 20)).map((n) => n.number);
    for (const candidate of candidates) {
      const claimed = await runInTransaction(this.db, async (tx) => {
        const row: Row = {
          id: newId('num'), workspace_id: input.workspaceId, number: candidate,
          routing_url: input.urls.routingUrl ?? null, status_url: input.urls.statusUrl ?? null,
          fallback_url: input.urls.fallbackUrl ?? null, friendly_name: input.urls.friendlyName ?? null,
          claimed_at: input.now.toISOString(), released_at: null,
        };
        const inInventory = await tx.selectFrom('number_inventory').select('claimed_by').where('number', '=', candidate).executeTakeFirst();
        if (!inInventory || inInventory.claimed_by !== null) return undefined;
        await tx.insertInto('numbers').values(row).execute();
        const taken = await tx.updateTable('number_inventory').set({ claimed_by: row.id })
          .where('number', '=', candidate).where('claimed_by', 'is', null).executeTakeFirst();
        if (Number(taken.numUpdatedRows) !== 1) {
          await tx.deleteFrom('numbers').where('id', '=', row.id).execute();
          return undefined;
        }
        return toClaimed(row);
      });
      if (claimed) return { ok: true, number: claimed };
    }
    return { ok: false, reason: input.number !== undefined ? 'not_available' : 'none_available' };
  }

  async list(workspaceId: string): Promise<ClaimedNumber[]> {
    const rows = await this.db.selectFrom('numbers').selectAll().where('workspace_id', '=', workspaceId)
      .where('released_at', 'is', null).orderBy('claimed_at', 'asc').orderBy('id', 'asc').execute();
    return rows.map(toClaimed);
  }

  /** A live claim of this workspace by id, or by the number itself. */
  async get(workspaceId: string, idOrNumber: string): Promise<ClaimedNumber | undefined> {
    const row = await this.db.selectFrom('numbers').selectAll().where('workspace_id', '=', workspaceId)
      .where('released_at', 'is', null).where((eb) => eb.or([eb('id', '=', idOrNumber), eb('number', '=', idOrNumber)]))
      .executeTakeFirst();
    return row ? toClaimed(row) : undefined;
  }

  /** The live claim of a number, whatever the workspace (inbound routing). */
  async findClaimByNumber(number: string): Promise<ClaimedNumber | undefined> {
    const row = await claimOf.takeFirst(this.db, number);
    return row ? toClaimed(row) : undefined;
  }

  async update(workspaceId: string, id: string, urls: NumberUrls): Promise<ClaimedNumber | undefined> {
    const set: Partial<Row> = {};
    if (urls.routingUrl !== undefined) set.routing_url = urls.routingUrl;
    if (urls.statusUrl !== undefined) set.status_url = urls.statusUrl;
    if (urls.fallbackUrl !== undefined) set.fallback_url = urls.fallbackUrl;
    if (urls.friendlyName !== undefined) set.friendly_name = urls.friendlyName;
    const current = await this.get(workspaceId, id);
    if (!current) return undefined;
    if (Object.keys(set).length > 0) await this.db.updateTable('numbers').set(set).where('id', '=', current.id).execute();
    return this.get(workspaceId, current.id);
  }

  /** Releases the claim: the number returns to the inventory. */
  async release(workspaceId: string, id: string, now: Date): Promise<boolean> {
    return runInTransaction(this.db, async (tx) => {
      const current = await new NumberRepo(tx).get(workspaceId, id);
      if (!current) return false;
      await tx.updateTable('numbers').set({ released_at: now.toISOString() }).where('id', '=', current.id).execute();
      await tx.updateTable('number_inventory').set({ claimed_by: null }).where('claimed_by', '=', current.id).execute();
      return true;
    });
  }
}

/** Drops LIKE wildcards so a prefix is matched literally (numbers never hold them). */
function stripLikeWildcards(value: string): string {
  return value.replace(/[%_\\]/g, '');
}
