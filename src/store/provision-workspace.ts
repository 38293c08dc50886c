import type { Repos, Store } from './store.js';
import type { Workspace } from './repos/workspace-repo.js';

/**
 * Creates a workspace with its settings and a first API key, in one
 * transaction. The clear key is answered once and never stored.
 */
export async function provisionWorkspace(store: Store, input: { name: string; allowPrivateCallbacks: boolean; apiKey?: string; now: Date }): Promise<{ workspace: Workspace; apiKey: string }> {
  return store.transaction(async (repos: Repos) => {
    const workspace = await repos.workspaces.create({ name: input.name, now: input.now });
    await repos.settings.init(workspace.id, input.allowPrivateCallbacks, input.now);
    const { key } = await repos.apiKeys.create({ kind: 'workspace', workspaceId: workspace.id, now: input.now, ...(input.apiKey ? { key: input.apiKey } : {}) });
    return { workspace, apiKey: key };
  });
}
