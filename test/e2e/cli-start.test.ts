import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { postgresAvailable, testPostgresUrl } from '../helpers/dialects.js';
import { binPath, freePort, runCli, startCli } from '../helpers/cli-process.js';
import { makeTestCert } from '../helpers/test-cert.js';
import { until } from '../helpers/until.js';

const adminKey = 'sk_admin_e2e_0123456789abcdef';
const apiKey = 'sk_live_e2e_0123456789abcdef';
const dirs: string[] = [];
function dataDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sautikit-e2e-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function api(baseUrl: string, method: string, url: string, key: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${baseUrl}${url}`, {
    method, headers: { Authorization: `Bearer ${key}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

describe('sautikit start (the real command, over HTTP)', () => {
  it('is built before the tests run', () => {
    expect(existsSync(binPath)).toBe(true);
  });

  it('first start writes credentials.json with the given keys, seeds numbers and credit; SIGTERM stops it with exit 0', async () => {
    const data = dataDir();
    let claimed = '';
    const server = await startCli(['--data', data], { SAUTIKIT_ADMIN_KEY: adminKey, SAUTIKIT_API_KEY: apiKey });
    try {
      const credentials = JSON.parse(readFileSync(path.join(data, 'credentials.json'), 'utf8'));
      expect(credentials).toMatchObject({ admin_key: adminKey, api_key: apiKey, workspace_id: expect.stringMatching(/^ws_/), signing_secret: expect.stringMatching(/^whsec_/) });
      expect(server.output()).toContain(apiKey);
      expect((await api(server.baseUrl, 'GET', '/v1/wallet', apiKey)).json).toMatchObject({ balance: '1000.00', currency: 'KES' });
      // The IVR page: claim a number, then its PATCH curl with only the base URL changed.
      const claim = await api(server.baseUrl, 'POST', '/v1/numbers', apiKey, {});
      expect(claim.status).toBe(201);
      claimed = claim.json.number as string;
      const patch = await fetch(`${server.baseUrl}/v1/numbers/${claim.json.id}`, {
        method: 'PATCH',
        headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
        body: '{"routing_url": "https://yourapp.example.com/ivr/welcome"}',
      });
      expect(patch.status).toBe(200);
      expect(await patch.json()).toMatchObject({ routing_url: 'https://yourapp.example.com/ivr/welcome' });
      const health = await (await fetch(`${server.baseUrl}/healthz`)).json();
      expect(health).toMatchObject({ status: 'ok' });
    } finally {
      expect(await server.stop()).toBe(0);
    }
    // A second start keeps the data and prints no new keys.
    const again = await startCli(['--data', data]);
    try {
      expect(again.output()).not.toContain(apiKey);
      // The number claimed above, and the AI page's caller ID, owned since the first start.
      expect((await api(again.baseUrl, 'GET', '/v1/numbers', apiKey)).json.map((n: { number: string }) => n.number).sort()).toEqual([claimed, '+254711000001'].sort());
    } finally {
      expect(await again.stop()).toBe(0);
    }
  });

  it('sautikit call places a sandbox call through the IVR of a running server and prints what happened', async () => {
    const data = dataDir();
    const { HttpReceiver } = await import('../helpers/http-receiver.js');
    const app = await HttpReceiver.start();
    app.respond = (req) => req.url === '/ivr'
      ? { status: 200, body: JSON.stringify({ actions: [{ getDigits: { numDigits: 1, timeout: 3, action: `${app.url}/route`, nested: [{ say: { text: 'Press 1.' } }] } }] }) }
      : { status: 200, body: JSON.stringify([{ say: { text: 'You pressed ' + String(req.json?.Digits) } }, { hangup: {} }]) };
    const server = await startCli(['--data', data, '--sip-port', '0', '--rtp-ports', '20000-29999'], { SAUTIKIT_API_KEY: apiKey, SAUTIKIT_ADMIN_KEY: adminKey });
    try {
      const claim = await api(server.baseUrl, 'POST', '/v1/numbers', apiKey, { routing_url: `${app.url}/ivr` });
      const result = await runCli(['call', '--to', claim.json.number, '--press', '1', '--wait', '1', '--url', server.baseUrl, '--data', data]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/status\s+completed/);
      expect(result.stdout).toMatch(/hung up by\s+platform/);
      expect(app.requests.find((r) => r.url === '/route')?.json).toMatchObject({ Digits: '1' });
    } finally {
      await server.stop();
      await app.close();
    }
  }, 60_000);

  it('SIGTERM lets a running call go on for the grace period, then hangs it up and bills it', async () => {
    const data = dataDir();
    const { HttpReceiver } = await import('../helpers/http-receiver.js');
    const { Store } = await import('../../src/store/store.js');
    const app = await HttpReceiver.start();
    app.respond = () => ({ status: 200, body: JSON.stringify([{ pause: { length: 60 } }]) });
    const server = await startCli(['--data', data, '--shutdown-grace', '1', '--rtp-ports', '20000-29999'], { SAUTIKIT_API_KEY: apiKey, SAUTIKIT_ADMIN_KEY: adminKey });
    let callId: string;
    try {
      const claim = await api(server.baseUrl, 'POST', '/v1/numbers', apiKey, { routing_url: `${app.url}/long` });
      const placed = await api(server.baseUrl, 'POST', '/v1/sandbox/calls', apiKey, { to: claim.json.number, max_duration: 120 });
      callId = placed.json.call_id;
      for (let i = 0; i < 100; i++) {
        if ((await api(server.baseUrl, 'GET', `/v1/calls/${callId}`, apiKey)).json.status === 'in-progress') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const started = Date.now();
      expect(await server.stop()).toBe(0);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    } finally {
      await app.close();
    }
    const store = await Store.open({ url: path.join(data, 'sautikit.db') });
    try {
      const workspaceId = JSON.parse(readFileSync(path.join(data, 'credentials.json'), 'utf8')).workspace_id;
      const call = await store.calls.get(workspaceId, callId!);
      expect(call).toMatchObject({ status: 'completed', hangupCause: 'shutdown', hangupBy: 'system' });
      expect(call!.priceCents).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('a bad option stops start-up with one line naming it and exit code 2', async () => {
    const flag = await runCli(['start', '--http-port', 'eighty']);
    expect(flag.code).toBe(2);
    expect(flag.stderr.trim().split('\n')).toEqual(["sautikit: invalid --http-port: 'eighty' is not a port number (0-65535)"]);
    const env = await runCli(['start'], { SAUTIKIT_RTP_PORTS: 'lots' });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/^sautikit: invalid SAUTIKIT_RTP_PORTS: /);
    const unknown = await runCli(['start', '--no-such-flag']);
    expect(unknown.code).toBe(2);
  });

  it('bad TLS files stop start-up with one line naming the option and exit code 2', async () => {
    const cert = makeTestCert();
    const other = makeTestCert('another');
    try {
      const cases: Array<[string[], RegExp]> = [
        [['--tls-cert', '/nonexistent/cert.pem', '--tls-key', cert.keyFile], /^sautikit: invalid --tls-cert: cannot read '\/nonexistent\/cert\.pem': ENOENT$/],
        [['--tls-cert', cert.keyFile, '--tls-key', cert.keyFile], /^sautikit: invalid --tls-cert: '.*' holds no PEM CERTIFICATE$/],
        [['--tls-cert', cert.certFile], /^sautikit: invalid --tls-key: is required with --tls-cert$/],
        [['--tls-cert', cert.certFile, '--tls-key', other.keyFile], /^sautikit: invalid --tls-key: does not fit the certificate in --tls-cert/],
        [['--tls-ca', cert.keyFile], /^sautikit: invalid --tls-ca: /],
      ];
      for (const [args, message] of cases) {
        const result = await runCli(['start', ...args]);
        expect(result.code, args.join(' ')).toBe(2);
        expect(result.stderr.trim().split('\n')).toHaveLength(1);
        expect(result.stderr.trim()).toMatch(message);
      }
    } finally {
      cert.remove();
      other.remove();
    }
  });

  it('with a certificate, the start-up output names the SIP over TLS address phones are told to use', async () => {
    const cert = makeTestCert();
    const tlsPort = await freePort();
    const server = await startCli(['--data', dataDir(), '--tls-cert', cert.certFile, '--tls-key', cert.keyFile, '--sip-tls-port', String(tlsPort)]);
    try {
      await until(async () => server.output().includes('Data  '), 10_000);
      expect(server.output()).toMatch(new RegExp(`^  SIP TLS    sip:127\\.0\\.0\\.1:${tlsPort};transport=tls$`, 'm'));
    } finally {
      expect(await server.stop()).toBe(0);
      cert.remove();
    }
  });

  it('--help lists every option with its environment variable', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    for (const text of ['--http-port', 'SAUTIKIT_HTTP_PORT', '--sip-port', '--rtp-ports', '--database-url', 'DATABASE_URL', '--webhook-retry-schedule', '--sandbox']) {
      expect(help.stdout).toContain(text);
    }
  });

  it('runs on PostgreSQL with --database-url', async ({ skip }) => {
    if (!(await postgresAvailable())) skip();
    const dbName = `sautikit_e2e_${process.pid}_${Date.now()}`;
    const admin = new pg.Client({ connectionString: testPostgresUrl });
    await admin.connect();
    await admin.query(`create database ${dbName}`);
    const url = new URL(testPostgresUrl);
    url.pathname = `/${dbName}`;
    try {
      const server = await startCli(['--data', dataDir(), '--database-url', url.toString()], { SAUTIKIT_API_KEY: apiKey, SAUTIKIT_ADMIN_KEY: adminKey });
      try {
        expect(server.output()).toContain('database: postgres');
        expect((await api(server.baseUrl, 'GET', '/v1/wallet', apiKey)).json.balance).toBe('1000.00');
        const claim = await api(server.baseUrl, 'POST', '/v1/numbers', apiKey, { prefix: '+254700' });
        expect(claim.status).toBe(201);
      } finally {
        expect(await server.stop()).toBe(0);
      }
    } finally {
      await admin.query(`drop database if exists ${dbName}`);
      await admin.end();
    }
  });
});
