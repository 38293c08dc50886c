import type { Db, SipCredentialsTable } from '../db.js';
import { newId } from '../../shared/ids.js';

export interface SipCredential {
  id: string;
  workspaceId: string;
  username: string;
  password: string;
  createdAt: string;
}

function toCredential(row: SipCredentialsTable): SipCredential {
  return { id: row.id, workspaceId: row.workspace_id, username: row.username, password: row.password, createdAt: row.created_at };
}

export class SipCredentialRepo {
  constructor(private readonly db: Db) {}

  /** Answers undefined when the workspace already has that username. */
  async create(input: { workspaceId: string; username: string; password: string; now: Date }): Promise<SipCredential | undefined> {
    const row: SipCredentialsTable = { id: newId('sipc'), workspace_id: input.workspaceId, username: input.username, password: input.password, created_at: input.now.toISOString() };
    const result = await this.db.insertInto('sip_credentials').values(row).onConflict((oc) => oc.columns(['workspace_id', 'username']).doNothing()).executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1 ? toCredential(row) : undefined;
  }

  async list(workspaceId: string): Promise<SipCredential[]> {
    return (await this.db.selectFrom('sip_credentials').selectAll().where('workspace_id', '=', workspaceId).orderBy('username', 'asc').execute()).map(toCredential);
  }

  async find(workspaceId: string, username: string): Promise<SipCredential | undefined> {
    const row = await this.db.selectFrom('sip_credentials').selectAll().where('workspace_id', '=', workspaceId).where('username', '=', username).executeTakeFirst();
    return row ? toCredential(row) : undefined;
  }

  async delete(workspaceId: string, id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('sip_credentials').where('id', '=', id).where('workspace_id', '=', workspaceId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
