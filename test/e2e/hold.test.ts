/**
 * A carrier puts an answered call on hold (RFC 3264 §8.4) for longer than the
 * RTP timeout: the platform answers recvonly/inactive, sends no RTP while the
 * hold lasts, does not hang up for media_timeout, and resumes both ways on
 * sendrecv. The carrier is a SIP user agent on its own socket and a raw RTP
 * socket that counts what the platform sends it.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRtpHeader } from '../../src/media/rtp/rtp-packet.js';
import { mediaDirection, parseSdp } from '../../src/sip/message/sdp.js';
import { SipUserAgent } from '../../src/sip/ua/sip-user-agent.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';

const sdp = (port: number, extra: { address?: string; direction?: string; version: number }): string => [
  'v=0', `o=carrier 7 ${extra.version} IN IP4 127.0.0.1`, 's=-', `c=IN IP4 ${extra.address ?? '127.0.0.1'}`, 't=0 0',
  `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', ...(extra.direction ? [`a=${extra.direction}`] : []), '',
].join('\r\n');

/** The carrier's RTP: sends 20 ms PCMU frames while `talking`, counts what arrives. */
class CarrierRtp {
  readonly socket: Socket = createSocket('udp4');
  received = 0;
  talking = true;
  #timer: NodeJS.Timeout | undefined;
  #seq = 0;

  async bind(): Promise<number> {
    this.socket.on('message', () => this.received++);
    await new Promise<void>((resolve) => this.socket.bind(0, '127.0.0.1', resolve));
    return this.socket.address().port;
  }

  sendTo(port: number): void {
    const frame = Buffer.alloc(12 + 160, 0xff);
    this.#timer = setInterval(() => {
      if (!this.talking) return;
      this.#seq = (this.#seq + 1) & 0xffff;
      writeRtpHeader(frame, 0, false, this.#seq, this.#seq * 160, 0xcafe);
      this.socket.send(frame, port, '127.0.0.1');
    }, 20);
  }

  close(): void {
    clearInterval(this.#timer);
    this.socket.close();
  }
}

describe('a call put on hold by the carrier', () => {
  let api: TestApi;
  let app: HttpReceiver;
  let carrier: SipUserAgent;
  let rtp: CarrierRtp;

  beforeAll(async () => {
    // An RTP timeout of 1 s: a hold of 3 s would end the call if the hold were not honoured.
    api = await startTestApi('sqlite', { flags: { 'rtp-timeout': '1' } });
    app = await HttpReceiver.start();
    app.respond = () => ({ status: 200, body: JSON.stringify([{ pause: { length: 60 } }]) });
    carrier = new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], publicHost: '127.0.0.1' });
    await carrier.start();
    rtp = new CarrierRtp();
    await rtp.bind();
    const trunk = await api.call('POST', '/v1/admin/trunks', { key: api.credentials.admin_key, body: {
      name: 'holding-carrier', host: '127.0.0.1', port: 9, transport: 'udp', prefixes: ['+999'], inbound_addresses: ['127.0.0.1'],
    } });
    expect(trunk.statusCode).toBe(201);
  }, 60_000);
  afterAll(async () => {
    rtp?.close();
    await carrier?.close();
    await app?.close();
    await api?.close();
  });

  it('survives a hold longer than the RTP timeout, sends nothing while held, and resumes both ways', async () => {
    const number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+254', routing_url: `${app.url}/answer` } })).json().number as string;
    const port = rtp.socket.address().port;
    const session = await carrier.invite(`sip:${number.slice(1)}@127.0.0.1:${api.platform.sipAddress.port}`, {
      sdp: sdp(port, { version: 1 }), from: 'sip:+254711555000@127.0.0.1',
    }).wait();
    const platformRtp = parseSdp(session.remoteSdp!).media[0]!.port;
    rtp.sendTo(platformRtp);
    await until(async () => rtp.received > 20);

    // Hold, RFC 3264 style: a=sendonly. The answer is recvonly and our RTP stops; so does the carrier's.
    rtp.talking = false;
    const held = await session.reinvite(sdp(port, { direction: 'sendonly', version: 2 }));
    expect(mediaDirection(parseSdp(held.sdp!))).toBe('recvonly');
    await new Promise((r) => setTimeout(r, 200)); // packets already in flight
    const atHold = rtp.received;
    await new Promise((r) => setTimeout(r, 3000)); // three RTP timeouts
    expect(rtp.received - atHold).toBeLessThanOrEqual(1);
    expect(session.state).toBe('established');

    // Off hold: both send again, and the call is still up.
    const resumed = await session.reinvite(sdp(port, { version: 3 }));
    expect(mediaDirection(parseSdp(resumed.sdp!))).toBe('sendrecv');
    rtp.talking = true;
    const atResume = rtp.received;
    await until(async () => rtp.received > atResume + 20);

    // The old RFC 2543 hold (c=0.0.0.0) is a hold too: answered recvonly, no RTP, no media_timeout.
    rtp.talking = false;
    const oldHold = await session.reinvite(sdp(port, { address: '0.0.0.0', version: 4 }));
    expect(mediaDirection(parseSdp(oldHold.sdp!))).toBe('recvonly');
    await new Promise((r) => setTimeout(r, 200));
    const atOldHold = rtp.received;
    await new Promise((r) => setTimeout(r, 2000));
    expect(rtp.received - atOldHold).toBeLessThanOrEqual(1);
    expect(session.state).toBe('established');
    await session.reinvite(sdp(port, { version: 5 }));
    rtp.talking = true;
    const atSecondResume = rtp.received;
    await until(async () => rtp.received > atSecondResume + 20);

    await session.bye();
    const cdr = await until(async () => {
      const [call] = (await api.call('GET', `/v1/calls?to=${encodeURIComponent(number)}`)).json();
      return call?.status === 'completed' ? call : undefined;
    });
    expect(cdr).toMatchObject({ status: 'completed', hangup_cause: 'normal_clearing' });
    expect(cdr.duration_seconds).toBeGreaterThanOrEqual(5);
  }, 60_000);
});
