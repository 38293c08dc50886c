import type { ParticipantView } from '../api-types.js';
import { outcomeOf, type ConsoleRequest, type ConsoleRoutes } from '../console-routes.js';
import { seg, when } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { actionButton, table } from '../layout.js';

interface RoomView {
  name: string;
  status: string;
  created_at: string;
  participant_count: number;
  recording: boolean;
}

async function participantRows(c: ConsoleRequest): Promise<SafeHtml> {
  const name = seg(c.params['name']!);
  const answer = await c.api.request<ParticipantView[]>('GET', `/v1/conferences/${name}/participants`);
  const people = answer.status === 200 ? answer.body : [];
  if (people.length === 0) return html`<tr><td colspan="5">Nobody is in the room.</td></tr>`;
  const base = `/console/conferences/${name}/participants`;
  return html`${people.map((p) => html`<tr data-call="${p.call_id}"><td><a href="/console/calls/${p.call_id}">${p.call_id}</a></td><td>${p.caller}</td><td>${when(p.joined_at)}</td>
<td class="state">${p.muted ? 'muted' : 'speaking'}${p.hold ? ', on hold' : ''}</td>
<td>${actionButton(c.session, `${base}/${p.call_id}`, p.muted ? `Unmute ${p.caller}` : `Mute ${p.caller}`, { muted: String(!p.muted) })}
${actionButton(c.session, `${base}/${p.call_id}`, p.hold ? `Resume ${p.caller}` : `Hold ${p.caller}`, { hold: String(!p.hold) })}
${actionButton(c.session, `${base}/${p.call_id}/kick`, `Kick ${p.caller}`, {}, `Remove ${p.caller} from the conference? Their call is hung up.`)}</td></tr>`)}`;
}

export function registerConferencePages(routes: ConsoleRoutes): void {
  routes.page('/console/conferences', 'workspace', async (c) => {
    const rooms = await c.api.get<RoomView[]>('/v1/conferences?status=active');
    const rows = rooms.map((r) => html`<tr><td><a href="/console/conferences/${seg(r.name)}">${r.name}</a></td><td>${r.status}</td><td>${r.participant_count}</td><td>${when(r.created_at)}</td><td>${r.recording ? 'yes' : 'no'}</td></tr>`);
    return { title: 'Conferences', body: table('Active rooms', ['Room', 'Status', 'Participants', 'Created', 'Recording'], rows, 'No active conferences.') };
  });

  routes.page('/console/conferences/:name', 'workspace', async (c) => {
    const name = c.params['name']!;
    const room = await c.api.get<RoomView>(`/v1/conferences/${seg(name)}`);
    return {
      title: `Conference ${room.name}`, current: '/console/conferences',
      body: html`<p>Status: ${room.status}. Recording: ${room.recording ? 'yes' : 'no'}.</p>
${table('Participants; updates live', ['Call', 'Caller', 'Joined', 'State', 'Control'], [await participantRows(c)], '', html`data-live="/console/live/conferences/${seg(name)}" aria-live="polite"`)}
${room.status === 'active' ? actionButton(c.session, `/console/conferences/${seg(name)}/end`, 'End the conference', {}, 'End the conference for everyone?') : ''}`,
    };
  });
  routes.live('/console/live/conferences/:name', participantRows);

  routes.action('/console/conferences/:name/participants/:callId', async (c) => {
    const name = seg(c.params['name']!);
    const body: Record<string, boolean> = {};
    if (c.form['muted']) body['muted'] = c.form['muted'] === 'true';
    if (c.form['hold']) body['hold'] = c.form['hold'] === 'true';
    const answer = await c.api.request('PATCH', `/v1/conferences/${name}/participants/${seg(c.params['callId']!)}`, body);
    return outcomeOf(answer, `/console/conferences/${name}`, 'Done.');
  });
  routes.action('/console/conferences/:name/participants/:callId/kick', async (c) => {
    const name = seg(c.params['name']!);
    return outcomeOf(await c.api.request('DELETE', `/v1/conferences/${name}/participants/${seg(c.params['callId']!)}`), `/console/conferences/${name}`, 'Removed.');
  });
  routes.action('/console/conferences/:name/end', async (c) => {
    return outcomeOf(await c.api.request('POST', `/v1/conferences/${seg(c.params['name']!)}/end`), '/console/conferences', 'Conference ended.');
  });
}
