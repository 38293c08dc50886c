/**
 * SRTP (SDES) on real call legs (SPEC §13): a carrier calls in with an
 * RTP/SAVP offer and the app `dial`s a plain-RTP trunk, then the other way
 * round (a plain caller, a `srtp: mandatory` trunk); each carrier's phone is
 * a media endpoint on its own RTP port, and the tones each plays are heard,
 * decrypted, at the other end. Offers the platform cannot meet get 488 with a
 * Warning, never plain RTP. The carriers speak SIP over UDP here, so the
 * platform runs with --sdes-over-insecure-transport (over TLS it is the
 * default: test/interop/srtp-baresip.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaEndpoint } from '../../src/media/endpoint.js';
import { MediaEngine } from '../../src/media/engine.js';
import { generateMasterKey } from '../../src/media/rtp/srtp-keys.js';
import { ToneSource } from '../../src/media/sources/tones.js';
import { parseSdp } from '../../src/sip/message/sdp.js';
import type { IncomingCall } from '../../src/sip/ua/incoming-call.js';
import type { SipSession } from '../../src/sip/ua/sip-session.js';
import { SipUserAgent } from '../../src/sip/ua/sip-user-agent.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';
import { captureNext, toneAmplitude } from '../media/helpers.js';

const suite = 'AES_CM_128_HMAC_SHA1_80';
const sdp = (port: number, protocol: string, crypto: string[] = []): string => [
  'v=0', 'o=carrier 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} ${protocol} 0 101`,
  'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', ...crypto, '',
].join('\r\n');

/** The m= protocol, port and `a=crypto` lines of an SDP. */
function mediaOf(text: string): { protocol: string; port: number; crypto: Array<{ id: number; suite: string; config: string }> } {
  const m = parseSdp(text).media[0]!;
  return { protocol: m.protocol, port: m.port, crypto: m.crypto ?? [] };
}

const longTone = (hz: number): ToneSource => new ToneSource([{ freqs: [hz], ms: 30_000 }], { amplitude: 6000 });
const hears = (phone: MediaEndpoint, hz: number): Promise<boolean> =>
  until(async () => toneAmplitude(await captureNext(phone, 300), hz) > 1500, 15_000, 0);

/**
 * Caller and callee play different tones; each must hear the other's through the bridge, and the SRTP side
 * must have dropped nothing as unauthenticated. Then the caller hangs up and both phones close.
 */
async function talkBothWays(callerPhone: MediaEndpoint, calleePhone: MediaEndpoint, srtpPhone: MediaEndpoint, session: SipSession): Promise<void> {
  void callerPhone.play(longTone(700));
  void calleePhone.play(longTone(1300));
  expect(await hears(calleePhone, 700)).toBe(true);
  expect(await hears(callerPhone, 1300)).toBe(true);
  expect(srtpPhone.session.encrypted).toBe(true);
  expect(srtpPhone.session.stats.droppedUnauthenticated).toBe(0);
  await session.bye();
  await callerPhone.close();
  await calleePhone.close();
}

