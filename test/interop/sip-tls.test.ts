/**
 * SIP over TLS against the real binary (SPEC §13), with a self-signed
 * certificate made by openssl in the test:
 * - a carrier trunk (SIPp) calls in over TLS and gets 200, then hangs up;
 * - an outbound leg goes to a `transport: "tls"` trunk, whose certificate the
 *   platform verifies (`--tls-ca`), with ACK and BYE over TLS too;
 * - baresip registers over TLS and is reached by a `dial` over its own TLS
 *   connection.
 * Debian's SIPp is built without OpenSSL, so SIPp speaks TCP and socat (with
 * OpenSSL) carries it over TLS: the platform sees real TLS connections.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';
import { freePort, freeSipListenPort, startCli, type RunningServer } from '../helpers/cli-process.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { makeTestCert, type TestCert } from '../helpers/test-cert.js';
import { until } from '../helpers/until.js';

const uasScenario = fileURLToPath(new URL('./scenarios/uas-behind-tls.xml', import.meta.url));
const adminKey = 'tls-interop-admin-0001';
const apiKey = 'tls-interop-api-key-001';

function run(command: string, args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; output: string }> } {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const done = new Promise<{ code: number | null; output: string }>((resolve) => child.on('exit', (code) => resolve({ code, output: output.slice(-3000) })));
  return { child, done };
}

describe('SIP over TLS with SIPp (through socat) and baresip', () => {
  let server: RunningServer;
  let app: HttpReceiver;
  let cert: TestCert;
  let tlsPort: number;
  const dir = mkdtempSync(join(tmpdir(), 'sip-tls-'));
  const children: ChildProcess[] = [];

  const api = async (method: string, path: string, body?: unknown, key = apiKey) => {
    const res = await fetch(`${server.baseUrl}${path}`, {
      method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return res.json() as Promise<any>;
  };

  beforeAll(async () => {
    cert = makeTestCert();
    tlsPort = await freePort();
    server = await startCli(['--data', join(dir, 'data'), '--admin-key', adminKey, '--api-key', apiKey,
      '--sip-tls-port', String(tlsPort), '--tls-cert', cert.certFile, '--tls-key', cert.keyFile, '--tls-ca', cert.certFile]);
    app = await HttpReceiver.start();
  }, 60_000);
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await app?.close();
    await server?.stop();
    cert?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  /** socat listening on TCP `from`, relaying each connection to the platform's TLS port, checking its certificate. */
  function tlsClientFront(from: number): void {
    const socat = run('socat', [`TCP-LISTEN:${from},bind=127.0.0.1,reuseaddr,fork`, `OPENSSL:127.0.0.1:${tlsPort},cafile=${cert.certFile},verify=1,commonname=localhost`]);
    children.push(socat.child);
  }

  it('takes a call from a trunk over TLS, and dials a TLS trunk whose certificate it verifies', async () => {
    const carrierTcp = await freePort();
    const carrierTls = await freePort();
    // The far carrier: SIPp on TCP behind socat serving our test certificate on TLS.
    const front = run('socat', [`OPENSSL-LISTEN:${carrierTls},bind=127.0.0.1,reuseaddr,fork,cert=${cert.certFile},key=${cert.keyFile},verify=0`, `TCP:127.0.0.1:${carrierTcp}`]);
    children.push(front.child);
    // No OPTIONS pings: the SIPp scenario expects the INVITE as its first message, and a
    // ping sent when the trunk is created can reach SIPp after it starts.
    const trunk = await api('POST', '/v1/admin/trunks', {
      name: 'tls-carrier', host: '127.0.0.1', port: carrierTls, transport: 'tls', prefixes: ['+2547300'], inbound_addresses: ['127.0.0.1'], options_ping: 0,
    }, adminKey);
    expect(trunk).toMatchObject({ transport: 'tls', port: carrierTls });
    app.respond = () => ({ status: 200, body: JSON.stringify([{ dial: { number: '+254730001234', timeLimit: 2 } }]) });
    const number = await api('POST', '/v1/numbers', { prefix: '+25470', routing_url: `${app.url}/inbound` });

    const uas = run('sipp', ['-sf', uasScenario, '-t', 't1', '-i', '127.0.0.1', '-p', String(carrierTcp), '-m', '1', '-nostdin', '-timeout', '40s', '-timeout_error',
      '-key', 'tls_contact', `sip:carrier@127.0.0.1:${carrierTls};transport=tls`]);
    children.push(uas.child);
    const callerFront = await freePort();
    tlsClientFront(callerFront);
    await new Promise((r) => setTimeout(r, 500));
    // The calling carrier: SIPp's built-in UAC over TCP into socat, which speaks TLS to the platform.
    const uac = run('sipp', ['-sn', 'uac', '-t', 't1', '-s', number.number.slice(1), '-i', '127.0.0.1', '-p', String(await freePort()), '-m', '1', '-d', '4000',
      '-nostdin', '-timeout', '40s', '-timeout_error', `127.0.0.1:${callerFront}`]);
    children.push(uac.child);
    const caller = await uac.done;
    expect(caller.code, caller.output).toBe(0);
    const answered = await uas.done;
    expect(answered.code, answered.output).toBe(0);

    const parent = app.requests.find((r) => r.url === '/inbound')!.json.CallId as string;
    expect(await until(async () => {
      const c = await api('GET', `/v1/calls/${parent}`);
      return c.price !== null ? c : undefined;
    }, 30_000)).toMatchObject({ direction: 'inbound', status: 'completed', number_id: number.id });
    const leg = await until(async () => {
      const [child] = await api('GET', `/v1/calls?parent_call_id=${parent}`);
      return child && child.price !== null ? child : undefined;
    }, 30_000);
    expect(leg).toMatchObject({ to: '+254730001234', status: 'completed' });
  }, 90_000);

  it('registers baresip over TLS and reaches it with a dial over its own connection', async () => {
    const credential = await api('POST', '/v1/sip/credentials', { username: 'tlsagent', password: 'tls-agent-pass-1' });
    const home = join(dir, 'baresip');
    rmSync(home, { recursive: true, force: true });
    const port = await freeSipListenPort();
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'config'), [
      'module_path /usr/lib/baresip/modules', `sip_listen 127.0.0.1:${port}`, `sip_cafile ${cert.certFile}`,
      'audio_source ausine,440', 'ausrc_srate 48000', 'auplay_srate 48000', 'ausrc_channels 2',
      `audio_player aufile,${join(home, 'out.wav')}`, `audio_alert aufile,${join(home, 'alert.wav')}`,
      'module g711.so', 'module ausine.so', 'module aufile.so', 'module srtp.so', 'module_app account.so', 'module_app menu.so', '',
    ].join('\n'));
    // A phone registered over TLS is called with RTP/SAVP (SPEC §13, docs/security.md): it has SRTP on.
    writeFileSync(join(home, 'accounts'),
      `<${credential.aor};transport=tls>;auth_pass=tls-agent-pass-1;outbound="sip:127.0.0.1:${tlsPort};transport=tls";regint=300;answermode=auto;mediaenc=srtp-mand\n`);
    const baresip = run('baresip', ['-v', '-f', home, '-t', '40']);
    children.push(baresip.child);
    let output = '';
    baresip.child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    await until(async () => (await api('GET', '/v1/sip/credentials')).find((c: { username: string }) => c.username === 'tlsagent')?.registered === true, 20_000)
      .catch((error: unknown) => { throw new Error(`baresip did not register over TLS: ${String(error)}\n${output.slice(-3000)}\n${server.output().slice(-2000)}`); });

    // The binding remembers the flow: the phone's TLS connection (its source port), not its listening port.
    const store = await Store.open({ url: join(dir, 'data', 'sautikit.db') });
    try {
      const [binding] = await store.sipRegistrations.listByAor(credential.aor, new Date());
      expect(binding).toMatchObject({ transport: 'tls', target: expect.stringMatching(/;transport=tls/) });
      expect(binding!.target).not.toContain(`:${port};`);
    } finally {
      await store.close();
    }

    app.respond = () => ({ status: 200, body: JSON.stringify([{ dial: { sip: credential.aor, timeout: 10, timeLimit: 3 } }]) });
    const number = await api('POST', '/v1/numbers', { prefix: '+25470', routing_url: `${app.url}/agent` });
    const placed = await api('POST', '/v1/sandbox/calls', { from: '+254711000099', to: number.number, script: [{ wait: 6 }, { hangup: true }], max_duration: 30 });
    expect(placed.call_id, JSON.stringify(placed)).toBeDefined();
    const leg = await until(async () => {
      const [child] = await api('GET', `/v1/calls?parent_call_id=${placed.call_id}`);
      return child && child.price !== null ? child : undefined;
    }, 40_000).catch((error: unknown) => { throw new Error(`${String(error)}\n${output.slice(-3000)}`); });
    expect(leg).toMatchObject({ to: credential.aor, status: 'completed' });
    expect(leg.duration_seconds).toBeGreaterThanOrEqual(1);
  }, 90_000);
});
