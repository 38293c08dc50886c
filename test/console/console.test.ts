/// <reference lib="dom" />
// Functions passed to page.evaluate() run in the browser: they see the DOM.
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';
import { artifactsDir, openBrowser, unlabelledFields, type TestBrowser } from './browser.js';

/** Screenshots the docs show (docs/console.md), copied from the test artifacts to docs/images/. */
const docsScreenshots = new Set(['overview', 'calls', 'call', 'number', 'conference', 'deliveries', 'sandbox', 'wallet', 'admin-trunks', 'phone-calls']);

/**
 * The web console in real Chromium, as a user drives it: sign in with the
 * workspace key, watch a sandbox call arrive in the calls list, read its
 * page, edit a number, mute a conference participant, retry a failed
 * webhook delivery, place a sandbox call with digits and play back what the
 * phone heard, the admin pages, sign out. Every page is checked for labels,
 * `lang` and a title, and no request may leave the platform's origin.
 */
describe('web console in Chromium', () => {
  let api: TestApi;
  let hooks: HttpReceiver;
  let browser: TestBrowser;
  let base: string;
  let ivrNumber: { id: string; number: string };
  let confNumber: { id: string; number: string };
  let hookFails = true;

  const shot = async (name: string) => {
    await browser.screenshot(name);
    if (docsScreenshots.has(name) && process.env['CONSOLE_DOCS_IMAGES']) {
      mkdirSync('docs/images', { recursive: true });
      copyFileSync(path.join(artifactsDir, `${name}.png`), path.join('docs/images', `console-${name}.png`));
    }
  };
  /** The basics every page must have: `lang`, a title, a label on every field. */
  const checkAccessible = async () => {
    const page = browser.page;
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.title()).toMatch(/Sautikit console/);
    expect(await unlabelledFields(page)).toEqual([]);
  };

  beforeAll(async () => {
    api = await startTestApi('sqlite', { flags: { 'webhook-retry-schedule': '0,0,0,0,0,0,0,0' } });
    base = api.platform.httpUrl;
    hooks = await HttpReceiver.start();
    hooks.respond = (req) => {
      if (req.url.startsWith('/voice')) {
        return { status: 200, body: JSON.stringify({ actions: [{ say: { text: 'Welcome to the console test.' } }, { pause: { length: 3 } }, { hangup: {} }] }) };
      }
      if (req.url.startsWith('/conf')) return { status: 200, body: JSON.stringify({ actions: [{ conference: { name: 'console-room', startOnEnter: true, beep: false } }] }) };
      if (req.url.startsWith('/events')) return { status: hookFails ? 500 : 200, body: hookFails ? '{"oops":true}' : '{}' };
      return { status: 204 };
    };
    ivrNumber = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: `${hooks.url}/voice` } })).json();
    confNumber = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: `${hooks.url}/conf` } })).json();
    browser = await openBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await hooks?.close();
    await api?.close();
  });

  it('/ leads to the sign-in page; a wrong key is refused; the workspace key signs in to the overview', async () => {
    const page = browser.page;
    await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
    await checkAccessible();
    await page.getByLabel('API key').fill('sk_not_a_key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('unknown or revoked');
    await page.getByLabel('API key').fill(api.credentials.api_key);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    expect(await page.getByTestId('balance').textContent()).toMatch(/\d+\.\d\d KES/);
    const cookie = (await browser.context.cookies(`${base}/console`)).find((c) => c.name === 'sautikit_console')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/console' });
    expect(cookie.value).not.toContain(api.credentials.api_key);
    await checkAccessible();
    await shot('overview');
  });

  it('a sandbox call appears in the calls list live, without reloading; its page shows the CDR and the webhook exchange', async () => {
    const page = browser.page;
    await page.getByRole('link', { name: 'Calls' }).click();
    await page.getByRole('heading', { name: 'Calls' }).waitFor();
    await checkAccessible();
    // A mark on the window: it survives only if the page is never reloaded.
    await page.evaluate(() => { (window as unknown as { stayed: boolean }).stayed = true; });
    const placed = (await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000001', to: ivrNumber.number, max_duration: 30 } })).json();
    const row = page.getByRole('row').filter({ hasText: placed.call_id });
    await row.waitFor({ timeout: 15_000 });
    expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
    await until(async () => /completed/.test(await row.textContent() ?? ''), 30_000);
    await shot('calls');

    await row.getByRole('link', { name: placed.call_id }).click();
    await page.getByRole('heading', { name: `Call ${placed.call_id}` }).waitFor();
    const cdr = await page.getByTestId('cdr').textContent();
    expect(cdr).toContain('+254711000001');
    expect(cdr).toContain(ivrNumber.number);
    expect(cdr).toMatch(/completed/);
    expect(cdr).toMatch(/\d+\.\d\d KES/);
    await checkAccessible();
    // The timeline (GET /v1/calls/{id}/timeline): the webhook's request and the response body the app sent.
    const timeline = page.getByTestId('timeline');
    expect(await timeline.locator('li.t-webhook-request').first().textContent()).toContain(`${hooks.url}/voice`);
    expect(await timeline.locator('li.t-webhook-response pre').first().textContent()).toContain('Welcome to the console test.');
    expect(await timeline.locator('li.t-status').count()).toBeGreaterThanOrEqual(3);
    await shot('call');
  }, 60_000);

  it('edits a number\'s routing URL', async () => {
    const page = browser.page;
    await page.getByRole('link', { name: 'Numbers' }).click();
    await page.getByRole('link', { name: ivrNumber.number }).click();
    await page.getByLabel('Routing URL').fill(`${hooks.url}/voice/v2`);
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Saved.');
    expect((await api.call('GET', `/v1/numbers/${ivrNumber.id}`)).json().routing_url).toBe(`${hooks.url}/voice/v2`);
    expect(await page.getByLabel('Routing URL').inputValue()).toBe(`${hooks.url}/voice/v2`);
    await checkAccessible();
    await shot('number');
  });

  it('mutes a conference participant; the participant\'s call page shows it', async () => {
    const page = browser.page;
    const guest = (await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000031', to: confNumber.number, max_duration: 60 } })).json();
    const other = (await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000032', to: confNumber.number, max_duration: 60 } })).json();
    await until(async () => (await api.call('GET', '/v1/conferences/console-room')).json().participant_count === 2, 20_000);
    await page.getByRole('link', { name: 'Conferences' }).click();
    await page.getByRole('link', { name: 'console-room' }).click();
    await page.getByRole('button', { name: 'Mute +254711000031' }).click();
    await page.getByRole('button', { name: 'Unmute +254711000031' }).waitFor();
    const participants = (await api.call('GET', '/v1/conferences/console-room/participants')).json() as Array<{ call_id: string; muted: boolean }>;
    expect(participants.find((p) => p.call_id === guest.call_id)?.muted).toBe(true);
    expect(participants.find((p) => p.call_id === other.call_id)?.muted).toBe(false);
    await checkAccessible();
    await shot('conference');
    // Muted by the API meanwhile: the room's page follows live.
    await api.call('PATCH', `/v1/conferences/console-room/participants/${other.call_id}`, { body: { muted: true } });
    await page.getByRole('button', { name: 'Unmute +254711000032' }).waitFor({ timeout: 10_000 });

    await page.goto(`${base}/console/calls/${guest.call_id}`);
    expect(await page.getByTestId('participant-state').textContent()).toContain('muted');
    expect(await page.getByTestId('participant-state').textContent()).not.toContain('not muted');
  }, 60_000);

  it('retries a failed webhook delivery', async () => {
    const page = browser.page;
    const endpoint = (await api.call('POST', '/v1/webhooks', { body: { url: `${hooks.url}/events`, events: ['*'] } })).json();
    await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000041', to: ivrNumber.number, script: [{ wait: 1 }, { hangup: true }], max_duration: 10 } });
    const failed = await until(async () => {
      const list = (await api.call('GET', `/v1/webhooks/${endpoint.id}/deliveries`)).json() as Array<{ id: string; status: string }>;
      return list.find((d) => d.status === 'failed');
    }, 30_000);
    hookFails = false;
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('link', { name: `${hooks.url}/events` }).click();
    await page.getByRole('heading', { name: 'Deliveries' }).waitFor();
    await checkAccessible();
    await shot('deliveries');
    await page.getByRole('row').filter({ hasText: 'failed' }).first().getByRole('button', { name: 'Retry' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Retry queued.');
    await until(async () => {
      const list = (await api.call('GET', `/v1/webhooks/${endpoint.id}/deliveries`)).json() as Array<{ id: string; status: string }>;
      return list.some((d) => d.status === 'delivered');
    }, 20_000);
    expect(failed.id).toBeTruthy();
  }, 60_000);

  it('places a sandbox call with digits from the sandbox page and plays back what the phone heard', async () => {
    const page = browser.page;
    await page.getByRole('link', { name: 'Sandbox' }).click();
    await checkAccessible();
    await page.getByLabel('Call this number').selectOption(ivrNumber.number);
    await page.getByLabel('Digits to press').fill('12');
    await page.getByLabel('Seconds to listen afterwards').fill('2');
    await page.getByRole('button', { name: 'Place the test call' }).click();
    await page.getByRole('heading', { name: 'Sandbox call' }).waitFor();
    const player = page.locator('audio[aria-label="What the sandbox phone heard"]');
    await player.waitFor({ timeout: 30_000 });
    const report = await page.getByTestId('sandbox-report').textContent();
    expect(report).toMatch(/Audio heard\s*[1-9]/);
    const wav = await page.request.get(`${base}${await player.getAttribute('src')}`);
    expect(wav.status()).toBe(200);
    const body = await wav.body();
    expect(body.subarray(0, 4).toString()).toBe('RIFF');
    // At least a second of 8 kHz 16-bit audio, and not all silence.
    expect(body.length).toBeGreaterThan(44 + 16_000);
    const samples = new Int16Array(body.buffer.slice(body.byteOffset + 44, body.byteOffset + body.length - (body.length % 2)));
    expect(samples.some((s) => Math.abs(s) > 1000)).toBe(true);
    expect(await page.evaluate(async () => {
      const audio = document.querySelector('audio')!;
      if (audio.readyState < 1) await new Promise((resolve) => audio.addEventListener('loadedmetadata', resolve, { once: true }));
      return audio.duration;
    })).toBeGreaterThan(1);
    await shot('sandbox');
  }, 60_000);

  it('shows the other workspace pages, each with labels, lang and a title', async () => {
    const page = browser.page;
    for (const [name, heading] of [['Wallet', 'Wallet'], ['Recordings', 'Recordings'], ['SIP', 'SIP credentials'], ['API keys', 'API keys'], ['Settings', 'Settings'], ['Overview', 'Overview']] as const) {
      await page.getByRole('navigation').getByRole('link', { name, exact: true }).click();
      await page.getByRole('heading', { name: heading, exact: true }).waitFor();
      await checkAccessible();
      await shot(name.toLowerCase().replace(/\W+/g, '-'));
    }
    // The daily spend chart is drawn on the server: today's bar has the calls' price.
    await page.goto(`${base}/console/wallet`);
    expect(await page.locator('svg.chart rect').count()).toBe(30);
    expect(await page.locator('svg.chart rect').last().getAttribute('height')).not.toBe('0');
  }, 60_000);

  it('works by keyboard: Tab reaches the nav and Enter follows a link', async () => {
    const page = browser.page;
    await page.goto(`${base}/console`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Calls');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Calls' }).waitFor();
  });

  it('is readable on a phone screen', async () => {
    const phone = await browser.context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${base}/console/calls`);
    // Nothing wider than the screen but the tables' own scrolling boxes.
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await browser.screenshot('phone-calls', phone);
    if (process.env['CONSOLE_DOCS_IMAGES']) copyFileSync(path.join(artifactsDir, 'phone-calls.png'), 'docs/images/console-phone-calls.png');
    await phone.close();
  });

  it('refuses a form post without the CSRF token', async () => {
    const cookie = (await browser.context.cookies(`${base}/console`)).find((c) => c.name === 'sautikit_console')!;
    const post = (body: string) => fetch(`${base}/console/numbers/${ivrNumber.id}`, {
      method: 'POST', redirect: 'manual', body,
      headers: { cookie: `sautikit_console=${cookie.value}`, 'content-type': 'application/x-www-form-urlencoded' },
    });
    const refused = await post('routing_url=https%3A%2F%2Fevil.example%2F');
    expect(refused.status).toBe(403);
    expect((await api.call('GET', `/v1/numbers/${ivrNumber.id}`)).json().routing_url).toBe(`${hooks.url}/voice/v2`);
    const wrong = await post('routing_url=https%3A%2F%2Fevil.example%2F&_csrf=guess');
    expect(wrong.status).toBe(403);
    // From another site's page (Origin), even a stolen token is refused.
    const html = await (await fetch(`${base}/console/numbers/${ivrNumber.id}`, { headers: { cookie: `sautikit_console=${cookie.value}` } })).text();
    const token = /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
    const crossSite = await fetch(`${base}/console/numbers/${ivrNumber.id}`, {
      method: 'POST', redirect: 'manual', body: `routing_url=&_csrf=${encodeURIComponent(token)}`,
      headers: { cookie: `sautikit_console=${cookie.value}`, 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
    });
    expect(crossSite.status).toBe(403);
    expect((await api.call('GET', `/v1/numbers/${ivrNumber.id}`)).json().routing_url).toBe(`${hooks.url}/voice/v2`);
  });

  it('signs out: the old cookie no longer opens a page', async () => {
    const page = browser.page;
    const cookie = (await browser.context.cookies(`${base}/console`)).find((c) => c.name === 'sautikit_console')!;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    const after = await fetch(`${base}/console/calls`, { redirect: 'manual', headers: { cookie: `sautikit_console=${cookie.value}` } });
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toBe('/console/sign-in');
  });

  it('the admin key opens the operator\'s pages: workspaces and credit, trunks, inventory, rates', async () => {
    const page = browser.page;
    await page.goto(`${base}/console/sign-in`);
    await page.getByLabel('API key').fill(api.credentials.admin_key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Workspaces' }).waitFor();
    await checkAccessible();
    await shot('admin-workspaces');
    await page.getByRole('link', { name: 'Default workspace' }).or(page.locator('main table a').first()).first().click();
    await page.getByLabel('Amount (KES)').fill('250.00');
    await page.getByLabel('Reference').fill('console test');
    await page.getByRole('button', { name: 'Credit' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Credited.');
    await api.call('POST', '/v1/admin/trunks', { key: api.credentials.admin_key, body: { name: 'carrier-one', host: '127.0.0.1', port: 5999, prefixes: ['+25599'] } });
    for (const [name, heading] of [['Trunks', 'Trunks'], ['Number inventory', 'Number inventory'], ['Rates', 'Rates']] as const) {
      await page.getByRole('navigation').getByRole('link', { name, exact: true }).click();
      await page.getByRole('heading', { name: heading, exact: true }).waitFor();
      await checkAccessible();
      await shot(`admin-${name.toLowerCase().replace(/\W+/g, '-')}`);
      if (name === 'Trunks') expect(await page.getByRole('row').filter({ hasText: 'carrier-one' }).textContent()).toMatch(/udp:127\.0\.0\.1:5999.*\+25599.*disabled.*(unknown|up|down)/);
    }
    // The admin key cannot open a workspace's page: it is sent to its own.
    await page.goto(`${base}/console/calls`);
    expect(new URL(page.url()).pathname).toBe('/console/admin/workspaces');
  }, 60_000);

  it('no page logged an error (CSP violations, failed loads, script errors)', () => {
    // The sign-in with a wrong key is answered 401 on purpose, and Chromium logs that answer.
    expect(browser.errors.filter((e) => !/\/console\/sign-in: Failed to load resource: .* 401 /.test(e))).toEqual([]);
  });

  it('made no request to any other host', () => {
    const origin = new URL(base).origin;
    expect(browser.requested.length).toBeGreaterThan(20);
    expect(browser.requested.filter((url) => new URL(url).origin !== origin)).toEqual([]);
  });
});
