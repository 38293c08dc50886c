import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, runCli, startCli, type RunningServer } from '../helpers/cli-process.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { until } from '../helpers/until.js';

const apiKey = 'sk_live_cli_calls_0123456789abcdef';
const adminKey = 'sk_admin_cli_calls_0123456789abcdef';
const dirs: string[] = [];
function dataDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sautikit-cli-calls-'));
  dirs.push(dir);
  return dir;
}

async function api(server: RunningServer, method: string, url: string, body?: unknown): Promise<any> {
  const res = await fetch(`${server.baseUrl}${url}`, {
    method, headers: { Authorization: `Bearer ${apiKey}`, ...(body ? { 'Content-Type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return text ? JSON.parse(text) : undefined;
}

/** A padded answer (~60 KB): redirects to the next until none are left, then hangs up. */
const bigAnswer = (left: number): string => JSON.stringify(left > 0 ? [{ redirect: { url: `${appUrl}/big?left=${left - 1}` } }] : [{ hangup: {} }]) + ' '.repeat(60_000);
let appUrl = '';

/** SPEC §12, §14: the `sautikit` command as users run it, against a running server (the real binary). */
describe('sautikit calls, call and the command line itself (the real binary)', () => {
  let app: HttpReceiver;
  let server: RunningServer;
  let data: string;
  let ivrNumber: string;
  let brokenNumber: string;
  let bigNumber: string;
  const cli = (args: string[]) => runCli([...args, '--url', server.baseUrl, '--data', data], { SAUTIKIT_API_KEY: '' });

  beforeAll(async () => {
    app = await HttpReceiver.start();
    app.respond = (req) => {
      if (req.url === '/ivr') return { status: 200, body: JSON.stringify({ actions: [{ getDigits: { numDigits: 1, timeout: 3, action: `${app.url}/route`, nested: [{ say: { text: 'Press 1.' } }] } }] }) };
      if (req.url === '/route') return { status: 200, body: JSON.stringify([{ say: { text: `You pressed ${String(req.json?.Digits)}` } }, { hangup: {} }]) };
      // Four answers of ~60 KB each (a redirect chain): their timeline is more than a pipe holds.
      const big = /^\/big\?left=(\d)$/.exec(req.url);
      if (big) return { status: 200, body: bigAnswer(Number(big[1])) };
      return { status: 500, contentType: 'text/plain', body: 'internal error in the app' };
    };
    appUrl = app.url;
    data = dataDir();
    server = await startCli(['--data', data, '--rtp-ports', '20000-29999'], { SAUTIKIT_API_KEY: apiKey, SAUTIKIT_ADMIN_KEY: adminKey });
    const claim = async (routing: string) => (await api(server, 'POST', '/v1/numbers', { routing_url: `${app.url}${routing}` })).number as string;
    ivrNumber = await claim('/ivr');
    brokenNumber = await claim('/broken');
    bigNumber = await claim('/big?left=3');
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await app?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('sautikit call, calls list and calls show: the call, then its record and timeline with both webhooks\' bodies indented', async () => {
    const call = await cli(['call', '--to', ivrNumber, '--press', '1', '--wait', '1']);
    expect(call.code, call.stderr).toBe(0);
    expect(call.stdout).toMatch(/status\s+completed/);
    expect(call.stdout).not.toMatch(/^why/m);
    const callId = /call id\s+(call_\S+)/.exec(call.stdout)![1]!;
    expect(call.stdout).toContain(`sautikit calls show ${callId}`);
    await until(async () => ((await api(server, 'GET', `/v1/calls/${callId}`)).ended_at ? true : undefined));

    const list = await cli(['calls', 'list', '--limit', '5']);
    expect(list.code, list.stderr).toBe(0);
    const [header, first] = list.stdout.trim().split('\n');
    expect(header).toMatch(/^ID\s+CREATED \(UTC\)\s+DIRECTION\s+FROM\s+TO\s+STATUS\s+DURATION\s+PRICE$/);
    expect(first).toMatch(new RegExp(`^${callId}\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+inbound\\s+\\S+\\s+\\${ivrNumber}\\s+completed\\s+\\d+ s\\s+KES \\d+\\.\\d\\d$`));

    const show = await cli(['calls', 'show', callId]);
    expect(show.code, show.stderr).toBe(0);
    const text = show.stdout;
    expect(text).toMatch(new RegExp(`^call\\s+${callId}$`, 'm'));
    expect(text).toMatch(/^status\s+completed \(normal_clearing, hung up by system\)$/m);
    expect(text).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3}  webhook\\.request\\s+POST ${app.url}/ivr$`, 'm'));
    expect(text).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {2}webhook\.response\s+HTTP 200 application\/json in \d+ ms$/m);
    // Bodies are pretty-printed and indented under their entry: what we sent, what the app answered.
    expect(text).toMatch(new RegExp(`^ {16}  "CallId": "${callId}",$`, 'm'));
    expect(text).toMatch(/^ {16} {2}"Digits": "1"$/m);
    expect(text).toMatch(/^ {16}\s+"text": "You pressed 1"$/m);
    expect(text).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {2}digits\s+"1" \(numDigits\)$/m);
    expect(text).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {2}action\.end\s+#0 getDigits → replace$/m);
    expect(text).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {2}status\s+completed \(normal_clearing, by system\)$/m);

    const json = await cli(['calls', 'show', callId, '--json']);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.call).toMatchObject({ id: callId, status: 'completed' });
    expect(parsed.timeline.find((e: { type: string }) => e.type === 'digits')).toMatchObject({ digits: '1' });
  }, 90_000);

  it('a failed sandbox call prints why: the hang-up cause and the call\'s errors, not just a status', async () => {
    const call = await cli(['call', '--to', brokenNumber, '--wait', '0.5']);
    expect(call.code, call.stderr).toBe(0);
    expect(call.stdout).toMatch(/^why\s+the call ended failed: no_actions \(The voice callback answered no usable actions before the call was answered\.\)$/m);
    expect(call.stdout).toMatch(new RegExp(`^errors\\n  webhook_http_error: the webhook answered HTTP 500 \\(${app.url}/broken\\)$`, 'm'));
    // A number nobody claimed: refused before any call record exists, and said so.
    const unclaimed = await cli(['call', '--to', '+254700000099', '--wait', '0']);
    expect(unclaimed.stdout).toMatch(/^why\s+no workspace has claimed this number \(SIP 404\)/m);
  }, 60_000);

  it('large output piped into head: the command exits quietly, no EPIPE stack trace', async () => {
    const call = await cli(['call', '--to', bigNumber, '--wait', '0.5']);
    const callId = /call id\s+(call_\S+)/.exec(call.stdout)![1]!;
    const piped = await new Promise<{ stdout: string; stderr: string; code: number | null }>((resolve) => {
      const child = spawn('sh', ['-c', `"${process.execPath}" "${binPath}" calls show ${callId} --json --url ${server.baseUrl} --data "${data}" | head -1`], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      child.on('exit', (code) => resolve({ stdout, stderr, code }));
    });
    expect(piped.stdout).toBe('{\n');
    expect(piped.stderr).toBe('');
    expect(piped.code).toBe(0);
    // The same output in full is well over what a pipe holds (64 KiB), so head really closed the pipe under it.
    expect((await cli(['calls', 'show', callId, '--json'])).stdout.length).toBeGreaterThan(200_000);
  }, 60_000);

  it('help: sautikit alone, sautikit call --help and sautikit calls --help; an unknown command is named; bad usage exits 2', async () => {
    const bare = await runCli([]);
    expect(bare.code).toBe(0);
    expect(bare.stdout).toMatch(/^Usage: sautikit <command>/);
    for (const command of ['start', 'call', 'calls list', 'calls show ID']) expect(bare.stdout).toContain(`  ${command}`);
    const callHelp = await runCli(['call', '--help']);
    expect(callHelp.code).toBe(0);
    expect(callHelp.stdout).toMatch(/^Usage: sautikit call --to NUMBER/);
    expect(callHelp.stdout).toContain('--press DIGITS');
    const callsHelp = await runCli(['calls', '--help']);
    expect(callsHelp.code).toBe(0);
    expect(callsHelp.stdout).toContain('sautikit calls show CALL_ID');
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^sautikit: unknown command 'frobnicate'/);
    const unknownSub = await cli(['calls', 'delete', 'x']);
    expect(unknownSub.code).toBe(2);
    expect(unknownSub.stderr).toContain("unknown calls command 'delete'");
    const badLimit = await cli(['calls', 'list', '--limit', 'lots']);
    expect(badLimit.code).toBe(2);
    const missing = await cli(['calls', 'show', 'call_does_not_exist']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^sautikit calls: not_found: /);
  }, 60_000);
});

describe('timeline entries survive a shutdown (the real binary)', () => {
  it('a call hung up by SIGTERM: its last entries, queued at shutdown, are on its timeline after a restart', async () => {
    const app = await HttpReceiver.start();
    app.respond = () => ({ status: 200, body: JSON.stringify([{ say: { text: 'Please hold.' } }, { pause: { length: 60 } }]) });
    const data = dataDir();
    const args = ['--data', data, '--rtp-ports', '20000-29999', '--shutdown-grace', '0'];
    const first = await startCli(args, { SAUTIKIT_API_KEY: apiKey, SAUTIKIT_ADMIN_KEY: adminKey });
    let callId: string;
    try {
      const number = await api(first, 'POST', '/v1/numbers', { routing_url: `${app.url}/hold` });
      callId = (await api(first, 'POST', '/v1/sandbox/calls', { to: number.number, max_duration: 120 })).call_id;
      // The call is in its pause (noted, maybe not yet written): then SIGTERM.
      await until(async () => ((await api(first, 'GET', `/v1/calls/${callId}/timeline`)).data.some((e: { type: string; name?: string }) => e.type === 'action.start' && e.name === 'pause') ? true : undefined));
      expect(await first.stop()).toBe(0);
    } finally {
      await app.close();
    }
    const second = await startCli(args);
    try {
      const entries = (await api(second, 'GET', `/v1/calls/${callId!}/timeline`)).data as Array<{ type: string; [k: string]: unknown }>;
      // Noted during the shutdown itself: the pause cut short and the final state.
      expect(entries.find((e) => e.type === 'action.end' && e['name'] === 'pause')).toMatchObject({ index: 1, result: 'aborted' });
      expect(entries.filter((e) => e.type === 'status').at(-1)).toMatchObject({ status: 'completed', hangup_cause: 'shutdown', hangup_by: 'system' });
    } finally {
      expect(await second.stop()).toBe(0);
    }
  }, 90_000);
});
