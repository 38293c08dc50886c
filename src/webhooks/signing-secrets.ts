import type { Repos } from '../store/store.js';

/** The secrets to sign with, newest first: the previous one too while its grace period lasts. */
export function activeSecrets(current: string, previous: string | null, previousExpiresAt: string | null, now: Date): string[] {
  return previous && previousExpiresAt && previousExpiresAt > now.toISOString() ? [current, previous] : [current];
}

/** The workspace's signing secrets (voice callbacks and status URLs). */
export async function workspaceSecrets(repos: Repos, workspaceId: string, now: Date): Promise<string[] | undefined> {
  const workspace = await repos.workspaces.get(workspaceId);
  return workspace ? activeSecrets(workspace.signingSecret, workspace.previousSigningSecret, workspace.previousSecretExpiresAt, now) : undefined;
}
