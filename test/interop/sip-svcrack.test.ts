/**
 * SIPVicious' svcrack against the real binary (SPEC §13, "Abuse"): guessing a
 * softphone password from a dictionary that holds it at position 26, it is
 * banned after 10 wrong guesses and never finds it; the ban is logged once,
 * listed by the admin API, answers every request from that source with 403
 * (another source is unaffected), and once lifted the right password
 * registers again.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SipUserAgent } from '../../src/sip/index.js';
import type { SipRequestError } from '../../src/sip/ua/sip-session.js';
import { freePort, startCli, type RunningServer } from '../helpers/cli-process.js';
import { until } from '../helpers/until.js';

const adminKey = 'svcrack-admin-key-0001';
const apiKey = 'svcrack-api-key-000001';

describe('svcrack against a softphone account', () => {
  let server: RunningServer;
  const dir = mkdtempSync(join(tmpdir(), 'svcrack-'));
  const agents: SipUserAgent[] = [];

  beforeAll(async () => {
    server = await startCli(['--data', join(dir, 'data'), '--admin-key', adminKey, '--api-key', apiKey, '--sandbox', 'false']);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const api = async (method: string, path: string, key: string, body?: unknown) => {
    const res = await fetch(`${server.baseUrl}${path}`, {
      method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: (res.status === 204 ? undefined : await res.json()) as any };
  };

  async function agent(host: string): Promise<SipUserAgent> {
    const ua = new SipUserAgent({ listen: [{ protocol: 'udp', host, port: 0 }], timers: { t1: 100, t2: 400, t4: 500 } });
    await ua.start();
    agents.push(ua);
    return ua;
  }

  it('is banned after 10 wrong guesses, never finds the password, and the ban is listed and lifted', async () => {
    const password = 'correct-horse-7';
    const credential = (await api('POST', '/v1/sip/credentials', apiKey, { username: 'agent7', password })).json;
    const registrar: string = credential.registrar;
    const sipPort = Number(registrar.split(':').pop());
    const words = [...Array.from({ length: 25 }, (_, i) => `guess-${i + 1}`), password, ...Array.from({ length: 20 }, (_, i) => `guess-${i + 26}`)];
    writeFileSync(join(dir, 'dictionary.txt'), `${words.join('\n')}\n`);

    // svcrack 0.3.3 ignores -b (it binds every address), so it speaks from 127.0.0.1 and the unaffected source is 127.0.0.2.
    // svcrack never stops on its own while it gets answers (403s included): it runs until the ban, then a few seconds more.
    const cracker = spawn('svcrack', ['-u', 'agent7', '-d', join(dir, 'dictionary.txt'), '--domain', credential.domain, '-p', String(sipPort),
      '-P', String(await freePort()), '-vv', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    cracker.stdout.on('data', (d: Buffer) => (output += d.toString()));
    cracker.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise((resolve) => cracker.once('exit', resolve));
    try {
      const bans = await until(async () => {
        const list = (await api('GET', '/v1/admin/sip/bans', adminKey)).json as Array<{ address: string; failures: number }>;
        return list.length > 0 ? list : undefined;
      }, 30_000).catch((error: unknown) => { throw new Error(`${String(error)}\n${output.slice(-2000)}`); });
      expect(bans).toEqual([{ address: '127.0.0.1', failures: 10, banned_at: expect.any(String), expires_at: expect.any(String) }]);
      expect(Date.parse((bans[0] as unknown as { expires_at: string }).expires_at) - Date.parse((bans[0] as unknown as { banned_at: string }).banned_at)).toBe(600_000);
      await new Promise((r) => setTimeout(r, 3000));
    } finally {
      cracker.kill('SIGTERM');
      await exited;
    }
    const tried = [...output.matchAll(/trying (\S+)/g)].map((m) => m[1]);
    expect(tried.length, output.slice(-2000)).toBeGreaterThanOrEqual(10);
    expect(tried.length).toBeLessThan(14);
    expect(tried).not.toContain(password);
    expect(output).not.toMatch(/The password for/);
    const warnings = server.output().split('\n').filter((line) => line.includes('SIP source banned'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 40, source: '127.0.0.1', failures: 10 });

    // Every request from the banned source gets 403, even with the right password; another source is not affected.
    const banned = await agent('127.0.0.1');
    const register = (ua: SipUserAgent) => ua.register({ registrar, aor: credential.aor, auth: { username: 'agent7', password }, expires: 300 });
    await expect(register(banned)).rejects.toMatchObject({ status: 403 } satisfies Partial<SipRequestError>);
    expect((await banned.request('OPTIONS', registrar)).status).toBe(403);
    const other = await agent('127.0.0.2');
    expect((await register(other)).expires).toBe(300);

    expect((await api('DELETE', '/v1/admin/sip/bans/127.0.0.1', adminKey)).status).toBe(204);
    expect((await api('GET', '/v1/admin/sip/bans', adminKey)).json).toEqual([]);
    expect((await api('DELETE', '/v1/admin/sip/bans/127.0.0.1', adminKey)).status).toBe(404);
    expect((await api('DELETE', '/v1/admin/sip/bans/not-an-address', adminKey)).json.error).toMatchObject({ code: 'validation_failed', field: 'address' });
    expect((await api('GET', '/v1/admin/sip/bans', apiKey)).status).toBe(403);
    expect((await register(banned)).expires).toBe(300);
  }, 90_000);
});