describe('SRTP call legs bridged to plain RTP legs', () => {
  let api: TestApi;
  let app: HttpReceiver;
  let phones: MediaEngine;
  let caller: SipUserAgent;
  let callee: SipUserAgent;
  let calleeBehaviour: (call: IncomingCall) => void = (call) => call.reject(503);
  let number: string;

  beforeAll(async () => {
    api = await startTestApi('sqlite', { flags: { 'sdes-over-insecure-transport': 'true' } });
    app = await HttpReceiver.start();
    phones = new MediaEngine({ portMin: 31900, portMax: 31949, bindAddress: '127.0.0.1', rtpTimeoutMs: 0 });
    caller = new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], publicHost: '127.0.0.1' });
    callee = new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], publicHost: '127.0.0.1' });
    await caller.start();
    await callee.start();
    callee.on('invite', (call) => calleeBehaviour(call));
    const admin = { key: api.credentials.admin_key };
    expect((await api.call('POST', '/v1/admin/trunks', { ...admin, body: { name: 'caller-carrier', host: '127.0.0.1', port: 9, prefixes: [], inbound_addresses: ['127.0.0.1'] } })).statusCode).toBe(201);
    number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+254', routing_url: `${app.url}/answer` } })).json().number as string;
  }, 60_000);
  afterAll(async () => {
    await caller?.close();
    await callee?.close();
    await phones?.close();
    await app?.close();
    await api?.close();
  });

  async function calleeTrunk(srtp: 'off' | 'mandatory', prefix: string): Promise<string> {
    const res = await api.call('POST', '/v1/admin/trunks', { key: api.credentials.admin_key, body: {
      name: `callee-${srtp}`, host: '127.0.0.1', port: callee.localAddress('udp').port, prefixes: [prefix], options_ping: 0, srtp,
    } });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ srtp });
    return res.json().id as string;
  }

  it('an SRTP caller and a plain-RTP callee hear each other', async () => {
    await calleeTrunk('off', '+254730');
    app.respond = () => ({ status: 200, body: JSON.stringify([{ dial: { number: '+254730000001', timeLimit: 30 } }]) });
    const callerPhone = await phones.createEndpoint();
    const calleePhone = await phones.createEndpoint();
    const callerKey = generateMasterKey();
    let offerToCallee = '';
    calleeBehaviour = (call) => {
      offerToCallee = call.sdp!;
      calleePhone.setRemote({ address: '127.0.0.1', port: mediaOf(call.sdp!).port, payloadType: 0, telephoneEvent: 101 });
      call.answer(sdp(calleePhone.localDescription().port, 'RTP/AVP'));
    };
    const session = await caller.invite(`sip:${number.slice(1)}@127.0.0.1:${api.platform.sipAddress.port}`, {
      from: 'sip:+254711000777@127.0.0.1',
      sdp: sdp(callerPhone.localDescription().port, 'RTP/SAVP', [`a=crypto:3 ${suite} inline:${Buffer.alloc(46, 1).toString('base64')}`, `a=crypto:7 ${suite} inline:${callerKey}|2^31`]),
    }).wait();
    // The answer is SRTP with our own key under the tag of the line chosen; the callee's leg is plain RTP.
    const answer = mediaOf(session.remoteSdp!);
    expect(answer.protocol).toBe('RTP/SAVP');
    expect(answer.crypto).toHaveLength(1);
    expect(answer.crypto[0]).toMatchObject({ id: 7, suite });
    const platformKey = answer.crypto[0]!.config.replace(/^inline:/, '');
    expect(platformKey).not.toBe(callerKey);
    await until(async () => offerToCallee !== '', 15_000);
    expect(mediaOf(offerToCallee)).toMatchObject({ protocol: 'RTP/AVP', crypto: [] });

    callerPhone.setRemote({ address: '127.0.0.1', port: answer.port, payloadType: 0, telephoneEvent: 101, srtp: { suite, local: callerKey, remote: platformKey } });
    await talkBothWays(callerPhone, calleePhone, callerPhone, session);
  }, 60_000);

  it('a plain-RTP caller and an SRTP (mandatory) trunk hear each other', async () => {
    await calleeTrunk('mandatory', '+254740');
    app.respond = () => ({ status: 200, body: JSON.stringify([{ dial: { number: '+254740000001', timeLimit: 30 } }]) });
    const callerPhone = await phones.createEndpoint();
    const calleePhone = await phones.createEndpoint();
    const calleeKey = generateMasterKey();
    let offerToCallee = '';
    calleeBehaviour = (call) => {
      offerToCallee = call.sdp!;
      const offer = mediaOf(call.sdp!);
      const platformKey = offer.crypto[0]?.config.replace(/^inline:/, '') ?? '';
      calleePhone.setRemote({ address: '127.0.0.1', port: offer.port, payloadType: 0, telephoneEvent: 101, srtp: { suite, local: calleeKey, remote: platformKey } });
      call.answer(sdp(calleePhone.localDescription().port, 'RTP/SAVP', [`a=crypto:${offer.crypto[0]?.id ?? 1} ${suite} inline:${calleeKey}`]));
    };
    const session = await caller.invite(`sip:${number.slice(1)}@127.0.0.1:${api.platform.sipAddress.port}`, {
      from: 'sip:+254711000778@127.0.0.1', sdp: sdp(callerPhone.localDescription().port, 'RTP/AVP'),
    }).wait();
    expect(mediaOf(session.remoteSdp!)).toMatchObject({ protocol: 'RTP/AVP', crypto: [] });
    await until(async () => offerToCallee !== '', 15_000);
    expect(mediaOf(offerToCallee)).toMatchObject({ protocol: 'RTP/SAVP', crypto: [{ id: 1, suite }] });

    callerPhone.setRemote({ address: '127.0.0.1', port: mediaOf(session.remoteSdp!).port, payloadType: 0, telephoneEvent: 101 });
    await talkBothWays(callerPhone, calleePhone, calleePhone, session);
  }, 60_000);

  it('answers 488 with a Warning to SAVP offers it cannot meet, and to plain offers from a mandatory trunk', async () => {
    const phone = await phones.createEndpoint();
    const offer = (protocol: string, crypto: string[]) => caller.invite(`sip:${number.slice(1)}@127.0.0.1:${api.platform.sipAddress.port}`, {
      from: 'sip:+254711000779@127.0.0.1', sdp: sdp(phone.localDescription().port, protocol, crypto),
    }).wait().then(() => undefined, (error: { response?: { status: number; headers: { get(name: string): string | undefined } } }) => error.response);
    app.respond = () => ({ status: 200, body: JSON.stringify([{ pause: { length: 5 } }]) });
    const aes256 = await offer('RTP/SAVP', [`a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:${Buffer.alloc(46, 2).toString('base64')}`]);
    expect(aes256?.status).toBe(488);
    expect(aes256?.headers.get('warning')).toMatch(/^399 sautikit ".*AES_256_CM_HMAC_SHA1_80.*"$/);
    const mki = await offer('RTP/SAVP', [`a=crypto:1 ${suite} inline:${generateMasterKey()}|2^31|1:4`]);
    expect(mki?.status).toBe(488);
    expect(mki?.headers.get('warning')).toMatch(/MKI/);
    const dtls = await offer('UDP/TLS/RTP/SAVPF', ['a=fingerprint:sha-256 AA:BB', 'a=setup:actpass']);
    expect(dtls?.status).toBe(488);
    // The calling carrier now requires SRTP: its plain offers are refused too.
    const [carrier] = (await api.call('GET', '/v1/admin/trunks', { key: api.credentials.admin_key })).json().filter((t: { name: string }) => t.name === 'caller-carrier');
    const patched = await api.call('PATCH', `/v1/admin/trunks/${carrier.id as string}`, { key: api.credentials.admin_key, body: { srtp: 'mandatory' } });
    expect(patched.json(), patched.body).toMatchObject({ srtp: 'mandatory' });
    const plain = await offer('RTP/AVP', []);
    expect(plain?.status).toBe(488);
    expect(plain?.headers.get('warning')).toMatch(/requires SRTP/);
    await api.call('PATCH', `/v1/admin/trunks/${carrier.id as string}`, { key: api.credentials.admin_key, body: { srtp: 'off' } });
    await phone.close();
  }, 60_000);
});
