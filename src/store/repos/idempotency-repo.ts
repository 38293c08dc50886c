import type { Db } from '../db.js';

export type IdempotencyRecord =
  | { state: 'in_progress'; requestHash: string; createdAt: string }
  | { state: 'completed'; requestHash: string; status: number; body: unknown; createdAt: string };

/** Keys live 24 hours (SPEC §4); an older row is replaced by a new request. */
const keyLifetimeMs = 24 * 3600_000;

/**
 * Idempotency keys. A request first reserves its key (state in progress,
 * status 0); only the request that reserved it runs, then stores its answer.
 */
export class IdempotencyRepo {
  constructor(private readonly db: Db) {}

  /** Reserves the key; answers undefined when reserved now, else the record that holds it. */
  async reserve(workspaceId: string, scope: string, key: string, requestHash: string, now: Date): Promise<IdempotencyRecord | undefined> {
    await this.db.deleteFrom('idempotency_keys').where('workspace_id', '=', workspaceId).where('scope', '=', scope)
      .where('key', '=', key).where('created_at', '<', new Date(now.getTime() - keyLifetimeMs).toISOString()).execute();
    const result = await this.db.insertInto('idempotency_keys').values({
      workspace_id: workspaceId, scope, key, request_hash: requestHash, response_status: 0, response_body: 'null', created_at: now.toISOString(),
    }).onConflict((oc) => oc.columns(['workspace_id', 'scope', 'key']).doNothing()).executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0n) === 1) return undefined;
    const row = await this.db.selectFrom('idempotency_keys').selectAll().where('workspace_id', '=', workspaceId)
      .where('scope', '=', scope).where('key', '=', key).executeTakeFirstOrThrow();
    return Number(row.response_status) === 0
      ? { state: 'in_progress', requestHash: row.request_hash, createdAt: row.created_at }
      : { state: 'completed', requestHash: row.request_hash, status: Number(row.response_status), body: JSON.parse(row.response_body) as unknown, createdAt: row.created_at };
  }

  async complete(workspaceId: string, scope: string, key: string, status: number, body: unknown): Promise<void> {
    await this.db.updateTable('idempotency_keys').set({ response_status: status, response_body: JSON.stringify(body) })
      .where('workspace_id', '=', workspaceId).where('scope', '=', scope).where('key', '=', key).execute();
  }

  /** Frees a key whose request failed, so that a retry can run. */
  async abandon(workspaceId: string, scope: string, key: string): Promise<void> {
    await this.db.deleteFrom('idempotency_keys').where('workspace_id', '=', workspaceId).where('scope', '=', scope)
      .where('key', '=', key).where('response_status', '=', 0).execute();
  }
}
