import type { NumberView } from '../api-types.js';
import { outcomeOf, type ConsoleRoutes } from '../console-routes.js';
import { orDash, seg, select } from '../format.js';
import { html } from '../html.js';
import { actionButton, csrfField, field, table } from '../layout.js';

const urlFields = [['routing_url', 'Routing URL'], ['status_url', 'Status URL'], ['fallback_url', 'Fallback URL'], ['friendly_name', 'Friendly name']] as const;

export function registerNumberPages(routes: ConsoleRoutes): void {
  routes.page('/console/numbers', 'workspace', async (c) => {
    const numbers = await c.api.get<NumberView[]>('/v1/numbers');
    const available = await c.api.get<Array<{ number: string }>>('/v1/numbers/available?limit=50');
    const rows = numbers.map((n) => html`<tr><td><a href="/console/numbers/${seg(n.id)}">${n.number}</a></td><td>${orDash(n.friendly_name)}</td><td>${orDash(n.routing_url)}</td><td>${orDash(n.status_url)}</td><td>${orDash(n.fallback_url)}</td>
<td>${actionButton(c.session, `/console/numbers/${seg(n.id)}/release`, 'Release', {}, `Release ${n.number}? Calls to it will no longer reach you.`)}</td></tr>`);
    return {
      title: 'Numbers',
      body: html`${table('Your numbers', ['Number', 'Name', 'Routing URL', 'Status URL', 'Fallback URL', ''], rows, 'No numbers yet: claim one below.')}
<h2>Claim a number</h2>
${available.length === 0 ? html`<p>The inventory has no free numbers; the operator adds them.</p>` : html`<form method="post" action="/console/numbers" class="row">${csrfField(c.session)}
${select('Number', 'number', available.map((a): [string, string] => [a.number, a.number]), undefined)}
${field('Routing URL', 'routing_url', '', html`type="url" placeholder="https://example.com/voice"`)}
<button type="submit">Claim</button></form>`}`,
    };
  });
  routes.action('/console/numbers', async (c) => {
    const body: Record<string, string> = { number: c.form['number'] ?? '' };
    if (c.form['routing_url']) body['routing_url'] = c.form['routing_url'];
    return outcomeOf(await c.api.request('POST', '/v1/numbers', body), '/console/numbers', `Claimed ${body['number']}.`);
  });
  routes.action('/console/numbers/:id/release', async (c) => {
    return outcomeOf(await c.api.request('DELETE', `/v1/numbers/${seg(c.params['id']!)}`), '/console/numbers', 'Released.');
  });

  routes.page('/console/numbers/:id', 'workspace', async (c) => {
    const n = await c.api.get<NumberView>(`/v1/numbers/${seg(c.params['id']!)}`);
    return {
      title: `Number ${n.number}`, current: '/console/numbers',
      body: html`<form method="post" action="/console/numbers/${seg(n.id)}">${csrfField(c.session)}
${urlFields.map(([name, label]) => field(label, name, n[name], name === 'friendly_name' ? html`type="text"` : html`type="url"`))}
<p>An empty URL field clears it.</p>
<button type="submit">Save</button></form>
<p><a href="/console/calls?number_id=${seg(n.id)}">Calls on this number</a></p>`,
    };
  });
  routes.action('/console/numbers/:id', async (c) => {
    const id = seg(c.params['id']!);
    const body: Record<string, string | null> = {};
    for (const [name] of urlFields) if (name in c.form) body[name] = c.form[name]!.trim() || null;
    return outcomeOf(await c.api.request('PATCH', `/v1/numbers/${id}`, body), `/console/numbers/${id}`, 'Saved.');
  });
}
