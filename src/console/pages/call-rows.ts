import type { CallView } from '../api-types.js';
import { when } from '../format.js';
import { html, type SafeHtml } from '../html.js';

export const callHeaders = ['Call', 'Status', 'Direction', 'From', 'To', 'Started', 'Duration', 'Price'];

/** One call as a table row (the calls list, the overview's live calls). */
export function callRow(c: CallView): SafeHtml {
  return html`<tr><td><a href="/console/calls/${c.id}">${c.id}</a></td><td>${c.status}</td><td>${c.direction}</td><td>${c.from}</td><td>${c.to}</td><td>${when(c.created_at)}</td><td>${c.duration_seconds === null ? '—' : `${c.duration_seconds} s`}</td><td>${c.price === null ? '—' : `${c.price} ${c.currency}`}</td></tr>`;
}

/** The rows, or one row saying there are none. */
export function callRows(calls: readonly CallView[], empty: string): SafeHtml {
  return calls.length ? html`${calls.map(callRow)}` : html`<tr><td colspan="${callHeaders.length}">${empty}</td></tr>`;
}
