import { sql } from 'kysely';
import type { Db } from '../db.js';
import type { CallsTable } from '../db.js';
import { newId } from '../../shared/ids.js';
import { PreparedQuery, PreparedQueryShapes } from '../prepared-query.js';

export type CallDirection = 'inbound' | 'outbound';
export type CallStatus = 'queued' | 'initiated' | 'ringing' | 'in-progress' | 'completed' | 'busy' | 'no-answer' | 'failed' | 'canceled';
export const callStatuses: readonly CallStatus[] = ['queued', 'initiated', 'ringing', 'in-progress', 'completed', 'busy', 'no-answer', 'failed', 'canceled'];
/** The statuses of a call that has not ended; the others are final. */
export const liveCallStatuses: readonly CallStatus[] = ['queued', 'initiated', 'ringing', 'in-progress'];

/**
 * `status in ('queued', …)` with the statuses as literals, not parameters:
 * only a literal predicate lets SQLite use the partial index `calls_live`.
 */
export const isLive = sql<boolean>`status in (${sql.join(liveCallStatuses.map((s) => sql.lit(s)))})`;

/**
 * Ids per `markAlive` statement. Chunks are padded to a power of two (by
 * repeating an id) so the statement cache sees a dozen SQL texts, not one
 * per number of live calls.
 */
const aliveChunk = 1024;

/** `updateReturning`, one statement per set of columns (and `onlyIfLive`): the shape is `columns|live`. */
const updateReturningShapes = new PreparedQueryShapes<unknown[], CallsTable>((shape) => {
  const [list, live] = shape.split('|') as [string, string];
  const columns = list.split(',');
  return new PreparedQuery((db, ...values: unknown[]) => {
    const query = db.updateTable('calls').set(Object.fromEntries(columns.map((c, i) => [c, values[i]]))).where('id', '=', values[columns.length] as string);
    return (live === 'live' ? query.where(isLive) : query).returningAll();
  }, columns.length + 1);
});

/** `insert`, one statement per set of columns (a draft has them all, so one in practice). */
const insertShapes = new PreparedQueryShapes<unknown[], unknown>((shape) => {
  const columns = shape.split(',');
  return new PreparedQuery((db, ...values: unknown[]) => db.insertInto('calls').values(Object.fromEntries(columns.map((c, i) => [c, values[i]])) as unknown as CallsTable), columns.length);
});

const insertEvent = new PreparedQuery((db: Db, id: string, callId: string, kind: 'status' | 'error', name: string, detail: string, at: string) =>
  db.insertInto('call_events').values({ id, call_id: callId, kind, name, detail, at }));

export interface CallRecord {
  id: string;
  workspaceId: string;
  direction: CallDirection;
  from: string;
  to: string;
  status: CallStatus;
  parentCallId: string | null;
  numberId: string | null;
  conference: string | null;
  createdAt: string;
  ringingAt: string | null;
  answeredAt: string | null;
  endedAt: string | null;
  durationSeconds: number | null;
  ringSeconds: number | null;
  hangupCause: string | null;
  hangupBy: string | null;
  priceCents: number | null;
  ratePerMinuteCents: number | null;
  rateCategory: string | null;
  clientRequestId: string | null;
  metadata: Record<string, string>;
  actionUrl: string | null;
  statusUrl: string | null;
  sipCallId: string | null;
  /** While live: when its process last saw it alive (see `markAlive`). */
  aliveAt: string | null;
  /** Answering machine detection's decision (SPEC §17); null when the call was placed without it. */
  answeredBy: string | null;
  /** The node that runs (or ran) the call (SPEC §16); null for calls made before node ids were written. */
  nodeId: string | null;
}

export interface CallEvent {
  id: string;
  kind: 'status' | 'error';
  name: string;
  detail: Record<string, unknown>;
  at: string;
}

export interface NewCall {
  workspaceId: string;
  direction: CallDirection;
  from: string;
  to: string;
  status?: CallStatus;
  parentCallId?: string | null;
  numberId?: string | null;
  clientRequestId?: string | null;
  metadata?: Record<string, string>;
  actionUrl?: string | null;
  statusUrl?: string | null;
  now: Date;
}

export interface CallFilters {
  status?: CallStatus;
  direction?: CallDirection;
  from?: string;
  to?: string;
  numberId?: string;
  conference?: string;
  parentCallId?: string;
  metadata?: Record<string, string>;
  since?: string;
  until?: string;
}

