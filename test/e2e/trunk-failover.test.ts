import { createSocket, type Socket } from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { IncomingCall } from '../../src/sip/ua/incoming-call.js';
import { SipUserAgent } from '../../src/sip/ua/sip-user-agent.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';

const answerSdp = ['v=0', 'o=carrier 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40002 RTP/AVP 0', ''].join('\r\n');

/** A carrier on loopback (the project's own SIP stack, real UDP): does what `behave` says with each INVITE. */
class Carrier {
  readonly invites: IncomingCall[] = [];
  behave: (call: IncomingCall) => void = (call) => call.reject(503);
  private constructor(readonly ua: SipUserAgent) {
    ua.on('invite', (call) => {
      this.invites.push(call);
      this.behave(call);
    });
  }
  static async start(): Promise<Carrier> {
    const ua = new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], publicHost: '127.0.0.1' });
    await ua.start();
    return new Carrier(ua);
  }
  get port(): number {
    return this.ua.localAddress('udp').port;
  }
}

/** A carrier that hears but never answers: its INVITEs go unanswered, not even 100 Trying. */
async function silentCarrier(): Promise<{ socket: Socket; port: number; heard: string[] }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const heard: string[] = [];
  socket.on('message', (buf) => heard.push(buf.toString()));
  return { socket, port: socket.address().port, heard };
}

/**
 * Several trunks on one prefix (SPEC §13): the next is tried on 5xx, 408 or
 * silence within `answer_timeout`, never on the callee's own answer (486)
 * nor once the call rang; number presentation per trunk; inbound numbers
 * in the trunk's country.
 */
