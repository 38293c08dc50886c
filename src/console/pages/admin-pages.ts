import { outcomeOf, type ConsoleRoutes } from '../console-routes.js';
import { orDash, seg, when } from '../format.js';
import { html } from '../html.js';
import { actionButton, csrfField, field, table } from '../layout.js';

interface WorkspaceView { id: string; name: string; created_at: string; balance: string; reserved: string; currency: string }
interface KeyView { id: string; prefix: string; created_at: string; revoked_at: string | null }
interface TrunkView {
  id: string; name: string; host: string; port: number; transport: string; prefixes: string[]; priority: number;
  registration?: StatusView | null; health?: StatusView | null;
}
interface StatusView { status?: string; [field: string]: unknown }
interface InventoryView { number: string; type: string; claimed: boolean }
interface RateView { category: string; prefix: string; description: string; rate_per_minute: string; currency: string }

/** A trunk's registration or health (`{status, …}`) as one line: the status, then the fields that have a value. */
function statusText(value: StatusView | null | undefined): string {
  if (!value) return '—';
  const rest = Object.entries(value).filter(([k, v]) => k !== 'status' && v !== null && typeof v !== 'object').map(([k, v]) => `${k.replace(/_/g, ' ')} ${String(v)}`);
  return [value.status ?? 'unknown', ...rest].join(', ');
}

