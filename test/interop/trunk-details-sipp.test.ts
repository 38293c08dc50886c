/**
 * SIP details a carrier relies on (SPEC §13), against the real binary: a
 * SIPp trunk calling with late offer (no SDP in the INVITE, its answer in the
 * ACK) hears the number's greeting at the address its ACK gave; a SIPp trunk
 * that requires 100rel PRACKs our 180, and its SIP INFO digits reach getDigits.
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startCli, type RunningServer } from '../helpers/cli-process.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { until } from '../helpers/until.js';
import { sipp } from './peers.js';

const scenario = (name: string): string => fileURLToPath(new URL(`./scenarios/${name}`, import.meta.url));
const apiKey = 'sk_test_sipdetails_0123456789abcdef';
const adminKey = 'sk_admin_sipdetails_0123456789abcdef';

describe('trunk calls with late offer, 100rel and INFO DTMF (SIPp, real binary)', () => {
  const data = mkdtempSync(path.join(os.tmpdir(), 'sautikit-sipdetails-'));
  let app: HttpReceiver;
  let server: RunningServer;
  let sipPort: number;
  const api = async (method: string, url: string, key: string, body?: unknown) => {
    const res = await fetch(`${server.baseUrl}${url}`, {
      method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: JSON.parse(await res.text()) };
  };

  beforeAll(async () => {
    app = await HttpReceiver.start();
    app.respond = (req) => {
      if (req.url === '/greeting') return { status: 200, body: JSON.stringify([{ say: { text: 'Hello, this is the late offer test. Goodbye.' } }, { hangup: {} }]) };
      if (req.url === '/menu') return { status: 200, body: JSON.stringify([{ getDigits: { finishOnKey: '#', timeout: 10, action: `${app.url}/digits` } }]) };
      return { status: 200, body: JSON.stringify([{ hangup: {} }]) };
    };
    sipPort = await freePort();
    server = await startCli(['--data', data, '--sip-port', String(sipPort), '--rtp-ports', '20000-29999'], { SAUTIKIT_API_KEY: apiKey, SAUTIKIT_ADMIN_KEY: adminKey });
    const trunk = await api('POST', '/v1/admin/trunks', adminKey, { name: 'sipp-carrier', host: '127.0.0.1', port: 9, transport: 'udp', prefixes: ['+999'], inbound_addresses: ['127.0.0.1'] });
    expect(trunk.status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await app?.close();
    rmSync(data, { recursive: true, force: true });
  });

  it('late offer: our offer goes in the 200, the ACK\'s answer receives the greeting as RTP', async () => {
    const number = (await api('POST', '/v1/numbers', apiKey, { prefix: '+25470', routing_url: `${app.url}/greeting` })).json;
    const rtp = createSocket('udp4');
    await new Promise<void>((resolve) => rtp.bind(0, '127.0.0.1', () => resolve()));
    let packets = 0;
    rtp.on('message', () => (packets += 1));
    try {
      const run = await sipp(['-sf', scenario('trunk-late-offer.xml'), '-s', number.number.slice(1), '-key', 'rtp_port', String(rtp.address().port),
        '-i', '127.0.0.1', '-p', String(await freePort()), '-m', '1', `127.0.0.1:${sipPort}`]);
      expect(run.code, run.output).toBe(0);
      // The greeting lasts seconds: far more than 50 packets of 20 ms reached the ACK's address.
      expect(packets).toBeGreaterThan(50);
      const [call] = (await api('GET', `/v1/calls?to=${encodeURIComponent(number.number)}`, apiKey)).json;
      expect(call).toMatchObject({ direction: 'inbound', from: '+254711555300' });
      expect(await until(async () => {
        const c = (await api('GET', `/v1/calls/${String(call.id)}`, apiKey)).json;
        return c.status === 'completed' ? c : undefined;
      })).toMatchObject({ hangup_cause: 'normal_clearing', errors: [] });
    } finally {
      rtp.close();
    }
  }, 60_000);

  it('Require: 100rel gets a reliable 180 that SIPp PRACKs; SIP INFO digits 4 and # reach getDigits', async () => {
    const number = (await api('POST', '/v1/numbers', apiKey, { prefix: '+25470', routing_url: `${app.url}/menu` })).json;
    const run = await sipp(['-sf', scenario('trunk-info-dtmf-100rel.xml'), '-s', number.number.slice(1), '-i', '127.0.0.1', '-p', String(await freePort()),
      '-mp', String(await freePort()), '-m', '1', `127.0.0.1:${sipPort}`]);
    expect(run.code, run.output).toBe(0);
    const digits = app.requests.find((r) => r.url === '/digits' && r.json?.From === '+254711555301');
    expect(digits?.json).toMatchObject({ Digits: '4', To: number.number });
  }, 60_000);
});