describe('trunk failover and number presentation', () => {
  let api: TestApi;
  let app: HttpReceiver;
  let first: Carrier;
  let second: Carrier;
  let from: string;
  const trunkIds: string[] = [];

  beforeAll(async () => {
    api = await startTestApi('sqlite');
    app = await HttpReceiver.start();
    app.respond = () => ({ status: 200, body: JSON.stringify([{ pause: { length: 1 } }, { hangup: {} }]) });
    first = await Carrier.start();
    second = await Carrier.start();
    from = (await api.call('POST', '/v1/numbers', { body: { prefix: '+254', routing_url: `${app.url}/in` } })).json().number;
  }, 60_000);
  afterEach(async () => {
    for (const id of trunkIds.splice(0)) await api.call('DELETE', `/v1/admin/trunks/${id}`, { key: api.credentials.admin_key });
    first.invites.length = 0;
    second.invites.length = 0;
  });
  afterAll(async () => {
    await first?.ua.close();
    await second?.ua.close();
    await app?.close();
    await api?.close();
  });

  const addTrunk = async (body: Record<string, unknown>): Promise<string> => {
    const res = await api.call('POST', '/v1/admin/trunks', { key: api.credentials.admin_key, body: { host: '127.0.0.1', transport: 'udp', options_ping: 0, ...body } });
    expect(res.statusCode, res.body).toBe(201);
    trunkIds.push(res.json().id);
    return res.json().id as string;
  };
  const twoTrunks = async (firstBody: Record<string, unknown> = {}): Promise<void> => {
    // Named so that the name order is the reverse of the priority order: priority decides.
    await addTrunk({ name: 'z-primary', port: first.port, prefixes: ['+2547'], priority: 1, ...firstBody });
    await addTrunk({ name: 'a-backup', port: second.port, prefixes: ['+2547'], priority: 2 });
  };
  const call = async (to: string): Promise<Record<string, unknown>> => {
    const placed = await api.call('POST', '/v1/calls', { body: { from, to, action_url: `${app.url}/out` } });
    expect(placed.statusCode, placed.body).toBe(201);
    return until(async () => {
      const c = (await api.call('GET', `/v1/calls/${placed.json().id as string}`)).json();
      return c.ended_at ? c : undefined;
    }, 30_000);
  };
  const answer = (c: IncomingCall): void => {
    c.ring();
    c.answer(answerSdp);
  };

  it('a 503 from the first trunk: the call completes on the second', async () => {
    await twoTrunks();
    second.behave = answer;
    const cdr = await call('+254712000101');
    expect(cdr).toMatchObject({ status: 'completed', hangup_cause: 'normal_clearing', to: '+254712000101' });
    expect(first.invites).toHaveLength(1);
    expect(second.invites).toHaveLength(1);
  });

  it('the callee\'s own answer (486 Busy Here) is final: the second trunk is not tried', async () => {
    await twoTrunks();
    first.behave = (c) => c.reject(486);
    second.behave = answer;
    const cdr = await call('+254712000102');
    expect(cdr).toMatchObject({ status: 'busy', hangup_cause: 'busy' });
    expect(second.invites).toHaveLength(0);
  });

  it('a trunk that rang (180) and then fails keeps the call: no failover after ringing', async () => {
    await twoTrunks();
    first.behave = (c) => {
      c.ring();
      setTimeout(() => c.reject(503), 200);
    };
    second.behave = answer;
    const cdr = await call('+254712000103');
    expect(cdr).toMatchObject({ status: 'failed', hangup_cause: 'failed' });
    expect(second.invites).toHaveLength(0);
  });

  it('a trunk that answers nothing within answer_timeout is given up for the next', async () => {
    const silent = await silentCarrier();
    try {
      await addTrunk({ name: 'z-silent', port: silent.port, prefixes: ['+2547'], priority: 1, answer_timeout: 1 });
      await addTrunk({ name: 'a-backup', port: second.port, prefixes: ['+2547'], priority: 2 });
      second.behave = answer;
      const cdr = await call('+254712000104');
      expect(cdr).toMatchObject({ status: 'completed' });
      expect(silent.heard.some((m) => m.startsWith('INVITE sip:+254712000104@'))).toBe(true);
      expect(second.invites).toHaveLength(1);
    } finally {
      silent.socket.close();
    }
  });

  it('presents the number as the trunk wants: national with a tech prefix, From at from_domain, P-Asserted-Identity', async () => {
    await addTrunk({
      name: 'presenting', port: second.port, prefixes: ['+2547'], number_format: 'national', tech_prefix: '99#', from_domain: 'acme.example.com', send_pai: true,
    });
    second.behave = answer;
    await call('+254712000105');
    const invite = second.invites[0]!.request;
    expect(invite.uri).toMatchObject({ user: '99%230712000105', host: '127.0.0.1', port: second.port });
    expect(invite.to.uri).toMatchObject({ user: '99%230712000105' });
    expect(invite.from.uri).toMatchObject({ user: from, host: 'acme.example.com' });
    expect(invite.headers.get('P-Asserted-Identity')).toBe(`<sip:${from}@acme.example.com>`);
  });

  it('an international trunk gets the number without +; a trunk without send_pai gets no P-Asserted-Identity', async () => {
    await addTrunk({ name: 'international', port: second.port, prefixes: ['+2547'], number_format: 'international' });
    second.behave = answer;
    await call('+254712000106');
    expect(second.invites[0]!.request.uri).toMatchObject({ user: '254712000106' });
    expect(second.invites[0]!.request.from.uri).toMatchObject({ user: from, host: api.platform.sipAddress.host });
    expect(second.invites[0]!.request.headers.get('P-Asserted-Identity')).toBeUndefined();
  });

  it('numbers arriving on a trunk are read in its country: 0…, bare and international forms become +255…', async () => {
    const admin = api.credentials.admin_key;
    await api.call('POST', '/v1/admin/numbers', { key: admin, body: { numbers: ['+255712000777'] } });
    const tz = (await api.call('POST', '/v1/numbers', { body: { number: '+255712000777', routing_url: `${app.url}/tz` } })).json();
    expect(tz.number).toBe('+255712000777');
    // First by name among trunks whose inbound_addresses match.
    await addTrunk({ name: '0-tanzania', port: 9, country_code: '255', inbound_addresses: ['127.0.0.1'] });
    const caller = await Carrier.start();
    try {
      const sip = api.platform.sipAddress;
      for (const [dialled, callerId] of [['0712000777', '0713000001'], ['712000777', '713000002'], ['255712000777', '255713000003'], ['+255712000777', '+255713000004']] as const) {
        const outgoing = caller.ua.invite(`sip:${dialled}@127.0.0.1:${sip.port}`, { sdp: answerSdp, from: `sip:${callerId}@127.0.0.1` });
        const session = await outgoing.wait();
        await new Promise<void>((resolve) => session.once('ended', () => resolve()));
      }
      const calls = await until(async () => {
        const list = (await api.call('GET', `/v1/calls?to=${encodeURIComponent('+255712000777')}`)).json() as Array<Record<string, unknown>>;
        return list.length === 4 ? list : undefined;
      });
      expect(calls.map((c) => c['from']).sort()).toEqual(['+255713000001', '+255713000002', '+255713000003', '+255713000004']);
      expect(app.requests.filter((r) => r.url === '/tz').map((r) => r.json.To)).toEqual(Array(4).fill('+255712000777'));
    } finally {
      await caller.ua.close();
    }
  }, 40_000);
});
