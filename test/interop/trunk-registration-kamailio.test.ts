/**
 * A carrier that wants its customers registered: Kamailio as registrar
 * (usrloc in memory, digest with a fixed password) and proxy. The trunk
 * registers with an auth user name that differs from its user, refreshes
 * before the (shortened) lifetime Kamailio grants runs out, takes calls the
 * carrier sends to its registered contact, fails with the reason while
 * Kamailio is stopped, registers again after the back-off once it is back,
 * and un-registers when deleted.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SipUserAgent } from '../../src/sip/ua/sip-user-agent.js';
import { freePort } from '../helpers/cli-process.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';

const run = promisify(execFile);

/** Where Debian puts Kamailio's modules (the directory is named by the architecture). */
function kamailioModules(): string {
  for (const dir of readdirSync('/usr/lib')) {
    const candidate = path.join('/usr/lib', dir, 'kamailio', 'modules');
    if (existsSync(path.join(candidate, 'registrar.so'))) return candidate;
  }
  throw new Error('Kamailio modules not found under /usr/lib/*/kamailio/modules (apt-get install kamailio)');
}

/**
 * Registrar: digest in realm carrier.test with the password of auth user
 * `acme-auth`; grants at most 10 s, so a refresh comes within the test.
 * Proxy: INVITEs to a registered AOR go to its contact (stateful, no
 * Record-Route: the dialog then runs end to end).
 */
const config = (port: number, dir: string): string => `#!KAMAILIO
debug=1
log_stderror=yes
children=1
disable_tcp=yes
listen=udp:127.0.0.1:${port}
mpath="${kamailioModules()}/"
loadmodule "kex.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
loadmodule "xlog.so"
loadmodule "ctl.so"
modparam("usrloc", "db_mode", 0)
modparam("registrar", "max_expires", 10)
modparam("registrar", "min_expires", 5)
modparam("ctl", "binrpc", "unix:${dir}/ctl.sock")
request_route {
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  if (is_method("OPTIONS") && uri == myself) { sl_send_reply("200", "OK"); exit; }
  if (is_method("REGISTER")) {
    if ($au == "acme-auth") $avp(password) = "s3cret";
    if (!pv_auth_check("carrier.test", "$avp(password)", "0", "0")) { auth_challenge("carrier.test", "0"); exit; }
    xlog("L_ALERT", "REGISTER-OK $tu cseq=$cs expires=$hdr(Expires)\\n");
    if (!save("location")) sl_reply_error();
    exit;
  }
  if (is_method("INVITE")) {
    if (!lookup("location")) { sl_send_reply("404", "Not Found"); exit; }
    t_relay();
    exit;
  }
  if (is_method("CANCEL|ACK")) { if (t_check_trans()) t_relay(); exit; }
  sl_send_reply("403", "Forbidden");
}
`;

class Kamailio {
  log = '';
  #child: ChildProcess | undefined;
  constructor(readonly port: number, readonly dir: string) {
    writeFileSync(path.join(dir, 'kamailio.cfg'), config(port, dir));
  }

