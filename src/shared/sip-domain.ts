/**
 * Each workspace has its own SIP domain, `<workspace id>.<parent>` (with the
 * id's `_` as `-`, since host names cannot hold `_`). Softphones register as
 * users of it, so the same username can live in two workspaces.
 */
export function workspaceSipDomain(workspaceId: string, parent: string): string {
  return `${workspaceId.replace(/_/g, '-').toLowerCase()}.${parent}`;
}

/** The workspace id a SIP domain belongs to, if it is one of ours. */
export function workspaceOfSipDomain(domain: string, parent: string): string | undefined {
  const host = domain.toLowerCase();
  if (!host.endsWith(`.${parent}`)) return undefined;
  const label = host.slice(0, -parent.length - 1);
  const m = /^([a-z]+)-([a-z0-9]+)$/.exec(label);
  return m ? `${m[1]}_${m[2]}` : undefined;
}
