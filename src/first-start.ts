import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from './config/config.js';
import { defaultRates } from './billing/default-rates.js';
import { Wallet } from './billing/wallet.js';
import type { Clock } from './shared/clock.js';
import { provisionWorkspace } from './store/provision-workspace.js';
import type { Store } from './store/store.js';

export interface FirstStartCredentials {
  admin_key: string;
  workspace_id: string;
  api_key: string;
  signing_secret: string;
}

/**
 * Numbers the product pages place calls from that the reader is not told to
 * claim: the first workspace owns them from the first start, so a page's
 * sample works when pasted (the AI page calls from +254711000001 and
 * configures its routing_url). +254700000001, the other pages' caller ID, is
 * the one the quick start claims.
 */
export const firstWorkspaceNumbers = ['+254711000001'] as const;

/** Sandbox inventory: mobile numbers +254700000001…099, the first workspace's page numbers and a few Nairobi landlines. */
export function sandboxInventory(): Array<{ number: string; kind: 'mobile' | 'landline' }> {
  const mobiles = Array.from({ length: 99 }, (_, i) => ({ number: `+254700000${String(i + 1).padStart(3, '0')}`, kind: 'mobile' as const }));
  const pageNumbers = firstWorkspaceNumbers.map((number) => ({ number, kind: 'mobile' as const }));
  const landlines = Array.from({ length: 5 }, (_, i) => ({ number: `+25420000000${i + 1}`, kind: 'landline' as const }));
  return [...mobiles, ...pageNumbers, ...landlines];
}

/**
 * Runs once per installation (SPEC §12): an admin key, a first workspace with
 * an API key and a sandbox balance, the sandbox number inventory and the
 * default rates; writes `<data>/credentials.json`. Answers the credentials on
 * the first start and undefined afterwards.
 */
export async function runFirstStart(store: Store, config: Config, clock: Clock): Promise<FirstStartCredentials | undefined> {
  if (await store.systemState.get('initialized_at')) return undefined;
  const now = clock.now();
  if ((await store.rates.count()) === 0) await store.rates.replaceAll(defaultRates, now);
  await store.numbers.addToInventory(sandboxInventory(), now);
  const admin = await store.apiKeys.create({ kind: 'admin', workspaceId: null, now, ...(config.adminKey ? { key: config.adminKey } : {}) });
  const { workspace, apiKey } = await provisionWorkspace(store, {
    name: 'Default workspace', allowPrivateCallbacks: config.environment === 'development', now, ...(config.apiKey ? { apiKey: config.apiKey } : {}),
  });
  for (const number of firstWorkspaceNumbers) await store.numbers.claim({ workspaceId: workspace.id, number, urls: {}, now });
  if (config.initialCreditCents > 0) {
    await new Wallet(store).credit({ workspaceId: workspace.id, amountCents: config.initialCreditCents, reference: 'sandbox balance', now, postingKey: `first-start:${workspace.id}` });
  }
  const credentials: FirstStartCredentials = { admin_key: admin.key, workspace_id: workspace.id, api_key: apiKey, signing_secret: workspace.signingSecret };
  await mkdir(config.dataDir, { recursive: true });
  // Keys in clear: readable by the owner only.
  await writeFile(path.join(config.dataDir, 'credentials.json'), `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  await store.systemState.set('initialized_at', now.toISOString());
  return credentials;
}
