import { createHash } from 'node:crypto';
import type { Db } from '../db.js';
import { newId, newSecret } from '../../shared/ids.js';

export type ApiKeyKind = 'admin' | 'workspace';

export interface ApiKeyRecord {
  id: string;
  kind: ApiKeyKind;
  workspaceId: string | null;
  keyPrefix: string;
  createdAt: string;
  revokedAt: string | null;
}

/** Keys are stored as SHA-256 hashes: a leaked database does not leak usable keys. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export class ApiKeyRepo {
  constructor(private readonly db: Db) {}

  /** Creates a key; the clear key is returned once and never stored. */
  async create(input: { kind: ApiKeyKind; workspaceId: string | null; now: Date; key?: string }): Promise<{ record: ApiKeyRecord; key: string }> {
    const key = input.key ?? newSecret(input.kind === 'admin' ? 'sk_admin' : 'sk_live');
    const record: ApiKeyRecord = {
      id: newId('key'), kind: input.kind, workspaceId: input.workspaceId, keyPrefix: key.slice(0, 12),
      createdAt: input.now.toISOString(), revokedAt: null,
    };
    await this.db.insertInto('api_keys').values({
      id: record.id, workspace_id: record.workspaceId, kind: record.kind, key_hash: hashApiKey(key),
      key_prefix: record.keyPrefix, created_at: record.createdAt, revoked_at: null,
    }).execute();
    return { record, key };
  }

  /** The live (not revoked) key with this clear value, if any. */
  async findActiveByKey(key: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.db.selectFrom('api_keys').selectAll()
      .where('key_hash', '=', hashApiKey(key)).where('revoked_at', 'is', null).executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  async listForWorkspace(workspaceId: string): Promise<ApiKeyRecord[]> {
    const rows = await this.db.selectFrom('api_keys').selectAll().where('workspace_id', '=', workspaceId).orderBy('id', 'asc').execute();
    return rows.map(toRecord);
  }

  /** Revokes at once; answers false when there is no such live key. */
  async revoke(id: string, now: Date): Promise<boolean> {
    const result = await this.db.updateTable('api_keys').set({ revoked_at: now.toISOString() })
      .where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}

function toRecord(row: { id: string; kind: string; workspace_id: string | null; key_prefix: string; created_at: string; revoked_at: string | null }): ApiKeyRecord {
  return {
    id: row.id, kind: row.kind as ApiKeyKind, workspaceId: row.workspace_id, keyPrefix: row.key_prefix,
    createdAt: row.created_at, revokedAt: row.revoked_at,
  };
}
