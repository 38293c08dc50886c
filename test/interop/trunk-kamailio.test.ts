/**
 * A carrier trunk as carriers run them: Kamailio at the edge challenges the
 * INVITE and the BYE inside the dialog with 407 (RFC 3261 §22.2), in front of
 * the carrier's switch (a SIPp uas). The platform's `dial` leg through that
 * trunk answers both challenges with the trunk's credentials, and the leg's
 * `ended_at` is when its first BYE went out, not when the retried one was answered.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SipUserAgent } from '../../src/sip/ua/sip-user-agent.js';
import { freePort } from '../helpers/cli-process.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';
import { sipp, startKamailio, type RunningKamailio } from './peers.js';

const cfg = fileURLToPath(new URL('./kamailio/trunk-auth.cfg', import.meta.url));
const carrierSwitch = fileURLToPath(new URL('./scenarios/carrier-uas.xml', import.meta.url));

const offer = [
  'v=0', 'o=carrier 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40010 RTP/AVP 0', '',
].join('\r\n');

/** Kamailio's `TRACE <sec.usec> <method> cseq=<n> auth=<Proxy-Authorization>` lines. */
function traces(log: string): Array<{ at: number; method: string; cseq: number; auth: string }> {
  return [...log.matchAll(/TRACE (\d+\.\d+) ([A-Z]+) cseq=(\d+) auth=(.*)$/gm)].map((m) => ({
    at: Number(m[1]) * 1000, method: m[2]!, cseq: Number(m[3]), auth: m[4]!.trim(),
  }));
}

describe('a trunk behind Kamailio that challenges INVITE and BYE with 407', () => {
  let api: TestApi;
  let app: HttpReceiver;
  let kamailio: RunningKamailio;
  let caller: SipUserAgent;
  let uasPort: number;

  beforeAll(async () => {
    api = await startTestApi('sqlite');
    app = await HttpReceiver.start();
    app.respond = () => ({ status: 200, body: JSON.stringify([{ dial: { number: '+254720007777', timeLimit: 2 } }]) });
    const kamailioPort = await freePort();
    uasPort = await freePort();
    kamailio = await startKamailio(cfg, { LISTEN_PORT: kamailioPort, UAS_PORT: uasPort });
    const trunk = await api.call('POST', '/v1/admin/trunks', { key: api.credentials.admin_key, body: {
      name: 'kamailio-carrier', host: '127.0.0.1', port: kamailioPort, transport: 'udp', prefixes: ['+2547200'], inbound_addresses: ['127.0.0.1'],
      username: 'acct', password: 'trunkpw',
    } });
    expect(trunk.statusCode).toBe(201);
    caller = new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], publicHost: '127.0.0.1' });
    await caller.start();
  }, 60_000);
  afterAll(async () => {
    await caller?.close();
    await kamailio?.stop();
    await app?.close();
    await api?.close();
  });

  it('answers both 407s with the trunk credentials; the BYE is re-sent with Proxy-Authorization; billing stops at the first BYE', async () => {
    const number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: `${app.url}/dial` } })).json();
    const sip = api.platform.sipAddress;
    const uas = sipp(['-sf', carrierSwitch, '-i', '127.0.0.1', '-p', String(uasPort), '-mp', String(await freePort()), '-m', '1']);
    await new Promise((r) => setTimeout(r, 500));
    const session = await caller.invite(`sip:${number.number.slice(1)}@127.0.0.1:${sip.port}`, { sdp: offer, from: 'sip:+254711555100@127.0.0.1' }).wait();
    const answered = await uas;
    expect(answered.code, answered.output).toBe(0);

    const parent = app.requests.find((r) => r.url === '/dial')!.json.CallId as string;
    const leg = await until(async () => {
      const [child] = (await api.call('GET', `/v1/calls?parent_call_id=${parent}`)).json();
      return child && child.price !== null ? child : undefined;
    });
    expect(leg).toMatchObject({ to: '+254720007777', status: 'completed', hangup_cause: 'time_limit' });

    const seen = traces(kamailio.log());
    const invites = seen.filter((t) => t.method === 'INVITE');
    expect(invites.map((t) => t.auth === '<null>')).toEqual([true, false]);
    expect(invites[1]!.auth).toMatch(/^Digest username="acct", realm="carrier.test"/);
    const byes = seen.filter((t) => t.method === 'BYE');
    expect(byes).toHaveLength(2);
    expect(byes[0]!.auth).toBe('<null>');
    expect(byes[1]!.auth).toMatch(/^Digest username="acct", realm="carrier.test"/);
    expect(byes[1]!.cseq).toBe(byes[0]!.cseq + 1);
    // The leg ended when its first BYE left, not after the challenge and the retry were answered.
    expect(Math.abs(Date.parse(String(leg.ended_at)) - byes[0]!.at)).toBeLessThan(1000);
    await session.bye().catch(() => undefined);
  }, 60_000);
});
