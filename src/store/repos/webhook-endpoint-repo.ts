import type { Db, WebhookEndpointsTable } from '../db.js';
import { newId, newSecret } from '../../shared/ids.js';
import type { ReadCache } from '../read-cache.js';

export interface WebhookEndpoint {
  id: string;
  workspaceId: string;
  url: string;
  events: string[];
  secret: string;
  /** The secret replaced by the last rotation, valid until previousSecretExpiresAt. */
  previousSecret: string | null;
  previousSecretExpiresAt: string | null;
  createdAt: string;
}

function toEndpoint(row: WebhookEndpointsTable): WebhookEndpoint {
  return {
    id: row.id, workspaceId: row.workspace_id, url: row.url, events: JSON.parse(row.events) as string[], secret: row.secret,
    previousSecret: row.previous_secret, previousSecretExpiresAt: row.previous_secret_expires_at, createdAt: row.created_at,
  };
}

export class WebhookEndpointRepo {
  constructor(private readonly db: Db, private readonly cache: ReadCache) {}

  async create(input: { workspaceId: string; url: string; events: string[]; now: Date }): Promise<WebhookEndpoint> {
    const row: WebhookEndpointsTable = {
      id: newId('wh'), workspace_id: input.workspaceId, url: input.url, events: JSON.stringify(input.events),
      secret: newSecret('whsec'), previous_secret: null, previous_secret_expires_at: null, created_at: input.now.toISOString(), deleted_at: null,
    };
    this.cache.drop(`webhooks:${input.workspaceId}`);
    await this.db.insertInto('webhook_endpoints').values(row).execute();
    this.cache.drop(`webhooks:${input.workspaceId}`);
    return toEndpoint(row);
  }

  async list(workspaceId: string): Promise<WebhookEndpoint[]> {
    const rows = await this.db.selectFrom('webhook_endpoints').selectAll().where('workspace_id', '=', workspaceId)
      .where('deleted_at', 'is', null).orderBy('id', 'asc').execute();
    return rows.map(toEndpoint);
  }

  /** An endpoint by id, deleted or not (deliveries already queued still need its secret). */
  async getAny(id: string): Promise<WebhookEndpoint | undefined> {
    const row = await this.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toEndpoint(row) : undefined;
  }

  async get(workspaceId: string, id: string): Promise<WebhookEndpoint | undefined> {
    const row = await this.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).where('workspace_id', '=', workspaceId)
      .where('deleted_at', 'is', null).executeTakeFirst();
    return row ? toEndpoint(row) : undefined;
  }

  /** Replaces the endpoint's secret; the old one stays valid for `graceSeconds`. */
  async rotateSecret(workspaceId: string, id: string, now: Date, graceSeconds: number): Promise<WebhookEndpoint | undefined> {
    const current = await this.get(workspaceId, id);
    if (!current) return undefined;
    this.cache.drop(`webhooks:${workspaceId}`);
    await this.db.updateTable('webhook_endpoints').set({
      secret: newSecret('whsec'), previous_secret: current.secret,
      previous_secret_expires_at: new Date(now.getTime() + graceSeconds * 1000).toISOString(),
    }).where('id', '=', id).execute();
    this.cache.drop(`webhooks:${workspaceId}`);
    return this.get(workspaceId, id);
  }

  async delete(workspaceId: string, id: string, now: Date): Promise<boolean> {
    this.cache.drop(`webhooks:${workspaceId}`);
    const result = await this.db.updateTable('webhook_endpoints').set({ deleted_at: now.toISOString() })
      .where('id', '=', id).where('workspace_id', '=', workspaceId).where('deleted_at', 'is', null).executeTakeFirst();
    this.cache.drop(`webhooks:${workspaceId}`);
    return Number(result.numUpdatedRows) > 0;
  }

  /** Live endpoints of the workspace subscribed to the event type. */
  async subscribedTo(workspaceId: string, type: string): Promise<WebhookEndpoint[]> {
    const live = await this.cache.get(this.db, `webhooks:${workspaceId}`, () => this.list(workspaceId));
    return live.filter((e) => e.events.includes('*') || e.events.includes(type));
  }
}
