import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SipUserAgent } from '../../src/sip/ua/sip-user-agent.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';

const offer = (codecs: string): string => [
  'v=0', 'o=carrier 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio 40000 RTP/AVP ${codecs}`, '',
].join('\r\n');

/**
 * A carrier trunk calls a claimed number over SIP, as the full-path bench's
 * SIPp does: the CDR is written with its first states in one transaction,
 * and an offer the platform cannot take is still recorded, as failed.
 */
describe('inbound calls from a trunk', () => {
  let api: TestApi;
  let app: HttpReceiver;
  let carrier: SipUserAgent;
  let number: string;
  let target: string;

  beforeAll(async () => {
    api = await startTestApi('sqlite');
    app = await HttpReceiver.start();
    app.respond = () => ({ status: 200, body: JSON.stringify([{ say: { text: 'Hello.' } }, { hangup: {} }]) });
    carrier = new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], publicHost: '127.0.0.1' });
    await carrier.start();
    const trunk = await api.call('POST', '/v1/admin/trunks', { key: api.credentials.admin_key, body: {
      name: 'loopback-carrier', host: '127.0.0.1', port: 9, transport: 'udp', prefixes: ['+999'], inbound_addresses: ['127.0.0.1'],
    } });
    expect(trunk.statusCode).toBe(201);
    number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+254', routing_url: `${app.url}/answer` } })).json().number;
    const sip = api.platform.sipAddress;
    target = `sip:${number.slice(1)}@127.0.0.1:${sip.port}`;
  }, 60_000);
  afterAll(async () => {
    await carrier?.close();
    await app?.close();
    await api?.close();
  });

  const callsTo = async (): Promise<Array<Record<string, unknown>>> =>
    (await api.call('GET', `/v1/calls?to=${encodeURIComponent(number)}`)).json();

  it('a PCMU call runs the routing_url, and its CDR shows initiated, ringing, in-progress and completed, billed', async () => {
    const call = carrier.invite(target, { sdp: offer('0'), from: 'sip:+254711555000@127.0.0.1' });
    const session = await call.wait();
    await new Promise<void>((resolve) => session.once('ended', () => resolve()));
    const [cdr] = await until(async () => {
      const list = await callsTo();
      return list.length === 1 && list[0]!.status === 'completed' && list[0]!.price !== null ? list : undefined;
    });
    const detail = (await api.call('GET', `/v1/calls/${String(cdr!.id)}`)).json();
    expect(detail.events.map((e: { status: string }) => e.status)).toEqual(['initiated', 'ringing', 'in-progress', 'completed']);
    expect(detail).toMatchObject({ direction: 'inbound', from: '+254711555000', to: number, hangup_cause: 'normal_clearing' });
  });

  it('an offer with no codec the platform takes is refused and recorded as failed, sdp_not_acceptable', async () => {
    const before = (await callsTo()).length;
    const call = carrier.invite(target, { sdp: offer('18'), from: 'sip:+254711555001@127.0.0.1' });
    await expect(call.wait()).rejects.toMatchObject({ status: expect.any(Number) });
    const failed = await until(async () => {
      const list = await callsTo();
      return list.length === before + 1 && list[0]!.status === 'failed' ? list[0] : undefined;
    });
    expect(failed).toMatchObject({ hangup_cause: 'sdp_not_acceptable', hangup_by: 'system' });
  });

  it('a carrier sending the numbers in national form (0…) reaches the claimed number, and the record holds E.164', async () => {
    const before = (await callsTo()).length;
    const national = `0${number.slice(4)}`;
    const call = carrier.invite(`sip:${national}@127.0.0.1:${api.platform.sipAddress.port}`, { sdp: offer('0'), from: 'sip:0711555002@127.0.0.1' });
    const session = await call.wait();
    await new Promise<void>((resolve) => session.once('ended', () => resolve()));
    const done = await until(async () => {
      const list = await callsTo();
      return list.length === before + 1 && list[0]!.status === 'completed' ? list[0] : undefined;
    });
    expect(done).toMatchObject({ direction: 'inbound', to: number, from: '+254711555002' });
  });

  it('a carrier that never answers the BYE: the call ends, and stops being billed, when the BYE is sent', async () => {
    const before = (await callsTo()).length;
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const port = socket.address().port;
    const sip = api.platform.sipAddress;
    const callId = `never-answers-bye-${port}`;
    const tag = 'carrier1';
    const sdp = offer('0');
    let firstByeAt: number | undefined;
    socket.on('message', (buf) => {
      const text = buf.toString();
      // A real carrier that is gone: the BYE and its retransmissions go unanswered.
      if (text.startsWith('BYE ')) {
        firstByeAt ??= Date.now();
        return;
      }
      if (!text.startsWith('SIP/2.0 200') || !/CSeq: *1 INVITE/i.test(text)) return;
      const to = /^To: *(.+)$/im.exec(text)![1]!.trim();
      const contact = /^(?:Contact|m): *<([^>]+)>/im.exec(text)![1]!;
      socket.send([
        `ACK ${contact} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-ack-${port}`, 'Max-Forwards: 70',
        `From: <sip:+254711555003@127.0.0.1>;tag=${tag}`, `To: ${to}`, `Call-ID: ${callId}`, 'CSeq: 1 ACK', 'Content-Length: 0', '', '',
      ].join('\r\n'), sip.port, '127.0.0.1');
    });
    socket.send([
      `INVITE ${target} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-inv-${port}`, 'Max-Forwards: 70',
      `From: <sip:+254711555003@127.0.0.1>;tag=${tag}`, `To: <${target}>`, `Call-ID: ${callId}`, 'CSeq: 1 INVITE',
      `Contact: <sip:carrier@127.0.0.1:${port}>`, 'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp,
    ].join('\r\n'), sip.port, '127.0.0.1');
    try {
      const done = await until(async () => {
        const list = await callsTo();
        return list.length === before + 1 && list[0]!.status === 'completed' && list[0]!.price !== null ? list[0] : undefined;
      }, 20_000);
      expect(firstByeAt).toBeDefined();
      // Not 32 s later, when the unanswered BYE transaction gives up (RFC 3261 Timer F).
      expect(Date.parse(String(done.ended_at)) - firstByeAt!).toBeLessThan(5_000);
      expect(done).toMatchObject({ from: '+254711555003', hangup_by: 'system' });
      expect(Number(done.duration_seconds)).toBeLessThan(10);
    } finally {
      socket.close();
    }
  }, 40_000);

  it('SIP INFO DTMF (application/dtmf-relay and application/dtmf) feeds getDigits like RFC 4733', async () => {
    const previous = app.respond;
    app.respond = (req) => req.url.startsWith('/digits')
      ? { status: 200, body: JSON.stringify([{ hangup: {} }]) }
      : { status: 200, body: JSON.stringify([{ getDigits: { numDigits: 2, timeout: 10, action: `${app.url}/digits` } }]) };
    try {
      const call = carrier.invite(target, { sdp: offer('0'), from: 'sip:+254711555004@127.0.0.1' });
      const session = await call.wait();
      const ended = new Promise<void>((resolve) => session.once('ended', () => resolve()));
      await until(async () => app.requests.some((r) => r.json?.From === '+254711555004' && !r.url.startsWith('/digits')));
      expect((await session.info('Signal=4\r\nDuration=160\r\n', 'application/dtmf-relay')).status).toBe(200);
      expect((await session.info('2', 'application/dtmf')).status).toBe(200);
      await ended;
      const posted = app.requests.find((r) => r.url.startsWith('/digits') && r.json?.From === '+254711555004')!;
      expect(posted.json).toMatchObject({ Digits: '42' });
    } finally {
      app.respond = previous;
    }
  });

  it('SIP INFO DTMF from a conference participant reaches the conference digits callback like RFC 4733', async () => {
    const previous = app.respond;
    app.respond = (req) => req.url.startsWith('/conf-digits')
      ? { status: 200, body: '[]' }
      : { status: 200, body: JSON.stringify([{ conference: { name: 'info-room', beep: false, collectDigits: true, numDigits: 2, digitsCallbackUrl: `${app.url}/conf-digits` } }]) };
    try {
      const session = await carrier.invite(target, { sdp: offer('0'), from: 'sip:+254711555005@127.0.0.1' }).wait();
      await until(async () => app.requests.some((r) => r.json?.From === '+254711555005' && !r.url.startsWith('/conf-digits')));
      // Keys count once the participant is in the room.
      await until(async () => (await api.call('GET', '/v1/conferences/info-room/participants')).statusCode === 200 || undefined);
      expect((await session.info('Signal=7\r\nDuration=160\r\n', 'application/dtmf-relay')).status).toBe(200);
      expect((await session.info('#', 'application/dtmf')).status).toBe(200);
      const posted = await until(async () => app.requests.find((r) => r.url.startsWith('/conf-digits') && r.json?.From === '+254711555005'));
      expect(posted.json).toMatchObject({ Digits: '7#', ConferenceName: 'info-room' });
      await session.bye();
    } finally {
      app.respond = previous;
    }
  });

  it('late offer: an INVITE without SDP gets our offer in the 200, and the ACK\'s answer is where our audio goes', async () => {
    const rtp = createSocket('udp4');
    await new Promise<void>((resolve) => rtp.bind(0, '127.0.0.1', () => resolve()));
    let packets = 0;
    rtp.on('message', () => (packets += 1));
    const answer = offer('0').replace('m=audio 40000', `m=audio ${rtp.address().port}`);
    try {
      const ended = await lateOfferCall('+254711555006', answer);
      await until(async () => (packets > 10 ? true : undefined));
      expect(ended.offer).toMatch(/^m=audio \d+ RTP\/AVP 0 8/m);
      const done = await until(async () => {
        const [c] = (await callsTo()).filter((x) => x.from === '+254711555006');
        return c?.status === 'completed' ? c : undefined;
      });
      expect(done).toMatchObject({ hangup_cause: 'normal_clearing' });
    } finally {
      rtp.close();
    }
  });

  it('late offer: an ACK without SDP answer ends the call with sdp_not_acceptable, recorded as an error', async () => {
    await lateOfferCall('+254711555007', undefined);
    const done = await until(async () => {
      const [c] = (await callsTo()).filter((x) => x.from === '+254711555007');
      return c?.status === 'completed' && c.price !== null ? c : undefined;
    });
    expect(done).toMatchObject({ hangup_cause: 'sdp_not_acceptable', hangup_by: 'system' });
    const detail = (await api.call('GET', `/v1/calls/${String(done.id)}`)).json();
    expect(detail.errors).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'sdp_not_acceptable', message: 'no SDP answer in the ACK' })]));
  });

  /** A raw-UDP carrier places a late-offer call (INVITE without SDP), ACKs the 200 with `answer` (or no body), and waits for our BYE. */
  async function lateOfferCall(from: string, answer: string | undefined): Promise<{ offer: string }> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const port = socket.address().port;
    const sip = api.platform.sipAddress;
    const callId = `late-offer-${port}`;
    const head = (method: string, branch: string, cseq: string): string[] => [
      `${method} ${target} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-${branch}-${port}`, 'Max-Forwards: 70',
      `From: <sip:${from}@127.0.0.1>;tag=late1`, `Call-ID: ${callId}`, `CSeq: ${cseq}`,
    ];
    try {
      return await new Promise((resolve, reject) => {
        let ourOffer: string | undefined;
        const timer = setTimeout(() => reject(new Error('no BYE within 20 s')), 20_000);
        socket.on('message', (buf) => {
          const text = buf.toString();
          if (text.startsWith('BYE ')) {
            const via = /^Via: *(.+)$/im.exec(text)![1]!;
            const lines = text.split('\r\n');
            const pick = (name: string): string => lines.find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))!;
            socket.send(['SIP/2.0 200 OK', `Via: ${via}`, pick('From'), pick('To'), pick('Call-ID'), pick('CSeq'), 'Content-Length: 0', '', ''].join('\r\n'), sip.port, '127.0.0.1');
            clearTimeout(timer);
            resolve({ offer: ourOffer ?? '' });
            return;
          }
          if (!text.startsWith('SIP/2.0 200') || !/CSeq: *1 INVITE/i.test(text) || ourOffer !== undefined) return;
          ourOffer = text.slice(text.indexOf('\r\n\r\n') + 4);
          const to = /^To: *(.+)$/im.exec(text)![1]!.trim();
          const contact = /^(?:Contact|m): *<([^>]+)>/im.exec(text)![1]!;
          const ack = [...head('ACK', 'ack', '1 ACK'), `To: ${to}`].join('\r\n').replace(`ACK ${target}`, `ACK ${contact}`);
          const body = answer ?? '';
          socket.send(`${ack}\r\n${body ? 'Content-Type: application/sdp\r\n' : ''}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, sip.port, '127.0.0.1');
        });
        socket.send([...head('INVITE', 'inv', '1 INVITE'), `To: <${target}>`, `Contact: <sip:carrier@127.0.0.1:${port}>`, 'Content-Length: 0', '', ''].join('\r\n'), sip.port, '127.0.0.1');
      });
    } finally {
      socket.close();
    }
  }
});
