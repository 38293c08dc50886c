import type { ConsoleRoutes } from '../console-routes.js';
import { orDash, when } from '../format.js';
import { html } from '../html.js';
import { table } from '../layout.js';
import { centsOf } from './money.js';
import { dailySpend, spendChart } from './spend-chart.js';

interface TransactionView {
  id: string;
  type: string;
  amount: string;
  currency: string;
  call_id: string | null;
  reference: string | null;
  description: string | null;
  created_at: string;
}

export function registerWalletPage(routes: ConsoleRoutes): void {
  routes.page('/console/wallet', 'workspace', async (c) => {
    const wallet = await c.api.get<{ balance: string; reserved: string; currency: string }>('/v1/wallet');
    const ledger = await c.api.get<TransactionView[]>('/v1/wallet/transactions?limit=1000');
    const days = dailySpend(ledger.map((t) => ({ created_at: t.created_at, amountCents: centsOf(t.amount) })), new Date());
    const rows = ledger.slice(0, 100).map((t) => html`<tr><td>${when(t.created_at)}</td><td>${t.type}</td><td>${t.amount} ${t.currency}</td>
<td>${t.call_id ? html`<a href="/console/calls/${t.call_id}">${t.call_id}</a>` : '—'}</td><td>${orDash(t.reference ?? t.description)}</td></tr>`);
    return {
      title: 'Wallet',
      body: html`<div class="cards"><div class="card"><div>Balance</div><div class="value">${wallet.balance} ${wallet.currency}</div><div>${wallet.reserved} reserved for calls in progress</div></div></div>
<h2>Daily spend</h2>${spendChart(days)}
<h2>Ledger</h2>${table('Newest first (latest 100)', ['When', 'Type', 'Amount', 'Call', 'Reference'], rows, 'No transactions yet.')}`,
    };
  });
}
