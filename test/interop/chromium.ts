/**
 * Real Chromium (Debian's `chromium`, /usr/bin/chromium) for the browser
 * tests, driven with playwright-core: a fresh profile, fake microphone
 * playing a WAV file, permission granted, nothing fetched from outside
 * (no background networking, no component updates, no QUIC).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Everything the page logged (console and errors), for failure messages. */
  log(): string;
  close(): Promise<void>;
}

/** A 16-bit mono WAV of a sine tone (sox), the fake microphone's sound. */
export function writeToneWav(file: string, hz: number, seconds = 60): void {
  execFileSync('sox', ['-n', '-r', '48000', '-c', '1', '-b', '16', file, 'synth', String(seconds), 'sine', String(hz), 'vol', '0.5']);
}

export async function launchChromium(micWav: string): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'sautikit-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${micWav}`, '--autoplay-policy=no-user-gesture-required',
      // ICE host candidates on loopback, where the test platform listens; real addresses, not mDNS names.
      '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  let log = '';
  page.on('console', (m) => (log += `[${m.type()}] ${m.text()}\n`));
  page.on('pageerror', (e) => (log += `[pageerror] ${e.message}\n`));
  // SIP over the WebSocket, first line of each message: what the page and the platform said to each other.
  page.on('websocket', (ws) => {
    ws.on('framesent', (f) => (log += process.env['SIP_FULL'] ? `[sip >] ${String(f.payload)}\n` : `[sip >] ${String(f.payload).split('\r\n')[0]}\n`));
    ws.on('framereceived', (f) => (log += process.env['SIP_FULL'] ? `[sip <] ${String(f.payload)}\n` : `[sip <] ${String(f.payload).split('\r\n')[0]}\n`));
  });
  return {
    context, page, log: () => log.slice(-4000),
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
