import { html, type SafeHtml } from './html.js';

/** "2026-12-03 06:55:12" from an ISO time (UTC, as the API stores it); a dash for none. */
export function when(iso: unknown): string {
  if (typeof iso !== 'string' || !iso) return '—';
  return iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '');
}

/** A value or a dash. */
export function orDash(value: unknown): string {
  return value === null || value === undefined || value === '' ? '—' : String(value);
}

/** A query string of the non-empty values. */
export function queryOf(values: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** Path segment (numbers' ids may carry '+'). */
export function seg(value: string): string {
  return encodeURIComponent(value);
}

/** A `<select>` with a label. */
export function select(label: string, name: string, choices: ReadonlyArray<[value: string, text: string]>, chosen: string | undefined): SafeHtml {
  return html`<p class="field"><label for="f-${name}">${label}</label><select id="f-${name}" name="${name}">${choices.map(([v, t]) => html`<option value="${v}"${v === (chosen ?? '') ? html` selected` : ''}>${t}</option>`)}</select></p>`;
}

/** Pretty JSON for a body shown on a page (text that is not JSON stays as it is). */
export function prettyBody(body: unknown): string {
  if (typeof body !== 'string') return JSON.stringify(body, null, 2);
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}