  async start(): Promise<void> {
    const child = spawn('kamailio', ['-f', path.join(this.dir, 'kamailio.cfg'), '-DD', '-E', '-w', this.dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    child.stdout.on('data', (d: Buffer) => (this.log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (this.log += d.toString()));
    await until(async () => (await this.dump().catch(() => undefined)) !== undefined, 10_000);
  }

  /** The registrar's bindings, as `kamcmd ul.dump` prints them. */
  async dump(): Promise<string> {
    return (await run('kamcmd', ['-s', `unix:${this.dir}/ctl.sock`, 'ul.dump'], { timeout: 5000 })).stdout;
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  /** The REGISTERs Kamailio accepted: `expires` asked for each. */
  registers(): Array<{ cseq: number; expires: number }> {
    return [...this.log.matchAll(/REGISTER-OK sip:254700000001@\S+ cseq=(\d+) expires=(\d+)/g)].map((m) => ({ cseq: Number(m[1]), expires: Number(m[2]) }));
  }
}

const answerSdp = ['v=0', 'o=carrier 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40004 RTP/AVP 0', ''].join('\r\n');

describe('a trunk registering with Kamailio', () => {
  let api: TestApi;
  let app: HttpReceiver;
  let kamailio: Kamailio;
  let caller: SipUserAgent;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sautikit-kamailio-'));
    kamailio = new Kamailio(await freePort(), dir);
    await kamailio.start();
    // Back-off shortened from 30 s → 10 min, so the test sees a retry succeed.
    api = await startTestApi('sqlite', { trunkRegistrationTiming: { retryMinMs: 1000, retryMaxMs: 4000 } });
    app = await HttpReceiver.start();
    app.respond = () => ({ status: 200, body: JSON.stringify([{ pause: { length: 1 } }, { hangup: {} }]) });
    caller = new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], publicHost: '127.0.0.1' });
    await caller.start();
  }, 60_000);
  afterAll(async () => {
    await caller?.close();
    await app?.close();
    await api?.close();
    await kamailio?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers, refreshes, takes the carrier\'s calls, fails while Kamailio is down, registers again, un-registers on delete', async () => {
    const admin = api.credentials.admin_key;
    const sip = api.platform.sipAddress;
    const number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+254', routing_url: `${app.url}/in` } })).json().number as string;
    // No trunk yet: an INVITE from this address is nobody's.
    await expect(caller.invite(`sip:${number}@127.0.0.1:${sip.port}`, { sdp: answerSdp }).wait()).rejects.toMatchObject({ status: 403 });

    const created = await api.call('POST', '/v1/admin/trunks', { key: admin, body: {
      name: 'kamailio', host: '127.0.0.1', port: kamailio.port, username: '254700000001', auth_username: 'acme-auth', password: 's3cret',
      register: true, register_expires: 60, options_ping: 2, answer_timeout: 1, prefixes: ['+2547'],
    } });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as string;
    const trunk = async (): Promise<Record<string, any>> => (await api.call('GET', `/v1/admin/trunks/${id}`, { key: admin })).json();

    const registered = await until(async () => {
      const t = await trunk();
      return t.registration.status === 'registered' && t.health.status === 'up' ? t : undefined;
    }, 20_000);
    // Kamailio granted 10 s of the 60 asked for: the binding runs out by the granted time, and is refreshed before.
    const left = Date.parse(registered.registration.expires_at) - Date.now();
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(10_000);
    expect(registered.registration.last_error).toBeNull();
    expect(registered.health.last_reply_at).toEqual(expect.any(String));
    const dump = await kamailio.dump();
    expect(dump).toContain('254700000001');
    expect(dump).toContain(`sip:254700000001@127.0.0.1:${sip.port}`);
    expect(kamailio.registers()[0]).toMatchObject({ expires: 60 });
    // The refresh: a second REGISTER in the same registration (higher CSeq), before the 10 s ran out.
    const refreshed = await until(async () => (kamailio.registers().length >= 2 ? kamailio.registers() : undefined), 15_000);
    expect(refreshed[1]!.cseq).toBeGreaterThan(refreshed[0]!.cseq);
    expect((await trunk()).registration.status).toBe('registered');

    // The carrier sends a call for the number (To, national form) to the contact the trunk registered.
    const national = `0${number.slice(4)}`;
    const outgoing = caller.invite(`sip:254700000001@127.0.0.1:${kamailio.port}`, { sdp: answerSdp, from: 'sip:0711222333@carrier.test', to: `sip:${national}@carrier.test` });
    const session = await outgoing.wait();
    await new Promise<void>((resolve) => session.once('ended', () => resolve()));
    const inbound = await until(async () => app.requests.find((r) => r.url === '/in'));
    expect(inbound.json).toMatchObject({ To: number, From: '+254711222333', Direction: 'inbound' });

    // The carrier goes away: the next refresh is never answered (a 32 s UDP transaction), and the pings neither.
    await kamailio.stop();
    const failed = await until(async () => {
      const t = await trunk();
      return t.registration.status === 'failed' ? t : undefined;
    }, 60_000);
    expect(failed.registration).toMatchObject({ expires_at: null, last_error: expect.stringMatching(/^408 /) });
    expect(failed.health.status).toBe('down');

    // Back again: a retry of the back-off registers anew.
    await kamailio.start();
    const again = await until(async () => {
      const t = await trunk();
      return t.registration.status === 'registered' ? t : undefined;
    }, 60_000);
    expect(again.registration.last_error).toBeNull();
    expect(await kamailio.dump()).toContain(`sip:254700000001@127.0.0.1:${sip.port}`);

    // Deleted: un-REGISTER (Expires: 0), and Kamailio holds no binding.
    expect((await api.call('DELETE', `/v1/admin/trunks/${id}`, { key: admin })).statusCode).toBe(204);
    await until(async () => !(await kamailio.dump()).includes('sip:254700000001@'), 10_000);
    expect(kamailio.registers().at(-1)).toMatchObject({ expires: 0 });
  }, 180_000);
});