export type CallUpdate = Partial<Pick<CallsTable,
  'status' | 'ringing_at' | 'answered_at' | 'ended_at' | 'duration_seconds' | 'ring_seconds' | 'hangup_cause' | 'hangup_by'
  | 'price_cents' | 'rate_per_minute_cents' | 'rate_category' | 'conference' | 'sip_call_id' | 'action_url' | 'number_id' | 'answered_by'>>;

function toCall(row: CallsTable): CallRecord {
  return {
    id: row.id, workspaceId: row.workspace_id, direction: row.direction, from: row.from_number, to: row.to_number,
    status: row.status as CallStatus, parentCallId: row.parent_call_id, numberId: row.number_id, conference: row.conference,
    createdAt: row.created_at, ringingAt: row.ringing_at, answeredAt: row.answered_at, endedAt: row.ended_at,
    durationSeconds: row.duration_seconds, ringSeconds: row.ring_seconds, hangupCause: row.hangup_cause, hangupBy: row.hangup_by,
    priceCents: row.price_cents, ratePerMinuteCents: row.rate_per_minute_cents, rateCategory: row.rate_category,
    clientRequestId: row.client_request_id, metadata: JSON.parse(row.metadata) as Record<string, string>,
    actionUrl: row.action_url, statusUrl: row.status_url, sipCallId: row.sip_call_id, aliveAt: row.alive_at,
    answeredBy: row.answered_by, nodeId: row.node_id,
  };
}

/** A new call's row and record, made before anything is written (so its id can be used at once). */
export interface CallDraft {
  row: CallsTable;
  record: CallRecord;
}

export function draftCall(input: NewCall): CallDraft {
  const metadata = input.metadata ?? {};
  const row: CallsTable = {
    id: newId('call'), workspace_id: input.workspaceId, direction: input.direction, from_number: input.from, to_number: input.to,
    status: input.status ?? 'queued', parent_call_id: input.parentCallId ?? null, number_id: input.numberId ?? null, conference: null,
    created_at: input.now.toISOString(), ringing_at: null, answered_at: null, ended_at: null, duration_seconds: null,
    ring_seconds: null, hangup_cause: null, hangup_by: null, price_cents: null, rate_per_minute_cents: null, rate_category: null,
    client_request_id: input.clientRequestId ?? null, metadata: JSON.stringify(metadata), action_url: input.actionUrl ?? null,
    status_url: input.statusUrl ?? null, sip_call_id: null, alive_at: null, answered_by: null, node_id: null,
  };
  return { row, record: toCall(row) };
}

export class CallRepo {
  /** `nodeId`: this node's id, written on every call it creates (the node that runs it). */
  constructor(private readonly db: Db, private readonly nodeId: string) {}

  async create(input: NewCall): Promise<CallRecord> {
    const draft = draftCall(input);
    await this.insert(draft);
    return draft.record;
  }

  /** Writes a call made by `draftCall` (with its metadata rows). */
  async insert(draft: CallDraft): Promise<void> {
    const row = Object.entries({ ...draft.row, node_id: this.nodeId }).filter(([, value]) => value !== undefined);
    await insertShapes.of(row.map(([column]) => column).join(',')).execute(this.db, ...row.map(([, value]) => value));
    const pairs = Object.entries(draft.record.metadata);
    if (pairs.length > 0) {
      await this.db.insertInto('call_metadata')
        .values(pairs.map(([key, value]) => ({ call_id: draft.row.id, workspace_id: draft.row.workspace_id, key, value }))).execute();
    }
  }

  /** The call if it belongs to the workspace (another workspace's call is absent, never forbidden). */
  async get(workspaceId: string, id: string): Promise<CallRecord | undefined> {
    const row = await this.db.selectFrom('calls').selectAll().where('id', '=', id).where('workspace_id', '=', workspaceId).executeTakeFirst();
    return row ? toCall(row) : undefined;
  }

  async getById(id: string): Promise<CallRecord | undefined> {
    const row = await this.db.selectFrom('calls').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toCall(row) : undefined;
  }

