import type { CallView, NumberView, ParticipantView, TimelineEntryView } from '../api-types.js';
import type { ConsoleApi } from '../console-api.js';
import { outcomeOf, type ConsoleRequest, type ConsoleRoutes } from '../console-routes.js';
import { orDash, prettyBody, queryOf, select, seg, when } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { actionButton, field, table } from '../layout.js';
import { callHeaders, callRows } from './call-rows.js';
import { registerMediaProxy } from './media-proxy.js';

const statuses = ['', 'queued', 'initiated', 'ringing', 'in-progress', 'completed', 'busy', 'no-answer', 'failed', 'canceled'];

/** The calls list's filters as API query parameters: a date is that UTC day. */
function listQuery(q: Record<string, string>): string {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(q['date'] ?? '') ? q['date']! : undefined;
  const next = day ? new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString() : undefined;
  return queryOf({
    limit: '100', status: q['status'], direction: q['direction'], number_id: q['number_id'],
    since: day ? `${day}T00:00:00.000Z` : undefined, until: next,
  });
}

async function callsTable(c: ConsoleRequest): Promise<SafeHtml> {
  const calls = await c.api.get<CallView[]>(`/v1/calls${listQuery(c.query)}`);
  return callRows(calls, 'No calls match.');
}

/** The timeline, read through the API (`GET /v1/calls/{id}/timeline`); a server without it shows "no timeline". */
async function timelineOf(api: ConsoleApi, id: string): Promise<TimelineEntryView[] | undefined> {
  const answer = await api.request<{ data?: TimelineEntryView[] } | TimelineEntryView[]>('GET', `/v1/calls/${seg(id)}/timeline`);
  if (answer.status !== 200) return undefined;
  return Array.isArray(answer.body) ? answer.body : answer.body.data ?? [];
}

function timelineEntry(e: TimelineEntryView): SafeHtml {
  const { at, type, body, ...rest } = e;
  const summary = Object.entries(rest).filter(([, v]) => v !== null && typeof v !== 'object').map(([k, v]) => `${k}=${String(v)}`).join(' ');
  const nested = Object.entries(rest).filter(([, v]) => v !== null && typeof v === 'object');
  return html`<li class="t-${type.replace(/\W/g, '-')}"><strong>${type}</strong> <time datetime="${at}">${when(at)}</time> <span>${summary}</span>
${body !== undefined ? html`<details${type === 'webhook.response' ? html` open` : ''}><summary>${type === 'webhook.request' ? 'Request body' : 'Response body'}</summary><pre>${prettyBody(body)}</pre></details>` : ''}
${nested.map(([k, v]) => html`<details><summary>${k}</summary><pre>${JSON.stringify(v, null, 2)}</pre></details>`)}</li>`;
}

/** The call's place in its conference, read live from the room (muted, on hold). */
async function conferencePart(api: ConsoleApi, call: CallView): Promise<SafeHtml> {
  if (!call.conference) return html``;
  const answer = await api.request<ParticipantView[]>('GET', `/v1/conferences/${seg(call.conference)}/participants`);
  const me = answer.status === 200 ? answer.body.find((p) => p.call_id === call.id) : undefined;
  return html`<h2>Conference</h2><p>In <a href="/console/conferences/${seg(call.conference)}">${call.conference}</a>:
${me ? html`<span data-testid="participant-state">${me.muted ? 'muted' : 'not muted'}, ${me.hold ? 'on hold' : 'not on hold'}</span>` : 'not in the room now'}</p>`;
}

export function registerCallPages(routes: ConsoleRoutes): void {
  routes.page('/console/calls', 'workspace', async (c) => {
    const numbers = await c.api.get<NumberView[]>('/v1/numbers');
    const q = c.query;
    const filters = html`<form method="get" action="/console/calls" class="row">
${select('Status', 'status', statuses.map((s) => [s, s || 'any']), q['status'])}
${select('Direction', 'direction', [['', 'any'], ['inbound', 'inbound'], ['outbound', 'outbound']], q['direction'])}
${select('Number', 'number_id', [['', 'any'], ...numbers.map((n): [string, string] => [n.id, n.number])], q['number_id'])}
${field('Date (UTC)', 'date', q['date'], html`type="date"`)}
<button type="submit">Filter</button></form>`;
    const live = html`data-live="/console/live/calls${queryOf(q)}" aria-live="polite"`;
    return { title: 'Calls', body: html`${filters}${table('Newest first; updates live', callHeaders, [await callsTable(c)], '', live)}` };
  });
  routes.live('/console/live/calls', callsTable);

  routes.page('/console/calls/:id', 'workspace', async (c) => {
    const id = c.params['id']!;
    const call = await c.api.get<CallView>(`/v1/calls/${seg(id)}`);
    const timeline = await timelineOf(c.api, id);
    const cdr: Array<[string, unknown]> = [
      ['Status', call.status], ['Direction', call.direction], ['From', call.from], ['To', call.to], ['Parent call', call.parent_call_id],
      ['Conference', call.conference], ['Created', when(call.created_at)], ['Ringing', when(call.ringing_at)], ['Answered', when(call.answered_at)],
      ['Ended', when(call.ended_at)], ['Ring time', call.ring_seconds === null ? null : `${call.ring_seconds} s`],
      ['Duration', call.duration_seconds === null ? null : `${call.duration_seconds} s`], ['Hang-up cause', call.hangup_cause],
      ['Hung up by', call.hangup_by], ['Rate per minute', call.rate_per_minute && `${call.rate_per_minute} ${call.currency}`],
      ['Price', call.price && `${call.price} ${call.currency}`],
    ];
    const live = call.ended_at === null;
    return {
      title: `Call ${call.id}`, current: '/console/calls',
      body: html`<dl class="cdr" data-testid="cdr">${cdr.map(([k, v]) => html`<dt>${k}</dt><dd>${orDash(v)}</dd>`)}</dl>
${live ? actionButton(c.session, `/console/calls/${seg(call.id)}/hangup`, 'Hang up', {}, 'Hang up this call?') : ''}
${call.recording ? html`<h2>Recording</h2><audio controls preload="none" src="/console/calls/${seg(call.id)}/recording" aria-label="Recording of the call"></audio>` : ''}
${await conferencePart(c.api, call)}
${call.errors?.length ? html`<h2>Errors</h2><ul>${call.errors.map((e) => html`<li><code>${e.code}</code> ${when(e.timestamp)} ${e.message ?? ''}</li>`)}</ul>` : ''}
<h2>Timeline</h2>
${timeline === undefined ? html`<p>No timeline on this server.</p>` : timeline.length === 0 ? html`<p>No timeline entries yet.</p>` : html`<ol class="timeline" data-testid="timeline">${timeline.map(timelineEntry)}</ol>`}`,
    };
  });

  routes.action('/console/calls/:id/hangup', async (c) => {
    const id = c.params['id']!;
    const answer = await c.api.request('PATCH', `/v1/calls/${seg(id)}`, { status: 'completed' });
    return outcomeOf(answer, `/console/calls/${seg(id)}`, 'Hung up.');
  });
  registerMediaProxy(routes, '/console/calls/:id/recording', (p) => `/v1/calls/${seg(p['id']!)}/recording`);
  registerMediaProxy(routes, '/console/recordings/:id/audio', (p) => `/v1/recordings/${seg(p['id']!)}/audio`);
}