/** The operator's pages: workspaces and credits and keys, trunks with registration and health, number inventory, rates. */
export function registerAdminPages(routes: ConsoleRoutes): void {
  routes.page('/console/admin/workspaces', 'admin', async (c) => {
    const workspaces = await c.api.get<WorkspaceView[]>('/v1/admin/workspaces');
    const rows = workspaces.map((w) => html`<tr><td><a href="/console/admin/workspaces/${seg(w.id)}">${w.name}</a></td><td><code>${w.id}</code></td><td>${w.balance} ${w.currency}</td><td>${w.reserved}</td><td>${when(w.created_at)}</td></tr>`);
    return {
      title: 'Workspaces',
      body: html`${table('All workspaces', ['Name', 'Id', 'Balance', 'Reserved', 'Created'], rows, 'No workspaces.')}
<h2>New workspace</h2><form method="post" action="/console/admin/workspaces" class="row">${csrfField(c.session)}${field('Name', 'name', '', html`required`)}<button type="submit">Create</button></form>`,
    };
  });
  routes.action('/console/admin/workspaces', async (c) => {
    const answer = await c.api.request<{ id?: string; api_key?: string }>('POST', '/v1/admin/workspaces', { name: c.form['name'] ?? '' });
    return outcomeOf(answer, answer.body?.id ? `/console/admin/workspaces/${seg(answer.body.id)}` : '/console/admin/workspaces', `Created. Its API key, shown once: ${answer.body?.api_key ?? ''}`);
  });

  routes.page('/console/admin/workspaces/:id', 'admin', async (c) => {
    const id = c.params['id']!;
    const workspace = (await c.api.get<WorkspaceView[]>('/v1/admin/workspaces')).find((w) => w.id === id);
    const keys = await c.api.get<KeyView[]>(`/v1/admin/workspaces/${seg(id)}/keys`);
    const rows = keys.map((k) => html`<tr><td><code>${k.prefix}…</code></td><td>${when(k.created_at)}</td><td>${k.revoked_at ? `revoked ${when(k.revoked_at)}` : 'active'}</td>
<td>${k.revoked_at ? '' : actionButton(c.session, `/console/admin/workspaces/${seg(id)}/keys/${seg(k.id)}/revoke`, 'Revoke', {}, 'Revoke this key at once?')}</td></tr>`);
    return {
      title: `Workspace ${workspace?.name ?? id}`, current: '/console/admin/workspaces',
      body: html`<p>Balance: ${workspace ? `${workspace.balance} ${workspace.currency}` : '—'}</p>
<h2>Add credit</h2><form method="post" action="/console/admin/workspaces/${seg(id)}/credits" class="row">${csrfField(c.session)}
${field('Amount (KES)', 'amount', '', html`required inputmode="decimal" placeholder="500.00"`)}${field('Reference', 'reference', '', html`required`)}<button type="submit">Credit</button></form>
<h2>API keys</h2>${table('Keys are stored hashed; only their first characters are shown', ['Key', 'Created', 'State', ''], rows, 'No keys.')}
${actionButton(c.session, `/console/admin/workspaces/${seg(id)}/keys`, 'Create a key')}`,
    };
  });
  routes.action('/console/admin/workspaces/:id/credits', async (c) => {
    const id = seg(c.params['id']!);
    return outcomeOf(await c.api.request('POST', `/v1/admin/workspaces/${id}/credits`, { amount: c.form['amount'] ?? '', reference: c.form['reference'] ?? '' }), `/console/admin/workspaces/${id}`, 'Credited.');
  });
  routes.action('/console/admin/workspaces/:id/keys', async (c) => {
    const id = seg(c.params['id']!);
    const answer = await c.api.request<{ key?: string }>('POST', `/v1/admin/workspaces/${id}/keys`);
    return outcomeOf(answer, `/console/admin/workspaces/${id}`, `Created. The key, shown once: ${answer.body?.key ?? ''}`);
  });
  routes.action('/console/admin/workspaces/:id/keys/:key/revoke', async (c) => {
    return outcomeOf(await c.api.request('DELETE', `/v1/admin/keys/${seg(c.params['key']!)}`), `/console/admin/workspaces/${seg(c.params['id']!)}`, 'Revoked.');
  });

  routes.page('/console/admin/trunks', 'admin', async (c) => {
    const trunks = await c.api.get<TrunkView[]>('/v1/admin/trunks');
    const rows = trunks.map((t) => html`<tr><td>${t.name}</td><td>${t.transport}:${t.host}:${t.port}</td><td>${t.prefixes.join(', ')}</td><td>${t.priority}</td><td>${statusText(t.registration)}</td><td>${statusText(t.health)}</td></tr>`);
    return { title: 'Trunks', body: html`${table('Carriers: registration and OPTIONS health as this node sees them', ['Name', 'Address', 'Prefixes', 'Priority', 'Registration', 'Health'], rows, 'No trunks: outbound calls reach the sandbox.')}
<p>Trunks are added and changed with <code>POST/PATCH /v1/admin/trunks</code> (docs/softphones.md).</p>` };
  });

  routes.page('/console/admin/numbers', 'admin', async (c) => {
    const inventory = await c.api.get<InventoryView[]>('/v1/admin/numbers?limit=1000');
    const rows = inventory.map((n) => html`<tr><td>${n.number}</td><td>${n.type}</td><td>${n.claimed ? 'claimed' : 'free'}</td></tr>`);
    return {
      title: 'Number inventory',
      body: html`<h2>Add numbers</h2><form method="post" action="/console/admin/numbers">${csrfField(c.session)}
<p class="field"><label for="f-numbers">Numbers (one a line, E.164)</label><textarea id="f-numbers" name="numbers" required></textarea></p><button type="submit">Add</button></form>
${table('Numbers workspaces can claim', ['Number', 'Type', 'State'], rows, 'The inventory is empty.')}`,
    };
  });
  routes.action('/console/admin/numbers', async (c) => {
    const numbers = (c.form['numbers'] ?? '').split(/\s+/).filter(Boolean);
    const answer = await c.api.request<{ added?: number }>('POST', '/v1/admin/numbers', { numbers });
    return outcomeOf(answer, '/console/admin/numbers', `Added ${answer.body?.added ?? 0}.`);
  });

  routes.page('/console/admin/rates', 'admin', async (c) => {
    const rates = await c.api.get<RateView[]>('/v1/admin/rates');
    const rows = rates.map((r) => html`<tr><td>${r.category}</td><td>${orDash(r.prefix)}</td><td>${r.description}</td><td>${r.rate_per_minute} ${r.currency}</td></tr>`);
    const editable = rates.map(({ category, prefix, description, rate_per_minute }) => ({ category, prefix, description, rate_per_minute }));
    return {
      title: 'Rates',
      body: html`${table('Per minute, charged per second', ['Category', 'Prefix', 'Description', 'Rate'], rows, 'No rates.')}
<h2>Replace the rate table</h2><form method="post" action="/console/admin/rates">${csrfField(c.session)}
<p class="field"><label for="f-rates">Rates (JSON, as PUT /v1/admin/rates takes them)</label><textarea id="f-rates" name="rates" rows="12">${JSON.stringify(editable, null, 2)}</textarea></p>
<button type="submit">Save the rates</button></form>`,
    };
  });
  routes.action('/console/admin/rates', async (c) => {
    let rates: unknown;
    try {
      rates = JSON.parse(c.form['rates'] ?? '');
    } catch {
      return { redirect: '/console/admin/rates', error: 'The rates are not valid JSON.' };
    }
    return outcomeOf(await c.api.request('PUT', '/v1/admin/rates', { rates }), '/console/admin/rates', 'Rates saved.');
  });
}
