import type { Db, SipCredentialsTable } from '../db.js';
import { newId } from '../../shared/ids.js';

export interface SipCredential {
  id: string;
  workspaceId: string;
  username: string;
  password: string;
  /** Voice callback fetched when this user places a call; null = the workspace's `softphone_routing_url`, else direct routing (SPEC §13). */
  routingUrl: string | null;
  /** The number presented on this user's direct calls; null = the workspace's first claimed number. */
  callerId: string | null;
  createdAt: string;
}

/** The fields of a credential that PATCH may change; `undefined` leaves one as it is, `null` clears it. */
export interface SipCredentialPatch {
  password?: string;
  routingUrl?: string | null;
  callerId?: string | null;
}

function toCredential(row: SipCredentialsTable): SipCredential {
  return {
    id: row.id, workspaceId: row.workspace_id, username: row.username, password: row.password,
    routingUrl: row.routing_url ?? null, callerId: row.caller_id ?? null, createdAt: row.created_at,
  };
}

export class SipCredentialRepo {
  constructor(private readonly db: Db) {}

  /** Answers undefined when the workspace already has that username. */
  async create(input: { workspaceId: string; username: string; password: string; routingUrl?: string | null; callerId?: string | null; now: Date }): Promise<SipCredential | undefined> {
    const row: SipCredentialsTable = {
      id: newId('sipc'), workspace_id: input.workspaceId, username: input.username, password: input.password, created_at: input.now.toISOString(),
      routing_url: input.routingUrl ?? null, caller_id: input.callerId ?? null,
    };
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

  async get(workspaceId: string, id: string): Promise<SipCredential | undefined> {
    const row = await this.db.selectFrom('sip_credentials').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
    return row ? toCredential(row) : undefined;
  }

  /** Changes the fields given; answers the credential as it is now, or undefined when the workspace has no such id. */
  async update(workspaceId: string, id: string, patch: SipCredentialPatch): Promise<SipCredential | undefined> {
    const set: Partial<SipCredentialsTable> = {};
    if (patch.password !== undefined) set.password = patch.password;
    if (patch.routingUrl !== undefined) set.routing_url = patch.routingUrl;
    if (patch.callerId !== undefined) set.caller_id = patch.callerId;
    if (Object.keys(set).length > 0) await this.db.updateTable('sip_credentials').set(set).where('id', '=', id).where('workspace_id', '=', workspaceId).execute();
    return this.get(workspaceId, id);
  }

  async delete(workspaceId: string, id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('sip_credentials').where('id', '=', id).where('workspace_id', '=', workspaceId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
