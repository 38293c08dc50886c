/**
 * Early media (SPEC §13): a `dial` target's carrier (SIPp) answers 183 with
 * SDP and plays a 1 kHz tone for three seconds before its 200 OK. The caller
 * of the dial hears that tone — not our ringback — before the leg is answered.
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SipUserAgent } from '../../src/sip/ua/sip-user-agent.js';
import { freePort } from '../helpers/cli-process.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';
import { sipp } from './peers.js';
import { toneShare, writeTonePcap } from './tone-pcap.js';

const scenario = fileURLToPath(new URL('./scenarios/carrier-uas-early-media.xml', import.meta.url));

describe('early media from a dialled carrier (183 with SDP, SIPp playing a tone)', () => {
  let api: TestApi;
  let app: HttpReceiver;
  let caller: SipUserAgent;
  let dir: string;

  beforeAll(async () => {
    api = await startTestApi('sqlite');
    app = await HttpReceiver.start();
    app.respond = () => ({ status: 200, body: JSON.stringify([{ dial: { number: '+254720005555', timeLimit: 2 } }]) });
    caller = new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], publicHost: '127.0.0.1' });
    await caller.start();
    dir = mkdtempSync(path.join(os.tmpdir(), 'sautikit-early-media-'));
    writeTonePcap(path.join(dir, 'tone.pcap'), 1000, 3);
  }, 60_000);
  afterAll(async () => {
    await caller?.close();
    await app?.close();
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the caller hears the carrier\'s tone before the dialled leg answers', async () => {
    const uasPort = await freePort();
    const trunk = await api.call('POST', '/v1/admin/trunks', { key: api.credentials.admin_key, body: {
      name: 'early-media-carrier', host: '127.0.0.1', port: uasPort, transport: 'udp', prefixes: ['+2547200'], inbound_addresses: ['127.0.0.1'],
      // SIPp's uas scenario takes an OPTIONS ping for an unexpected call: no pings to it.
      options_ping: 0,
    } });
    expect(trunk.statusCode).toBe(201);
    const number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: `${app.url}/dial` } })).json();

    const rtp = createSocket('udp4');
    await new Promise<void>((resolve) => rtp.bind(0, '127.0.0.1', () => resolve()));
    const heard: Array<{ at: number; tone: boolean }> = [];
    rtp.on('message', (packet) => heard.push({ at: Date.now(), tone: packet.length > 12 && toneShare(packet, 1000) > 0.5 }));
    const sdp = ['v=0', 'o=caller 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${rtp.address().port} RTP/AVP 0`, ''].join('\r\n');
    try {
      const uas = sipp(['-sf', scenario, '-i', '127.0.0.1', '-p', String(uasPort), '-mp', String(await freePort()), '-m', '1'], { cwd: dir });
      await new Promise((r) => setTimeout(r, 500));
      const sip = api.platform.sipAddress;
      const session = await caller.invite(`sip:${number.number.slice(1)}@127.0.0.1:${sip.port}`, { sdp, from: 'sip:+254711555200@127.0.0.1' }).wait();
      const carrier = await uas;
      expect(carrier.code, carrier.output).toBe(0);

      const parent = app.requests.find((r) => r.url === '/dial' && r.json?.From === '+254711555200')!.json.CallId as string;
      const leg = await until(async () => {
        const [child] = (await api.call('GET', `/v1/calls?parent_call_id=${parent}`)).json();
        return child && child.price !== null ? child : undefined;
      });
      const detail = (await api.call('GET', `/v1/calls/${String(leg.id)}`)).json();
      const answeredAt = Date.parse(detail.events.find((e: { status: string }) => e.status === 'in-progress').timestamp);
      const toneBeforeAnswer = heard.filter((p) => p.tone && p.at < answeredAt).length;
      // Three seconds of tone at 50 packets a second, less what bridging and start-up take.
      expect(toneBeforeAnswer).toBeGreaterThan(50);
      // Before the early media came, the caller heard our ringback (not the tone).
      expect(heard.findIndex((p) => p.tone)).toBeGreaterThan(0);
      await session.bye().catch(() => undefined);
    } finally {
      rtp.close();
    }
  }, 60_000);
});
