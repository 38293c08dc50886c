/**
 * Two carrier trunks (SIPp) on one prefix: the first (priority 1) answers
 * OPTIONS but refuses calls with 503, the second (priority 2) answers its
 * pings with 405 and takes calls, and wants numbers national with a tech
 * prefix, the From at its domain and P-Asserted-Identity. Then the first
 * carrier dies: its pings go unanswered, it is `down`, and calls go
 * straight to the second.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/cli-process.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';

const scenario = (name: string): string => fileURLToPath(new URL(`./scenarios/${name}`, import.meta.url));

/** A SIPp UAS running `file` for every call until stopped; what it received and sent is in `messages()`. */
class SippTrunk {
  readonly #child: ChildProcess;
  readonly #log: string;
  private constructor(readonly port: number, file: string, dir: string) {
    this.#log = path.join(dir, `sipp-${port}-messages.log`);
    this.#child = spawn('sipp', ['-sf', file, '-i', '127.0.0.1', '-p', String(port), '-mp', String(port + 2), '-nostdin', '-trace_msg', '-message_file', this.#log], {
      stdio: 'ignore',
    });
  }
  static async start(file: string, dir: string): Promise<SippTrunk> {
    return new SippTrunk(await freePort(), file, dir);
  }
  messages(): string {
    try {
      return readFileSync(this.#log, 'utf8');
    } catch {
      return '';
    }
  }
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.kill('SIGKILL');
    await exited;
  }
}

describe('two SIPp trunks on one prefix: failover on 503, OPTIONS health, number presentation', () => {
  let api: TestApi;
  let app: HttpReceiver;
  let dir: string;
  let failing: SippTrunk;
  let answering: SippTrunk;
  let from: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sautikit-sipp-trunks-'));
    api = await startTestApi('sqlite');
    app = await HttpReceiver.start();
    app.respond = () => ({ status: 200, body: JSON.stringify([{ pause: { length: 1 } }, { hangup: {} }]) });
    failing = await SippTrunk.start(scenario('trunk-options-503.xml'), dir);
    answering = await SippTrunk.start(scenario('trunk-options-answer.xml'), dir);
    from = (await api.call('POST', '/v1/numbers', { body: { prefix: '+254', routing_url: `${app.url}/in` } })).json().number;
    const admin = api.credentials.admin_key;
    for (const [name, body] of [
      ['primary', { port: failing.port, priority: 1 }],
      ['backup', { port: answering.port, priority: 2, number_format: 'national', tech_prefix: '4455', from_domain: 'acme.example.com', send_pai: true }],
    ] as const) {
      const res = await api.call('POST', '/v1/admin/trunks', { key: admin, body: {
        name, host: '127.0.0.1', prefixes: ['+2547'], options_ping: 1, answer_timeout: 1, ...body,
      } });
      expect(res.statusCode, res.body).toBe(201);
      ids[name] = res.json().id;
    }
  }, 60_000);
  afterAll(async () => {
    await failing?.stop();
    await answering?.stop();
    await app?.close();
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const health = async (name: string): Promise<Record<string, unknown>> =>
    (await api.call('GET', `/v1/admin/trunks/${ids[name]!}`, { key: api.credentials.admin_key })).json().health;
  const call = async (to: string): Promise<Record<string, unknown>> => {
    const placed = await api.call('POST', '/v1/calls', { body: { from, to, action_url: `${app.url}/out` } });
    expect(placed.statusCode, placed.body).toBe(201);
    return until(async () => {
      const c = (await api.call('GET', `/v1/calls/${placed.json().id as string}`)).json();
      return c.ended_at && c.price !== null ? c : undefined;
    }, 30_000);
  };

  it('both trunks answer their pings (200 and 405 alike are up); a 503 from the first: the call completes on the second, presented as it wants', async () => {
    await until(async () => (await health('primary')).status === 'up' && (await health('backup')).status === 'up', 20_000);
    const cdr = await call('+254712000301');
    expect(cdr).toMatchObject({ status: 'completed', hangup_cause: 'normal_clearing', hangup_by: 'system', to: '+254712000301' });
    expect(Number(cdr['duration_seconds'])).toBeGreaterThanOrEqual(1);
    expect(cdr['price']).not.toBeNull();
    // The first carrier: the E.164 INVITE, its 503, and the ACK of the 503 (RFC 3261 §17.1.1.3).
    const first = failing.messages();
    expect(first).toMatch(/INVITE sip:\+254712000301@127\.0\.0\.1:\d+ SIP\/2\.0/);
    expect(first).toMatch(/SIP\/2\.0 503 Service Unavailable/);
    expect(first).toMatch(/^ACK sip:\+254712000301@/m);
    // The second: national form with the tech prefix in the Request-URI and To, From at its domain, PAI with the caller ID.
    const second = await until(async () => (/^BYE /m.test(answering.messages()) ? answering.messages() : undefined));
    expect(second).toMatch(/^INVITE sip:44550712000301@127\.0\.0\.1:\d+ SIP\/2\.0/m);
    expect(second).toMatch(/^To: <sip:44550712000301@127\.0\.0\.1:\d+>/m);
    expect(second).toContain(`From: <sip:${from}@acme.example.com>;tag=`);
    expect(second).toContain(`P-Asserted-Identity: <sip:${from}@acme.example.com>`);
  }, 60_000);

  it('the first carrier dies: unanswered pings make it down, and calls go straight to the second', async () => {
    await failing.stop();
    await until(async () => (await health('primary')).status === 'down', 20_000);
    expect(await health('backup')).toMatchObject({ status: 'up', last_reply_at: expect.any(String) });
    // Something listens on the dead carrier's port again and records what comes, answering nothing.
    const heard: string[] = [];
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(failing.port, '127.0.0.1', () => resolve()));
    socket.on('message', (buf) => heard.push(buf.toString()));
    try {
      const invitesBefore = (answering.messages().match(/^INVITE /gm) ?? []).length;
      const cdr = await call('+254712000302');
      expect(cdr).toMatchObject({ status: 'completed', hangup_cause: 'normal_clearing' });
      expect((answering.messages().match(/^INVITE /gm) ?? []).length).toBe(invitesBefore + 1);
      // Pings still go there (that is how it comes back up); no INVITE did.
      expect(heard.some((m) => m.startsWith('OPTIONS '))).toBe(true);
      expect(heard.filter((m) => m.startsWith('INVITE '))).toEqual([]);
      expect((await health('primary')).status).toBe('down');
    } finally {
      socket.close();
    }
  }, 60_000);
});
