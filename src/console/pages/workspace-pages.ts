import { outcomeOf, type ConsoleRoutes } from '../console-routes.js';
import { orDash, seg, when } from '../format.js';
import { html } from '../html.js';
import { actionButton, csrfField, field, table } from '../layout.js';

interface RecordingView { id: string; call_id: string | null; conference: string | null; duration_seconds: number; created_at: string }
interface WebhookView { id: string; url: string; events: string[]; created_at: string }
interface DeliveryView {
  id: string; type: string; url: string; status: string; attempts: number; next_attempt_at: string | null; last_error: string | null; created_at: string;
  attempt_log: Array<{ attempt: number; status_code: number | null; latency_ms: number; error: string | null; at: string }>;
}
interface SipCredentialView { id: string; username: string; aor: string; registered: boolean; registrar: string; routing_url: string | null; caller_id: string | null }
interface SettingsView {
  allowed_destinations: string[]; allowed_callback_hosts: string[]; allow_private_callbacks: boolean; daily_spend_limit: string | null;
  softphone_routing_url?: string | null;
}

/** One entry a line (textarea lists). */
function lines(text: string | undefined): string[] {
  return (text ?? '').split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
}

/** Recordings, webhooks and deliveries, SIP credentials, API keys and settings. */
export function registerWorkspacePages(routes: ConsoleRoutes): void {
  routes.page('/console/recordings', 'workspace', async (c) => {
    const recordings = await c.api.get<RecordingView[]>('/v1/recordings');
    const rows = recordings.map((r) => html`<tr><td>${when(r.created_at)}</td><td>${r.call_id ? html`<a href="/console/calls/${r.call_id}">${r.call_id}</a>` : orDash(r.conference)}</td><td>${r.duration_seconds} s</td>
<td><audio controls preload="none" src="/console/recordings/${seg(r.id)}/audio" aria-label="Recording ${r.id}"></audio></td>
<td>${actionButton(c.session, `/console/recordings/${seg(r.id)}/delete`, 'Delete', {}, 'Delete this recording?')}</td></tr>`);
    return { title: 'Recordings', body: table('Newest first', ['Made', 'Call or room', 'Length', 'Listen', ''], rows, 'No recordings yet.') };
  });
  routes.action('/console/recordings/:id/delete', async (c) => outcomeOf(await c.api.request('DELETE', `/v1/recordings/${seg(c.params['id']!)}`), '/console/recordings', 'Deleted.'));

  routes.page('/console/webhooks', 'workspace', async (c) => {
    const hooks = await c.api.get<WebhookView[]>('/v1/webhooks');
    const rows = hooks.map((h) => html`<tr><td><a href="/console/webhooks/${seg(h.id)}">${h.url}</a></td><td>${h.events.join(', ')}</td><td>${when(h.created_at)}</td>
<td>${actionButton(c.session, `/console/webhooks/${seg(h.id)}/delete`, 'Delete', {}, `Stop sending events to ${h.url}?`)}</td></tr>`);
    return {
      title: 'Webhooks',
      body: html`${table('Endpoints; open one for its deliveries', ['URL', 'Events', 'Created', ''], rows, 'No endpoints yet.')}
<h2>Add an endpoint</h2><form method="post" action="/console/webhooks" class="row">${csrfField(c.session)}
${field('URL', 'url', '', html`type="url" required`)}${field('Events (comma-separated, * for all)', 'events', '*')}<button type="submit">Add</button></form>`,
    };
  });
  routes.action('/console/webhooks', async (c) => {
    const answer = await c.api.request<{ secret?: string }>('POST', '/v1/webhooks', { url: c.form['url'] ?? '', events: lines(c.form['events']) });
    return outcomeOf(answer, '/console/webhooks', `Added. Its signing secret, shown once: ${answer.body?.secret ?? ''}`);
  });
  routes.action('/console/webhooks/:id/delete', async (c) => outcomeOf(await c.api.request('DELETE', `/v1/webhooks/${seg(c.params['id']!)}`), '/console/webhooks', 'Deleted.'));

  routes.page('/console/webhooks/:id', 'workspace', async (c) => {
    const id = c.params['id']!;
    const deliveries = await c.api.get<DeliveryView[]>(`/v1/webhooks/${seg(id)}/deliveries?limit=100`);
    const rows = deliveries.map((d) => html`<tr><td>${when(d.created_at)}</td><td>${d.type}</td><td>${d.status}</td><td>${d.attempts}</td>
<td>${d.last_error ? html`<details><summary>${d.last_error.slice(0, 60)}</summary><pre>${d.attempt_log.map((a) => `#${a.attempt} ${a.at} ${a.status_code ?? '-'} ${a.latency_ms} ms ${a.error ?? ''}\n`).join('')}</pre></details>` : '—'}</td>
<td>${d.status === 'failed' ? actionButton(c.session, `/console/webhooks/${seg(id)}/deliveries/${seg(d.id)}/retry`, 'Retry') : ''}</td></tr>`);
    return { title: 'Deliveries', current: '/console/webhooks', body: table(`Events sent to endpoint ${id}, newest first`, ['Created', 'Event', 'Status', 'Attempts', 'Last error', ''], rows, 'Nothing delivered yet.') };
  });
  routes.action('/console/webhooks/:id/deliveries/:delivery/retry', async (c) => {
    const answer = await c.api.request('POST', `/v1/webhooks/deliveries/${seg(c.params['delivery']!)}/retry`);
    return outcomeOf(answer, `/console/webhooks/${seg(c.params['id']!)}`, 'Retry queued.');
  });

  routes.page('/console/sip', 'workspace', async (c) => {
    const creds = await c.api.get<SipCredentialView[]>('/v1/sip/credentials');
    const rows = creds.map((s) => html`<tr><td>${s.aor}</td><td>${s.registered ? 'registered' : 'not registered'}</td><td>${orDash(s.routing_url)}</td><td>${orDash(s.caller_id)}</td>
<td>${actionButton(c.session, `/console/sip/${seg(s.id)}/delete`, 'Delete', {}, `Delete ${s.username}? Its phone can no longer register.`)}</td></tr>`);
    return {
      title: 'SIP credentials',
      body: html`<p>Softphones register at <code>${creds[0]?.registrar ?? 'the server\'s SIP address'}</code> as <code>sip:USERNAME@your-domain</code>.</p>
${table('Credentials and who is registered now', ['Address', 'Registration', 'Routing URL', 'Caller ID', ''], rows, 'No SIP credentials yet.')}
<h2>Add a credential</h2><form method="post" action="/console/sip" class="row">${csrfField(c.session)}
${field('User name', 'username', '', html`required autocomplete="off"`)}${field('Password', 'password', '', html`type="password" required autocomplete="new-password"`)}<button type="submit">Add</button></form>`,
    };
  });
  routes.action('/console/sip', async (c) => outcomeOf(await c.api.request('POST', '/v1/sip/credentials', { username: c.form['username'] ?? '', password: c.form['password'] ?? '' }), '/console/sip', 'Added.'));
  routes.action('/console/sip/:id/delete', async (c) => outcomeOf(await c.api.request('DELETE', `/v1/sip/credentials/${seg(c.params['id']!)}`), '/console/sip', 'Deleted.'));

  routes.page('/console/keys', 'workspace', async (c) => ({
    title: 'API keys',
    body: html`<p>You are signed in with the workspace key whose fingerprint is <code>#${c.session.keyHint}</code>. Keys are shown once, when made, and stored hashed: the operator creates and revokes a workspace's keys (admin console, Workspaces).</p>
<p>Send a key as <code>Authorization: Bearer KEY</code>, or <code>curl -u KEY:</code>.</p>`,
  }));

  routes.page('/console/settings', 'workspace', async (c) => {
    const s = await c.api.get<SettingsView>('/v1/settings');
    return {
      title: 'Settings',
      body: html`<form method="post" action="/console/settings">${csrfField(c.session)}
<p class="field"><label for="f-dest">Allowed destinations (one a line: E.164 prefixes, sip: patterns)</label><textarea id="f-dest" name="allowed_destinations">${s.allowed_destinations.join('\n')}</textarea></p>
<p class="field"><label for="f-hosts">Allowed callback hosts (one a line; empty: any public host)</label><textarea id="f-hosts" name="allowed_callback_hosts">${s.allowed_callback_hosts.join('\n')}</textarea></p>
<p><input type="checkbox" id="f-private" name="allow_private_callbacks" value="true"${s.allow_private_callbacks ? html` checked` : ''}> <label for="f-private">Allow private and loopback callback addresses</label></p>
${field('Daily spend limit (KES, empty: none)', 'daily_spend_limit', s.daily_spend_limit ?? '', html`inputmode="decimal"`)}
${field('Softphone routing URL (calls placed by softphones without their own; empty: direct routing)', 'softphone_routing_url', s.softphone_routing_url ?? '', html`type="url"`)}
<button type="submit">Save</button></form>`,
    };
  });
  routes.action('/console/settings', async (c) => {
    const limit = c.form['daily_spend_limit']?.trim();
    const answer = await c.api.request('PATCH', '/v1/settings', {
      allowed_destinations: lines(c.form['allowed_destinations']), allowed_callback_hosts: lines(c.form['allowed_callback_hosts']),
      allow_private_callbacks: c.form['allow_private_callbacks'] === 'true', daily_spend_limit: limit ? limit : null,
      softphone_routing_url: c.form['softphone_routing_url']?.trim() || null,
    });
    return outcomeOf(answer, '/console/settings', 'Saved.');
  });
}
