import type { Db, RecordingsTable } from '../db.js';
import { newId } from '../../shared/ids.js';

export interface RecordingRecord {
  id: string;
  workspaceId: string;
  callId: string | null;
  conference: string | null;
  path: string;
  durationSeconds: number;
  channels: number;
  createdAt: string;
}

function toRecording(row: RecordingsTable): RecordingRecord {
  return {
    id: row.id, workspaceId: row.workspace_id, callId: row.call_id, conference: row.conference, path: row.path,
    durationSeconds: Number(row.duration_seconds), channels: Number(row.channels), createdAt: row.created_at,
  };
}

export class RecordingRepo {
  constructor(private readonly db: Db) {}

  async create(input: Omit<RecordingRecord, 'id' | 'createdAt'> & { now: Date; id?: string }): Promise<RecordingRecord> {
    const row: RecordingsTable = {
      id: input.id ?? newId('rec'), workspace_id: input.workspaceId, call_id: input.callId, conference: input.conference, path: input.path,
      duration_seconds: input.durationSeconds, channels: input.channels, created_at: input.now.toISOString(), deleted_at: null,
    };
    await this.db.insertInto('recordings').values(row).execute();
    return toRecording(row);
  }

  async get(workspaceId: string, id: string): Promise<RecordingRecord | undefined> {
    const row = await this.db.selectFrom('recordings').selectAll().where('id', '=', id).where('workspace_id', '=', workspaceId)
      .where('deleted_at', 'is', null).executeTakeFirst();
    return row ? toRecording(row) : undefined;
  }

  /** The newest live recording of a call. */
  /** `forCall` for many calls in one query per 500 (a page of GET /v1/calls): the newest live recording of each. */
  async forCalls(workspaceId: string, callIds: readonly string[]): Promise<Map<string, RecordingRecord>> {
    const found = new Map<string, RecordingRecord>();
    for (let i = 0; i < callIds.length; i += 500) {
      const chunk = callIds.slice(i, i + 500);
      const rows = await this.db.selectFrom('recordings').selectAll().where('call_id', 'in', chunk).where('workspace_id', '=', workspaceId)
        .where('deleted_at', 'is', null).orderBy('id', 'desc').execute();
      for (const row of rows) if (row.call_id && !found.has(row.call_id)) found.set(row.call_id, toRecording(row));
    }
    return found;
  }

  async forCall(workspaceId: string, callId: string): Promise<RecordingRecord | undefined> {
    const row = await this.db.selectFrom('recordings').selectAll().where('call_id', '=', callId).where('workspace_id', '=', workspaceId)
      .where('deleted_at', 'is', null).orderBy('id', 'desc').executeTakeFirst();
    return row ? toRecording(row) : undefined;
  }

  async list(workspaceId: string, page: { limit: number; before?: string }): Promise<RecordingRecord[]> {
    let query = this.db.selectFrom('recordings').selectAll().where('workspace_id', '=', workspaceId).where('deleted_at', 'is', null);
    if (page.before) query = query.where('id', '<', page.before);
    const rows = await query.orderBy('id', 'desc').limit(page.limit).execute();
    return rows.map(toRecording);
  }

  async markDeleted(workspaceId: string, id: string, now: Date): Promise<RecordingRecord | undefined> {
    const current = await this.get(workspaceId, id);
    if (!current) return undefined;
    await this.db.updateTable('recordings').set({ deleted_at: now.toISOString() }).where('id', '=', id).execute();
    return current;
  }
}
