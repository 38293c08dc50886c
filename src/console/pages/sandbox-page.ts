import type { NumberView } from '../api-types.js';
import { apiErrorText } from '../console-api.js';
import type { ConsoleRequest, ConsoleRoutes } from '../console-routes.js';
import { orDash, seg, select } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField, field } from '../layout.js';
import { registerMediaProxy } from './media-proxy.js';

interface SandboxReport {
  id: string; status: string; call_id: string | null; from: string; to: string; digits_heard: string; audio_seconds_heard: number; beeps_heard: number;
  hangup_by: string | null; duration_seconds: number | null; ended_at: string | null; errors: Array<{ step: number; code: string; message: string }>;
}

/** The phone's script: wait, press the digits, then listen until the platform hangs up (or `listen` seconds pass). */
export function sandboxScript(wait: number, digits: string, listen: number): unknown[] {
  const script: unknown[] = [{ wait_for_audio: Math.max(1, wait) }, { wait }];
  if (digits) script.push({ press: digits });
  script.push({ wait: listen }, { hangup: true });
  return script;
}

async function reportPart(c: ConsoleRequest): Promise<SafeHtml> {
  const r = await c.api.get<SandboxReport>(`/v1/sandbox/calls/${seg(c.params['id']!)}`);
  return html`<dl class="cdr" data-testid="sandbox-report"><dt>Status</dt><dd>${r.status}</dd><dt>Call</dt><dd>${r.call_id ? html`<a href="/console/calls/${r.call_id}">${r.call_id}</a>` : '—'}</dd>
<dt>Audio heard</dt><dd>${r.audio_seconds_heard} s</dd><dt>Beeps heard</dt><dd>${r.beeps_heard}</dd><dt>Digits heard</dt><dd>${r.digits_heard || '(none)'}</dd>
<dt>Hung up by</dt><dd>${orDash(r.hangup_by)}</dd><dt>Duration</dt><dd>${r.duration_seconds === null ? '—' : `${r.duration_seconds} s`}</dd></dl>
${r.errors.length ? html`<ul>${r.errors.map((e) => html`<li>step ${e.step}: <code>${e.code}</code> ${e.message}</li>`)}</ul>` : ''}
${r.ended_at ? html`<h2>What the phone heard</h2><audio controls preload="metadata" src="/console/sandbox/${seg(r.id)}/audio" aria-label="What the sandbox phone heard"></audio>` : html`<p>The call is going on…</p>`}`;
}

/** The sandbox: place a test call to one of your numbers, press digits, and listen to what the phone heard. */
export function registerSandboxPage(routes: ConsoleRoutes): void {
  routes.page('/console/sandbox', 'workspace', async (c) => {
    const numbers = await c.api.get<NumberView[]>('/v1/numbers');
    return {
      title: 'Sandbox',
      body: html`<p>A phone of the built-in sandbox network calls your number, waits for your greeting, presses the digits, listens, and hangs up.</p>
${numbers.length === 0 ? html`<p>Claim a number first (Numbers).</p>` : html`<form method="post" action="/console/sandbox">${csrfField(c.session)}
${select('Call this number', 'to', numbers.map((n): [string, string] => [n.number, n.number]), undefined)}
${field('From (the phone\'s number)', 'from', '+254711000000', html`inputmode="tel"`)}
${field('Seconds to wait before pressing', 'wait', '1', html`type="number" min="0" max="30"`)}
${field('Digits to press', 'digits', '', html`pattern="[0-9*#A-D]*" inputmode="tel"`)}
${field('Seconds to listen afterwards', 'listen', '5', html`type="number" min="1" max="120"`)}
<button type="submit">Place the test call</button></form>`}`,
    };
  });

  routes.action('/console/sandbox', async (c) => {
    const number = (name: string, fallback: number, max: number) => Math.min(max, Math.max(0, Number.parseInt(c.form[name] ?? '', 10) || fallback));
    const body = {
      to: c.form['to'] ?? '', from: c.form['from'] || '+254711000000',
      script: sandboxScript(number('wait', 1, 30), (c.form['digits'] ?? '').trim(), number('listen', 5, 120)), max_duration: 180,
    };
    const answer = await c.api.request<{ id?: string }>('POST', '/v1/sandbox/calls', body);
    return answer.status === 201 && answer.body?.id ? { redirect: `/console/sandbox/${seg(answer.body.id)}` } : { redirect: '/console/sandbox', error: apiErrorText(answer) };
  });
  routes.page('/console/sandbox/:id', 'workspace', async (c) => ({
    title: 'Sandbox call', current: '/console/sandbox',
    body: html`<div data-live="/console/live/sandbox/${seg(c.params['id']!)}" aria-live="polite">${await reportPart(c)}</div>`,
  }));
  routes.live('/console/live/sandbox/:id', reportPart);
  registerMediaProxy(routes, '/console/sandbox/:id/audio', (p) => `/v1/sandbox/calls/${seg(p['id']!)}/audio`);
}
