import { html, type SafeHtml } from '../html.js';
import { formatKes } from './money.js';

export interface DaySpend {
  /** YYYY-MM-DD (UTC). */
  day: string;
  cents: number;
}

/** Spend per UTC day over the last `days` days (today last), from ledger amounts (charges are negative). */
export function dailySpend(entries: ReadonlyArray<{ created_at: string; amountCents: number }>, today: Date, days = 30): DaySpend[] {
  const out: DaySpend[] = [];
  const index = new Map<string, DaySpend>();
  for (let i = days - 1; i >= 0; i--) {
    const day = new Date(today.getTime() - i * 86_400_000).toISOString().slice(0, 10);
    const item = { day, cents: 0 };
    out.push(item);
    index.set(day, item);
  }
  for (const e of entries) {
    const item = index.get(e.created_at.slice(0, 10));
    if (item && e.amountCents < 0) item.cents += -e.amountCents;
  }
  return out;
}

/** A bar chart drawn on the server as inline SVG: no script, no chart library, readable without colour (each bar has a title). */
export function spendChart(days: readonly DaySpend[]): SafeHtml {
  const width = 720;
  const height = 200;
  const top = 10;
  const bottom = 24;
  const most = Math.max(0, ...days.map((d) => d.cents));
  const max = Math.max(1, most);
  const slot = width / days.length;
  const total = days.reduce((s, d) => s + d.cents, 0);
  const bars = days.map((d, i) => {
    const h = Math.round(((height - top - bottom) * d.cents) / max);
    const x = Math.round(i * slot + slot * 0.15);
    return html`<rect x="${x}" y="${height - bottom - h}" width="${Math.max(1, Math.round(slot * 0.7))}" height="${h}"><title>${d.day}: ${formatKes(d.cents)}</title></rect>`;
  });
  // First, middle and last day; the outer labels are anchored inside the picture.
  const labels = ([[0, 'start', 2], [Math.floor(days.length / 2), 'middle', slot / 2], [days.length - 1, 'end', slot - 2]] as const)
    .map(([i, anchor, dx]) => html`<text x="${Math.round(i * slot + dx)}" y="${height - 6}" text-anchor="${anchor}">${days[i]!.day.slice(5)}</text>`);
  return html`<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="chart-title"><title id="chart-title">Daily spend, last ${days.length} days: ${formatKes(total)} in all, at most ${formatKes(most)} a day</title>
<text x="4" y="${top + 2}">${formatKes(most)}</text>${bars}${labels}<line x1="0" x2="${width}" y1="${height - bottom}" y2="${height - bottom}" stroke="currentColor" stroke-opacity="0.3"/></svg>`;
}
