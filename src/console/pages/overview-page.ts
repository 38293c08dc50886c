import { liveStatuses, type CallView } from '../api-types.js';
import type { ConsoleRequest, ConsoleRoutes } from '../console-routes.js';
import { html, type SafeHtml } from '../html.js';
import { table } from '../layout.js';
import { callHeaders, callRows } from './call-rows.js';
import { centsOf, formatKes } from './money.js';

/** Calls not yet ended, among the newest 200. */
async function liveCalls(c: ConsoleRequest): Promise<SafeHtml> {
  const calls = await c.api.get<CallView[]>('/v1/calls?limit=200');
  return callRows(calls.filter((call) => liveStatuses.has(call.status)), 'No live calls.');
}

export function registerOverviewPage(routes: ConsoleRoutes): void {
  routes.page('/console', 'workspace', async (c) => {
    const wallet = await c.api.get<{ balance: string; reserved: string; currency: string }>('/v1/wallet');
    const today = `${new Date().toISOString().slice(0, 10)}T00:00:00.000Z`;
    const todays = await c.api.get<CallView[]>(`/v1/calls?limit=1000&since=${encodeURIComponent(today)}`);
    const spent = todays.reduce((sum, call) => sum + (call.price ? centsOf(call.price) : 0), 0);
    return {
      title: 'Overview',
      body: html`<div class="cards">
<div class="card"><div>Balance</div><div class="value" data-testid="balance">${wallet.balance} ${wallet.currency}</div><div>${wallet.reserved} reserved</div></div>
<div class="card"><div>Calls today (UTC)</div><div class="value">${todays.length}</div></div>
<div class="card"><div>Spent today</div><div class="value">${formatKes(spent)}</div></div>
</div>
<h2>Live calls</h2>
${table('Calls not yet ended; updates live', callHeaders, [await liveCalls(c)], '', html`data-live="/console/live/overview" aria-live="polite"`)}`,
    };
  });
  routes.live('/console/live/overview', liveCalls);
}