  /** Newest first; `before` is the id of the last call of the previous page. */
  async list(workspaceId: string, filters: CallFilters, page: { limit: number; before?: string }): Promise<CallRecord[]> {
    let query = this.db.selectFrom('calls').selectAll().where('workspace_id', '=', workspaceId);
    if (filters.status) query = query.where('status', '=', filters.status);
    if (filters.direction) query = query.where('direction', '=', filters.direction);
    if (filters.from) query = query.where('from_number', '=', filters.from);
    if (filters.to) query = query.where('to_number', '=', filters.to);
    if (filters.numberId) query = query.where('number_id', '=', filters.numberId);
    if (filters.conference) query = query.where('conference', '=', filters.conference);
    if (filters.parentCallId) query = query.where('parent_call_id', '=', filters.parentCallId);
    if (filters.since) query = query.where('created_at', '>=', filters.since);
    if (filters.until) query = query.where('created_at', '<', filters.until);
    for (const [key, value] of Object.entries(filters.metadata ?? {})) {
      query = query.where('id', 'in', (eb) => eb.selectFrom('call_metadata').select('call_id')
        .where('workspace_id', '=', workspaceId).where('key', '=', key).where('value', '=', value));
    }
    if (page.before) query = query.where('id', '<', page.before);
    const rows = await query.orderBy('id', 'desc').limit(page.limit).execute();
    return rows.map(toCall);
  }

  async findByClientRequestId(workspaceId: string, clientRequestId: string): Promise<CallRecord[]> {
    const rows = await this.db.selectFrom('calls').selectAll().where('workspace_id', '=', workspaceId)
      .where('client_request_id', '=', clientRequestId).orderBy('id', 'asc').execute();
    return rows.map(toCall);
  }

  async update(id: string, update: CallUpdate): Promise<void> {
    if (Object.keys(update).length === 0) return;
    await this.db.updateTable('calls').set(update).where('id', '=', id).execute();
  }

  /**
   * Applies a non-empty update and answers the call as it now is, in one
   * statement (`update … returning`). With `onlyIfLive` the update applies
   * only while the call has not ended (undefined when it had): of two
   * writers ending the same call, one wins.
   */
  async updateReturning(id: string, update: CallUpdate, options: { onlyIfLive?: boolean } = {}): Promise<CallRecord | undefined> {
    // Kysely leaves out columns set to undefined; so does the shape.
    const set = Object.entries(update).filter(([, value]) => value !== undefined);
    const shape = `${set.map(([column]) => column).join(',')}|${options.onlyIfLive ? 'live' : 'any'}`;
    const row = await updateReturningShapes.of(shape).takeFirst(this.db, ...set.map(([, value]) => value), id);
    return row ? toCall(row) : undefined;
  }

  /**
   * Sets `alive_at` on the given calls: one statement per 1024 ids, whatever
   * the number of calls, so a beat costs the same few writes at 10 calls or 1000.
   */
  async markAlive(ids: readonly string[], now: Date): Promise<void> {
    const at = now.toISOString();
    for (let start = 0; start < ids.length; start += aliveChunk) {
      const chunk = ids.slice(start, start + aliveChunk);
      const padded = 2 ** Math.ceil(Math.log2(chunk.length));
      while (chunk.length < padded) chunk.push(chunk[0]!);
      await this.db.updateTable('calls').set({ alive_at: at }).where('id', 'in', chunk).execute();
    }
  }

  /**
   * Calls that have not ended, by id, after `afterId`, run by node `nodeId`
   * (and, with `orNoNode`, those written before calls named their node): at
   * start, the calls an earlier run of this node left live; for the reaper,
   * the calls of a dead node.
   */
  async listLive(page: { limit: number; afterId?: string; nodeId: string; orNoNode?: boolean }): Promise<CallRecord[]> {
    let query = this.db.selectFrom('calls').selectAll().where(isLive)
      .where((eb) => page.orNoNode ? eb.or([eb('node_id', '=', page.nodeId), eb('node_id', 'is', null)]) : eb('node_id', '=', page.nodeId));
    if (page.afterId) query = query.where('id', '>', page.afterId);
    const rows = await query.orderBy('id', 'asc').limit(page.limit).execute();
    return rows.map(toCall);
  }

  async addEvent(callId: string, kind: 'status' | 'error', name: string, detail: Record<string, unknown>, now: Date): Promise<void> {
    await insertEvent.execute(this.db, newId('cev'), callId, kind, name, JSON.stringify(detail), now.toISOString());
  }

  async events(callId: string): Promise<CallEvent[]> {
    const rows = await this.db.selectFrom('call_events').selectAll().where('call_id', '=', callId).orderBy('id', 'asc').execute();
    return rows.map((r) => ({ id: r.id, kind: r.kind, name: r.name, detail: JSON.parse(r.detail) as Record<string, unknown>, at: r.at }));
  }
}
