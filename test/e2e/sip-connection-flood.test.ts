/**
 * SPEC §13: 1,000 idle TCP connections from one source (127.0.0.2) take at
 * most 100 of the platform's connection slots; a carrier on another source
 * (127.0.0.1) still calls in over TCP and is answered.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SipUserAgent } from '../../src/sip/ua/sip-user-agent.js';
import { freePort } from '../helpers/cli-process.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';

const offer = ['v=0', 'o=carrier 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0', ''].join('\r\n');

describe('a TCP connection flood from one source', () => {
  let api: TestApi;
  let app: HttpReceiver;
  let carrier: SipUserAgent;
  const flood: Socket[] = [];

  beforeAll(async () => {
    // One port for UDP and TCP, as in production (port 0 would give each its own).
    api = await startTestApi('sqlite', { flags: { 'sip-port': String(await freePort()) } });
    app = await HttpReceiver.start();
    app.respond = () => ({ status: 200, body: JSON.stringify([{ say: { text: 'Still here.' } }, { hangup: {} }]) });
    carrier = new SipUserAgent({ listen: [{ protocol: 'tcp', host: '127.0.0.1', port: 0 }], publicHost: '127.0.0.1' });
    await carrier.start();
  }, 60_000);
  afterAll(async () => {
    for (const socket of flood) socket.destroy();
    await carrier?.close();
    await app?.close();
    await api?.close();
  });

  it('does not keep another source from calling', async () => {
    const trunk = await api.call('POST', '/v1/admin/trunks', { key: api.credentials.admin_key, body: {
      name: 'tcp-carrier', host: '127.0.0.1', port: 9, transport: 'tcp', prefixes: ['+999'], inbound_addresses: ['127.0.0.1'],
    } });
    expect(trunk.statusCode).toBe(201);
    const number: string = (await api.call('POST', '/v1/numbers', { body: { prefix: '+254', routing_url: `${app.url}/answer` } })).json().number;
    const { port } = api.platform.sipAddress;

    let closed = 0;
    for (let i = 0; i < 1000; i++) {
      const socket = await new Promise<Socket>((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' }, () => resolve(s));
        s.once('error', reject);
      });
      socket.on('close', () => closed++).on('error', () => undefined);
      flood.push(socket);
    }
    await until(async () => closed >= 900, 20_000);
    expect(closed).toBe(900);

    const call = carrier.invite(`sip:${number.slice(1)}@127.0.0.1:${port};transport=tcp`, { sdp: offer, from: 'sip:+254711555000@127.0.0.1' });
    const session = await call.wait();
    await new Promise<void>((resolve) => session.once('ended', () => resolve()));
    const [cdr] = await until(async () => {
      const list = (await api.call('GET', `/v1/calls?to=${encodeURIComponent(number)}`)).json();
      return list.length === 1 && list[0].price !== null ? list : undefined;
    });
    expect(cdr).toMatchObject({ direction: 'inbound', status: 'completed' });
  }, 60_000);
});
