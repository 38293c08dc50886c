/// <reference lib="dom" />
// Functions passed to page.evaluate() run in the browser: they see the DOM.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium (CI installs the `chromium` package); Playwright's own browser download is not used. */
export const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Every URL the pages requested (to check that all stay on the platform's origin). */
  requested: string[];
  /** Errors the pages logged or threw (a CSP violation, a failed load, a script error). */
  errors: string[];
  /** Saves a screenshot as test-artifacts/console/NAME.png. */
  screenshot(name: string, page?: Page): Promise<void>;
  close(): Promise<void>;
}

export const artifactsDir = path.resolve('test-artifacts/console');

/** Headless Chromium with a fresh profile, a phone-sized or desktop viewport. */
export async function openBrowser(viewport = { width: 1100, height: 800 }): Promise<TestBrowser> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'sautikit-chromium-'));
  mkdirSync(artifactsDir, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath, headless: true, viewport,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const requested: string[] = [];
  context.on('request', (request) => {
    requested.push(request.url());
  });
  const errors: string[] = [];
  context.on('console', (message) => {
    if (message.type() === 'error') errors.push(`${message.page()?.url() ?? ''}: ${message.text()}`);
  });
  context.on('weberror', (error) => {
    errors.push(error.error().message);
  });
  const page = context.pages()[0] ?? await context.newPage();
  return {
    context, page, requested, errors,
    screenshot: async (name, which = page) => {
      await which.screenshot({ path: path.join(artifactsDir, `${name}.png`), fullPage: true });
    },
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Inputs, selects and text areas without a label on the page (accessibility basics). */
export async function unlabelledFields(page: Page): Promise<string[]> {
  return page.evaluate(() => Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
    .filter((el) => !(el as HTMLInputElement).labels?.length && !el.getAttribute('aria-label'))
    .map((el) => el.outerHTML.slice(0, 120)));
}
