import { describe, expect, it } from 'vitest';
import { html, unsafeRaw } from '../../src/console/html.js';
import { ConsoleSessions } from '../../src/console/sessions.js';
import { dailySpend, spendChart } from '../../src/console/pages/spend-chart.js';

describe('console templates', () => {
  it('html`` escapes every interpolation unless it is markup already', () => {
    const name = `<script>alert("x")</script>' & \``;
    const out = html`<p title="${name}">${name}${html`<b>${'<i>'}</b>`}${unsafeRaw('<hr>')}${[1, '<', null, undefined, false]}</p>`.value;
    expect(out).toBe('<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; &amp; &#96;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; &amp; &#96;<b>&lt;i&gt;</b><hr>1&lt;</p>');
  });

  it('the spend chart adds charges per UTC day and names each bar', () => {
    const days = dailySpend([
      { created_at: '2026-12-03T10:00:00.000Z', amountCents: -150 }, { created_at: '2026-12-03T11:00:00.000Z', amountCents: -50 },
      { created_at: '2026-12-01T09:00:00.000Z', amountCents: -25 }, { created_at: '2026-12-03T12:00:00.000Z', amountCents: 100_000 },
      { created_at: '2026-10-01T09:00:00.000Z', amountCents: -999 },
    ], new Date('2026-12-03T20:00:00Z'), 7);
    expect(days.map((d) => d.cents)).toEqual([0, 0, 0, 0, 25, 0, 200]);
    const svg = spendChart(days).value;
    expect(svg.match(/<rect /g)).toHaveLength(7);
    expect(svg).toContain('<title>2026-12-03: 2.00 KES</title>');
    expect(svg).toContain('2.25 KES in all');
  });
});

describe('console sessions', () => {
  it('a session ends when idle too long or closed; the CSRF token is compared exactly', () => {
    let now = 1_000;
    const sessions = new ConsoleSessions({ idleMs: 100, now: () => now });
    const s = sessions.open('sk_secret', 'workspace');
    expect(s.id).not.toContain('sk_secret');
    expect(s.id.length).toBeGreaterThanOrEqual(43);
    expect(ConsoleSessions.csrfMatches(s, s.csrf)).toBe(true);
    expect(ConsoleSessions.csrfMatches(s, `${s.csrf}x`)).toBe(false);
    expect(ConsoleSessions.csrfMatches(s, undefined)).toBe(false);
    now += 90;
    expect(sessions.find(s.id)).toBe(s); // use slides the expiry
    now += 90;
    expect(sessions.isOpen(s.id)).toBe(true); // looking does not
    expect(sessions.find(s.id)).toBe(s);
    now += 95;
    expect(sessions.isOpen(s.id)).toBe(true);
    now += 10;
    expect(sessions.isOpen(s.id)).toBe(false);
    expect(sessions.find(s.id)).toBeUndefined();
    const t = sessions.open('sk_other', 'admin');
    sessions.close(t.id);
    expect(sessions.find(t.id)).toBeUndefined();
  });
});
