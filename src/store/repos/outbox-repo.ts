import type { Db, OutboxTable } from '../db.js';
import { newId } from '../../shared/ids.js';
import { runInTransaction } from './run-in-transaction.js';

/** The envelope of SPEC §9: `{id, type, created_at, workspace_id, data}`. */
export interface EventEnvelope {
  id: string;
  type: string;
  created_at: string;
  workspace_id: string;
  data: Record<string, unknown>;
}

export interface OutboxItem {
  id: string;
  workspaceId: string;
  type: string;
  envelope: EventEnvelope;
  targetUrl: string;
  endpointId: string | null;
  callId: string | null;
  status: OutboxTable['status'];
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  createdAt: string;
}

function toItem(row: OutboxTable): OutboxItem {
  return {
    id: row.id, workspaceId: row.workspace_id, type: row.type, envelope: JSON.parse(row.payload) as EventEnvelope, targetUrl: row.target_url,
    endpointId: row.endpoint_id, callId: row.call_id, status: row.status, attempts: Number(row.attempts), nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error, createdAt: row.created_at,
  };
}

/**
 * Events waiting to be delivered. Rows are written in the same database
 * transaction as the state change that caused them (call the repo made on
 * the transaction), so an event is never lost nor sent for a change that
 * rolled back.
 */
export class OutboxRepo {
  constructor(private readonly db: Db) {}

  /**
   * One row per target: the event id stays the same across targets and
   * retries. With `orderingKey`, each target gets this event only after the
   * earlier events of that key (see `due`).
   */
  async enqueue(input: { workspaceId: string; type: string; data: Record<string, unknown>; targets: Array<{ url: string; endpointId?: string | null }>; callId?: string | null; now: Date; eventId?: string; notBefore?: Date; orderingKey?: string | null }): Promise<EventEnvelope> {
    const at = input.now.toISOString();
    const firstAttemptAt = (input.notBefore ?? input.now).toISOString();
    const envelope: EventEnvelope = { id: input.eventId ?? newId('evt'), type: input.type, created_at: at, workspace_id: input.workspaceId, data: input.data };
    for (const target of input.targets) {
      await this.db.insertInto('outbox').values({
        id: newId('dlv'), workspace_id: input.workspaceId, type: input.type, payload: JSON.stringify(envelope), target_url: target.url,
        endpoint_id: target.endpointId ?? null, call_id: input.callId ?? null,
        // Per target: a slow receiver holds back only its own copy of a room's events.
        ordering_key: input.orderingKey ? `${input.orderingKey}\n${target.endpointId ?? target.url}` : null, status: 'pending', attempts: 0, next_attempt_at: firstAttemptAt,
        last_error: null, created_at: at, updated_at: at,
      }).execute();
    }
    return envelope;
  }

  /**
   * Pending rows whose time has come, except those waiting for an older row
   * of their ordering key: that one is still pending (in flight, or waiting
   * for its next retry), and goes first. Ids sort by creation, so `id <` is
   * "enqueued before". A row delivered, stopped or failed for good no longer
   * holds the next one back.
   */
  async due(now: Date, limit: number): Promise<OutboxItem[]> {
    const rows = await this.db.selectFrom('outbox').selectAll().where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now.toISOString())
      .where((eb) => eb.or([
        eb('ordering_key', 'is', null),
        eb.not(eb.exists(eb.selectFrom('outbox as earlier').select('earlier.id')
          .whereRef('earlier.ordering_key', '=', 'outbox.ordering_key').where('earlier.status', '=', 'pending').whereRef('earlier.id', '<', 'outbox.id'))),
      ]))
      .orderBy('next_attempt_at', 'asc').limit(limit).execute();
    return rows.map(toItem);
  }

  /**
   * Leases due rows to one deliverer: moves their next_attempt_at to
   * `leaseUntil`, answering only the rows this call leased (another deliverer
   * may have taken some first). A deliverer that dies mid-attempt leaves its
   * rows pending, and they are attempted again when the lease runs out.
   */
  async claim(ids: readonly string[], now: Date, leaseUntil: Date): Promise<OutboxItem[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.updateTable('outbox').set({ next_attempt_at: leaseUntil.toISOString() })
      .where('id', 'in', [...ids]).where('status', '=', 'pending').where('next_attempt_at', '<=', now.toISOString())
      .returningAll().execute();
    return rows.map(toItem);
  }

  async countByStatus(workspaceId: string): Promise<Record<string, number>> {
    const rows = await this.db.selectFrom('outbox').select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('workspace_id', '=', workspaceId).groupBy('status').execute();
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  async get(id: string): Promise<OutboxItem | undefined> {
    const row = await this.db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toItem(row) : undefined;
  }

  async listForEndpoint(endpointId: string, page: { limit: number; before?: string }): Promise<OutboxItem[]> {
    let query = this.db.selectFrom('outbox').selectAll().where('endpoint_id', '=', endpointId);
    if (page.before) query = query.where('id', '<', page.before);
    return (await query.orderBy('id', 'desc').limit(page.limit).execute()).map(toItem);
  }

  async listForCall(callId: string): Promise<OutboxItem[]> {
    return (await this.db.selectFrom('outbox').selectAll().where('call_id', '=', callId).orderBy('id', 'asc').execute()).map(toItem);
  }

  async recordAttempt(input: { id: string; attempt: number; statusCode: number | null; latencyMs: number; error: string | null; next: { status: OutboxTable['status']; nextAttemptAt?: Date }; now: Date }): Promise<void> {
    await runInTransaction(this.db, (tx) => new OutboxRepo(tx).#writeAttempt(input));
  }

  async #writeAttempt(input: Parameters<OutboxRepo['recordAttempt']>[0]): Promise<void> {
    const at = input.now.toISOString();
    await this.db.insertInto('delivery_attempts').values({
      id: newId('att'), outbox_id: input.id, attempt: input.attempt, status_code: input.statusCode, latency_ms: Math.round(input.latencyMs),
      error: input.error, at,
    }).execute();
    await this.db.updateTable('outbox').set({
      status: input.next.status, attempts: input.attempt, last_error: input.error, updated_at: at,
      ...(input.next.nextAttemptAt ? { next_attempt_at: input.next.nextAttemptAt.toISOString() } : {}),
    }).where('id', '=', input.id).execute();
  }

  async attempts(outboxId: string): Promise<Array<{ attempt: number; statusCode: number | null; latencyMs: number; error: string | null; at: string }>> {
    const rows = await this.db.selectFrom('delivery_attempts').selectAll().where('outbox_id', '=', outboxId).orderBy('id', 'asc').execute();
    return rows.map((r) => ({ attempt: Number(r.attempt), statusCode: r.status_code === null ? null : Number(r.status_code), latencyMs: Number(r.latency_ms), error: r.error, at: r.at }));
  }

  /** Puts a failed or stopped delivery back in the queue for one more round of attempts. */
  async requeue(id: string, now: Date): Promise<boolean> {
    const result = await this.db.updateTable('outbox').set({ status: 'pending', attempts: 0, next_attempt_at: now.toISOString(), updated_at: now.toISOString() })
      .where('id', '=', id).where('status', 'in', ['failed', 'stopped']).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}
