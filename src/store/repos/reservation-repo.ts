import type { Db } from '../db.js';
import { newId } from '../../shared/ids.js';

/** Holds on wallet funds for calls in progress; released when the call is billed. */
export class ReservationRepo {
  constructor(private readonly db: Db) {}

  /** Reserves (or re-sizes the reservation of) a call. */
  async reserve(workspaceId: string, callId: string, amountCents: number, now: Date): Promise<void> {
    await this.db.insertInto('reservations').values({
      id: newId('rsv'), workspace_id: workspaceId, call_id: callId, amount_cents: amountCents, created_at: now.toISOString(), released_at: null,
    }).onConflict((oc) => oc.column('call_id').doUpdateSet({ amount_cents: amountCents })).execute();
  }

  async release(callId: string, now: Date): Promise<void> {
    await this.db.updateTable('reservations').set({ released_at: now.toISOString() })
      .where('call_id', '=', callId).where('released_at', 'is', null).execute();
  }

  /** What the call holds now (0 when it holds nothing). */
  async amountFor(callId: string): Promise<number> {
    const row = await this.db.selectFrom('reservations').select('amount_cents').where('call_id', '=', callId).where('released_at', 'is', null).executeTakeFirst();
    return Number(row?.amount_cents ?? 0);
  }

  /** What the workspace's other running calls hold: the total less `callId`'s own reservation. */
  async reservedByOthers(workspaceId: string, callId: string): Promise<number> {
    const row = await this.db.selectFrom('reservations').select((eb) => eb.fn.sum<number>('amount_cents').as('total'))
      .where('workspace_id', '=', workspaceId).where('released_at', 'is', null).where('call_id', '!=', callId).executeTakeFirst();
    return Number(row?.total ?? 0);
  }

  async reservedTotal(workspaceId: string): Promise<number> {
    const row = await this.db.selectFrom('reservations').select((eb) => eb.fn.sum<number>('amount_cents').as('total'))
      .where('workspace_id', '=', workspaceId).where('released_at', 'is', null).executeTakeFirst();
    return Number(row?.total ?? 0);
  }
}
