import type { Db } from '../db.js';
import { newId } from '../../shared/ids.js';
import { PreparedQuery } from '../prepared-query.js';

const reserveCall = new PreparedQuery((db: Db, id: string, workspaceId: string, callId: string, amountCents: number, createdAt: string) =>
  db.insertInto('reservations').values({ id, workspace_id: workspaceId, call_id: callId, amount_cents: amountCents, created_at: createdAt, released_at: null })
    .onConflict((oc) => oc.column('call_id').doUpdateSet({ amount_cents: amountCents })));

const releaseCall = new PreparedQuery((db: Db, callId: string, releasedAt: string) =>
  db.updateTable('reservations').set({ released_at: releasedAt }).where('call_id', '=', callId).where('released_at', 'is', null));

const totalOfOthers = new PreparedQuery((db: Db, workspaceId: string, callId: string) =>
  db.selectFrom('reservations').select((eb) => eb.fn.sum<number>('amount_cents').as('total'))
    .where('workspace_id', '=', workspaceId).where('released_at', 'is', null).where('call_id', '!=', callId));

const total = new PreparedQuery((db: Db, workspaceId: string) =>
  db.selectFrom('reservations').select((eb) => eb.fn.sum<number>('amount_cents').as('total'))
    .where('workspace_id', '=', workspaceId).where('released_at', 'is', null));

/** Holds on wallet funds for calls in progress; released when the call is billed. */
export class ReservationRepo {
  constructor(private readonly db: Db) {}

  /** Reserves (or re-sizes the reservation of) a call. */
  async reserve(workspaceId: string, callId: string, amountCents: number, now: Date): Promise<void> {
    await reserveCall.execute(this.db, newId('rsv'), workspaceId, callId, amountCents, now.toISOString());
  }

  async release(callId: string, now: Date): Promise<void> {
    await releaseCall.execute(this.db, callId, now.toISOString());
  }

  /** What the call holds now (0 when it holds nothing). */
  async amountFor(callId: string): Promise<number> {
    const row = await this.db.selectFrom('reservations').select('amount_cents').where('call_id', '=', callId).where('released_at', 'is', null).executeTakeFirst();
    return Number(row?.amount_cents ?? 0);
  }

  /** What the workspace's other running calls hold: the total less `callId`'s own reservation. */
  async reservedByOthers(workspaceId: string, callId: string): Promise<number> {
    const row = await totalOfOthers.takeFirst(this.db, workspaceId, callId);
    return Number(row?.total ?? 0);
  }

  async reservedTotal(workspaceId: string): Promise<number> {
    const row = await total.takeFirst(this.db, workspaceId);
    return Number(row?.total ?? 0);
  }
}
