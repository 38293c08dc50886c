import type { Db } from '../db.js';
import type { ReadCache } from '../read-cache.js';

export interface WorkspaceSettings {
  allowedDestinations: string[];
  allowedCallbackHosts: string[];
  allowPrivateCallbacks: boolean;
  /** null means no daily limit. */
  dailySpendLimitCents: number | null;
  /** Voice callback for calls placed by softphone users without their own `routing_url`; null = direct routing (SPEC §13). */
  softphoneRoutingUrl: string | null;
}

export const defaultAllowedDestinations = ['+254'];

export class SettingsRepo {
  constructor(private readonly db: Db, private readonly cache: ReadCache) {}

  /** Creates the settings row of a new workspace. */
  async init(workspaceId: string, allowPrivateCallbacks: boolean, now: Date): Promise<void> {
    this.cache.drop(`settings:${workspaceId}`);
    await this.db.insertInto('settings').values({
      workspace_id: workspaceId, allowed_destinations: JSON.stringify(defaultAllowedDestinations), allowed_callback_hosts: '[]',
      allow_private_callbacks: allowPrivateCallbacks ? 1 : 0, daily_spend_limit_cents: null, updated_at: now.toISOString(),
    }).onConflict((oc) => oc.column('workspace_id').doNothing()).execute();
    this.cache.drop(`settings:${workspaceId}`);
  }

  async get(workspaceId: string): Promise<WorkspaceSettings> {
    const settings = await this.cache.get(this.db, `settings:${workspaceId}`, () => this.#read(workspaceId));
    // Callers may change the lists they get: each gets its own.
    return { ...settings, allowedDestinations: [...settings.allowedDestinations], allowedCallbackHosts: [...settings.allowedCallbackHosts] };
  }

  async #read(workspaceId: string): Promise<WorkspaceSettings> {
    const row = await this.db.selectFrom('settings').selectAll().where('workspace_id', '=', workspaceId).executeTakeFirst();
    if (!row) {
      return { allowedDestinations: [...defaultAllowedDestinations], allowedCallbackHosts: [], allowPrivateCallbacks: false, dailySpendLimitCents: null, softphoneRoutingUrl: null };
    }
    return {
      allowedDestinations: JSON.parse(row.allowed_destinations) as string[],
      allowedCallbackHosts: JSON.parse(row.allowed_callback_hosts) as string[],
      allowPrivateCallbacks: Number(row.allow_private_callbacks) === 1,
      dailySpendLimitCents: row.daily_spend_limit_cents === null ? null : Number(row.daily_spend_limit_cents),
      softphoneRoutingUrl: row.softphone_routing_url ?? null,
    };
  }

  async update(workspaceId: string, patch: Partial<WorkspaceSettings>, now: Date): Promise<WorkspaceSettings> {
    const current = await this.get(workspaceId);
    const next = { ...current, ...patch };
    this.cache.drop(`settings:${workspaceId}`);
    await this.db.insertInto('settings').values({
      workspace_id: workspaceId, allowed_destinations: JSON.stringify(next.allowedDestinations),
      allowed_callback_hosts: JSON.stringify(next.allowedCallbackHosts), allow_private_callbacks: next.allowPrivateCallbacks ? 1 : 0,
      daily_spend_limit_cents: next.dailySpendLimitCents, softphone_routing_url: next.softphoneRoutingUrl, updated_at: now.toISOString(),
    }).onConflict((oc) => oc.column('workspace_id').doUpdateSet({
      allowed_destinations: JSON.stringify(next.allowedDestinations), allowed_callback_hosts: JSON.stringify(next.allowedCallbackHosts),
      allow_private_callbacks: next.allowPrivateCallbacks ? 1 : 0, daily_spend_limit_cents: next.dailySpendLimitCents,
      softphone_routing_url: next.softphoneRoutingUrl, updated_at: now.toISOString(),
    })).execute();
    this.cache.drop(`settings:${workspaceId}`);
    return next;
  }
}
