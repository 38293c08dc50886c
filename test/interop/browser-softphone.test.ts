/**
 * Browser agents (SPEC §15) in real Chromium: the softphone page at
 * /console/softphone registers over SIP-over-WebSocket with a workspace SIP
 * credential, and its calls carry WebRTC media (ICE lite, DTLS-SRTP, Opus)
 * to and from phones on a carrier trunk. The trunk's side is a SIP user
 * agent with an RTP endpoint of our own SIP and media stacks on real
 * loopback sockets, so what it hears can be measured sample by sample.
 * Chromium's fake microphone plays a 1000 Hz tone; the carrier plays 440 Hz.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallLeg } from '../../src/legs/call-leg.js';
import { MediaEngine } from '../../src/media/engine.js';
import type { MediaEndpoint } from '../../src/media/endpoint.js';
import { PcmSource } from '../../src/media/sources/audio-source.js';
import { SipUserAgent } from '../../src/sip/ua/sip-user-agent.js';
import { silentLogger } from '../../src/shared/log.js';
import { freePort } from '../helpers/cli-process.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';
import { decodeWav } from '../../src/media/sources/wav.js';
import { toneAmplitude } from '../media/helpers.js';
import { bytesOf, samplesOf, startStreamServer, type StreamServer } from '../media/fork/stream-server.js';
import { toneWav } from '../helpers/wav.js';
import { launchChromium, writeToneWav, type TestBrowser } from './chromium.js';
import { pcmToneShare } from './tone-pcap.js';

const BROWSER_HZ = 1000;
const CARRIER_HZ = 440;
/** What the stream's socket and the transfer target's app play: a tone neither the page nor the carrier makes. */
const THIRD_HZ = 660;

function sine(hz: number, seconds: number): Int16Array {
  const pcm = new Int16Array(8000 * seconds);
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / 8000));
  return pcm;
}

/** Counts the 20 ms frames a leg receives that are mostly `hz`. */
function listen(media: MediaEndpoint, hz: number): { frames: () => number } {
  let frames = 0;
  media.fork('inbound', (frame) => {
    let peak = 0;
    for (const v of frame) peak = Math.max(peak, Math.abs(v));
    if (peak > 500 && pcmToneShare(frame, hz) > 0.6) frames += 1;
  });
  return { frames: () => frames };
}

/** The carrier: a SIP user agent on the trunk's address with RTP media, playing 440 Hz on every call. */
class Carrier {
  readonly media = new MediaEngine({ advertisedAddress: '127.0.0.1', bindAddress: '127.0.0.1', portMin: 32_100, portMax: 32_199 });
  readonly ua: SipUserAgent;
  readonly legs: CallLeg<MediaEndpoint>[] = [];
  readonly heard = new Map<CallLeg<MediaEndpoint>, { frames: () => number }>();

  constructor(port: number) {
    this.ua = new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port }], publicHost: '127.0.0.1', logger: silentLogger });
    this.ua.on('invite', (incoming) => void this.#answer(incoming));
  }

  async #answer(incoming: Parameters<typeof CallLeg.fromIncoming>[0]): Promise<void> {
    const leg = await CallLeg.fromIncoming(incoming, this.media, silentLogger);
    if ('problem' in leg) return;
    this.#track(leg);
    leg.answer();
  }

  #track(leg: CallLeg<MediaEndpoint>): void {
    this.legs.push(leg);
    this.heard.set(leg, listen(leg.media, BROWSER_HZ));
    void leg.media.play(new PcmSource(sine(CARRIER_HZ, 1), { loop: true }));
  }

  async call(uri: string, from: string): Promise<CallLeg<MediaEndpoint>> {
    const leg = await CallLeg.dial(this.ua, this.media, { uri, from }, silentLogger);
    this.#track(leg);
    return leg;
  }

  async close(): Promise<void> {
    for (const leg of this.legs) await leg.hangup();
    await this.ua.close();
    await this.media.close();
  }
}

describe('browser agents: the softphone page in Chromium with WebRTC media', () => {
  let api: TestApi;
  let app: HttpReceiver;
  let browser: TestBrowser;
  let carrier: Carrier;
  let streams: StreamServer;
  let aor = '';
  let credentialId = '';
  let number = '';
  const dir = mkdtempSync(join(tmpdir(), 'browser-agent-'));

  beforeAll(async () => {
    api = await startTestApi('sqlite');
    app = await HttpReceiver.start();
    const carrierPort = await freePort();
    carrier = new Carrier(carrierPort);
    await carrier.ua.start();
    const admin = api.credentials.admin_key;
    const trunk = await api.call('POST', '/v1/admin/trunks', { key: admin, body: {
      name: 'carrier', host: '127.0.0.1', port: carrierPort, transport: 'udp', prefixes: ['+2547'], inbound_addresses: ['127.0.0.1'], options_ping: 0,
    } });
    expect(trunk.statusCode, trunk.body).toBe(201);
    number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: `${app.url}/inbound` } })).json().number;
    const credential = (await api.call('POST', '/v1/sip/credentials', { body: { username: 'agent7', password: 'browser-pass-7', caller_id: number } })).json();
    aor = credential.aor;
    credentialId = credential.id;
    const mic = join(dir, 'mic.wav');
    writeToneWav(mic, BROWSER_HZ);
    browser = await launchChromium(mic);
    streams = await startStreamServer();
  }, 60_000);

  afterAll(async () => {
    await streams?.close();
    await browser?.close();
    await carrier?.close();
    await app?.close();
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the softphone page registers with the workspace SIP credential over /v1/sip/ws', async () => {
    const domain = aor.split('@')[1]!;
    const url = `${api.platform.httpUrl}/console/softphone?user=agent7&password=browser-pass-7&domain=${encodeURIComponent(domain)}`;
    await browser.page.goto(url);
    await until(() => browser.page.evaluate('window.softphone?.state.registered === true') as Promise<boolean>, 15_000)
      .catch((error: unknown) => { throw new Error(`${String(error)}\n${browser.log()}`); });
    const [listed] = (await api.call('GET', '/v1/sip/credentials')).json();
    expect(listed).toMatchObject({ id: credentialId, registered: true });
  }, 30_000);

  type Softphone = {
    state: { registered: boolean; call: string };
    call(target: string): Promise<void>;
    answer(): void;
    hangup(): void;
    dtmf(digit: string): void;
    inboundLevel(): number;
    stats(): Promise<{ inbound: { packetsReceived: number; totalAudioEnergy: number } | null; outbound: { packetsSent: number } | null }>;
  };
  /** The page's RTCPeerConnection, as much of it as the tests use (no DOM types in this project). */
  type PageWithPeer = { peerConnection(): { getSenders(): { dtmf: { canInsertDTMF: boolean; insertDTMF(tones: string, duration: number, gap: number): void } | null }[] } };
  const phone = <T>(fn: (softphone: Softphone) => T | Promise<T>): Promise<T> =>
    browser.page.evaluate(`(${fn.toString()})(window.softphone)`) as Promise<T>;
  /** `phone` with one JSON argument (the page sees no closure of ours). */
  const phoneWith = <A, T>(fn: (softphone: Softphone, arg: A) => T | Promise<T>, arg: A): Promise<T> =>
    browser.page.evaluate(`(${fn.toString()})(window.softphone, ${JSON.stringify(arg)})`) as Promise<T>;
  const callState = (): Promise<string> => phone((s) => s.state.call);
  const fail = (error: unknown): never => {
    throw new Error(`${String(error)}\n${browser.log()}`);
  };

  /** The page hears the carrier: its analyser level and WebRTC audio energy rise. */
  async function pageHearsCarrier(): Promise<void> {
    await until(async () => (await phone((s) => s.inboundLevel())) > 0.02, 15_000)
      .catch(async (error: unknown) => fail(`${String(error)} ${JSON.stringify(await phone((s) => s.stats()))} level ${await phone((s) => s.inboundLevel())} ${JSON.stringify(await phone((s) => (s as unknown as { connection(): unknown }).connection()), null, 1)}`));
    // A second of the carrier's audio, with energy, in WebRTC's own figures.
    const stats = await until(async () => {
      const now = await phone((s) => s.stats());
      return now.inbound && now.inbound.packetsReceived > 50 && now.inbound.totalAudioEnergy > 0 ? now : undefined;
    }, 15_000).catch(fail);
    expect(stats.outbound!.packetsSent).toBeGreaterThan(0);
  }

  /** A trunk caller reaches the browser agent through the number's `dial`; the page answers and both hear each other. */
  async function trunkCallerToAgent(from: string, dial: Record<string, unknown>): Promise<{ leg: CallLeg<MediaEndpoint>; parent: string }> {
    app.requests.length = 0;
    app.respond = (req) => (req.url === '/inbound' ? { status: 200, body: JSON.stringify([{ dial: { sip: aor, timeout: 20, ...dial } }]) } : { status: 200, body: '[]' });
    const sip = api.platform.sipAddress;
    const leg = await carrier.call(`sip:${number.slice(1)}@${sip.host}:${sip.port}`, from);
    await until(async () => (await callState()) === 'incoming', 15_000).catch(fail);
    await phone((s) => s.answer());
    await until(async () => (await callState()) === 'established', 15_000).catch(fail);
    await until(async () => leg.answered, 10_000);
    await pageHearsCarrier();
    await until(async () => carrier.heard.get(leg)!.frames() > 25, 15_000).catch(fail);
    const parent = app.requests.find((r) => r.url === '/inbound')!.json.CallId as string;
    return { leg, parent };
  }

  it('a trunk caller dialled to the agent\'s sip: user is answered in the browser, and each hears the other\'s tone', async () => {
    const { leg } = await trunkCallerToAgent('sip:+254711000042@127.0.0.1', {});
    // Keys pressed in the page cross the bridge: the carrier negotiated telephone-event, so it gets RFC 4733, once each.
    const keys: string[] = [];
    leg.on('dtmf', (digit, via) => keys.push(`${digit}:${via ?? ''}`));
    await phone((s) => s.dtmf('7*'));
    await until(async () => (keys.length >= 2 ? keys : undefined), 10_000).catch(fail);
    await new Promise((r) => setTimeout(r, 300));
    expect(keys).toEqual(['7:rfc4733', '*:rfc4733']);
    await phone((s) => s.hangup());
    await until(async () => (await callState()) === 'idle', 10_000).catch(async (e: unknown) => fail(`${String(e)} state ${await callState()} leg ${JSON.stringify(leg.endInfo)}`));
    await until(async () => leg.endInfo !== undefined, 10_000);
    expect(leg.endInfo).toMatchObject({ by: 'remote' });
  }, 60_000);

  it('the browser agent dials an E.164 number out through the trunk, and each side hears the other', async () => {
    const before = carrier.legs.length;
    await phone((s) => s.call('+254722000123'));
    await until(async () => (await callState()) === 'established', 20_000).catch(fail);
    const leg = await until(async () => carrier.legs[before], 10_000);
    await pageHearsCarrier();
    await until(async () => carrier.heard.get(leg)!.frames() > 25, 15_000).catch(fail);
    await phone((s) => s.hangup());
    await until(async () => leg.endInfo !== undefined, 10_000);
    await until(async () => (await callState()) === 'idle', 10_000).catch(fail);
    const call = await until(async () => {
      const [latest] = (await api.call('GET', '/v1/calls?to=%2B254722000123')).json();
      return latest && latest.price !== null ? latest : undefined;
    }, 15_000);
    // Direct routing (SPEC §13): caller ID is the credential's caller_id, billed at the destination rate.
    expect(call).toMatchObject({ to: '+254722000123', from: number, status: 'completed' });
  }, 60_000);

  it('a browser leg joins a conference with a phone on the trunk, and each hears the other', async () => {
    app.respond = () => ({ status: 200, body: JSON.stringify([{ conference: { name: 'support-room', startOnEnter: true, beep: false } }]) });
    const patched = await api.call('PATCH', `/v1/sip/credentials/${credentialId}`, { body: { routing_url: `${app.url}/agent` } });
    expect(patched.statusCode, patched.body).toBe(200);
    await phone((s) => s.call('room'));
    await until(async () => (await callState()) === 'established', 20_000).catch(fail);
    const sip = api.platform.sipAddress;
    const leg = await carrier.call(`sip:${number.slice(1)}@${sip.host}:${sip.port}`, 'sip:+254711000043@127.0.0.1');
    await until(async () => leg.answered, 15_000);
    const room = await until(async () => {
      const rooms = (await api.call('GET', '/v1/conferences')).json();
      const list = Array.isArray(rooms) ? rooms : rooms.data ?? rooms.conferences ?? [];
      const found = list.find((r: { name: string }) => r.name === 'support-room');
      return found && (found.participants?.length ?? found.participant_count ?? 0) >= 2 ? found : undefined;
    }, 15_000).catch(fail);
    expect(room).toBeTruthy();
    await until(async () => carrier.heard.get(leg)!.frames() > 25, 15_000).catch(fail);
    await pageHearsCarrier();
    await leg.hangup();
    await phone((s) => s.hangup());
    await until(async () => (await callState()) === 'idle', 10_000).catch(fail);
  }, 60_000);

  it('RFC 4733 telephone-events from the browser\'s RTCDTMFSender reach a getDigits once each', async () => {
    app.requests.length = 0;
    app.respond = (req) => req.url === '/agent'
      ? { status: 200, body: JSON.stringify([{ getDigits: { numDigits: 4, finishOnKey: '', timeout: 10, action: `${app.url}/digits`, nested: [{ say: { text: 'Enter four keys.' } }] } }]) }
      : { status: 200, body: JSON.stringify([{ hangup: {} }]) };
    await phone((s) => s.call('keys'));
    await until(async () => (await callState()) === 'established', 20_000).catch(fail);
    // The answer negotiated telephone-event, so Chromium can put DTMF in the media (the platform's answer matched its offer).
    const remoteSdp = await phone((s) => (s as unknown as { connection(): { remote: string } }).connection().remote);
    expect(remoteSdp).toMatch(/a=rtpmap:\d+ telephone-event\/48000/);
    // canInsertDTMF turns true once DTLS is up, and only with telephone-event negotiated.
    await until(() => phone((s) => (s as unknown as PageWithPeer).peerConnection().getSenders()[0]!.dtmf!.canInsertDTMF), 10_000).catch(fail);
    await phone((s) => (s as unknown as PageWithPeer).peerConnection().getSenders()[0]!.dtmf!.insertDTMF('123#', 100, 70));
    const digits = await until(async () => app.requests.find((r) => r.url === '/digits'), 15_000).catch(fail);
    // One digit per event: the end packet's retransmissions (three in Chromium) add nothing, and '#' is a digit here.
    expect(digits.json).toMatchObject({ Digits: '123#', From: aor });
    await until(async () => (await callState()) === 'idle', 15_000).catch(fail);
  }, 60_000);

  it('DTMF pressed in the page reaches a getDigits', async () => {
    app.requests.length = 0;
    app.respond = (req) => req.url === '/agent'
      ? { status: 200, body: JSON.stringify([{ getDigits: { numDigits: 2, timeout: 10, action: `${app.url}/digits`, nested: [{ say: { text: 'Enter two digits.' } }] } }]) }
      : { status: 200, body: JSON.stringify([{ hangup: {} }]) };
    await phone((s) => s.call('menu'));
    await until(async () => (await callState()) === 'established', 20_000).catch(fail);
    await new Promise((r) => setTimeout(r, 500));
    await phone((s) => s.dtmf('4'));
    await phone((s) => s.dtmf('2'));
    const digits = await until(async () => app.requests.find((r) => r.url === '/digits'), 15_000).catch(fail);
    expect(digits.json).toMatchObject({ Digits: '42', From: aor });
    // The page's keypad put them in the media (RFC 4733), SIP INFO being its fallback.
    expect(await phone((s) => (s.state as unknown as { dtmfVia: string }).dtmfVia)).toBe('rfc4733');
    await until(async () => (await callState()) === 'idle', 15_000).catch(fail);
  }, 60_000);
  const childrenOf = async (parent: string): Promise<{ id: string; to: string; status: string; hangup_cause: string | null; price: string | null; parent_call_id: string }[]> =>
    (await api.call('GET', `/v1/calls?parent_call_id=${parent}`)).json();

  it('a browser leg bridged to a trunk caller with `record` on the dial: the recording holds both sides\' tones', async () => {
    const { leg, parent } = await trunkCallerToAgent('sip:+254711000044@127.0.0.1', { record: true });
    // Two more seconds of conversation, then the caller hangs up.
    const heard = carrier.heard.get(leg)!.frames();
    await until(async () => carrier.heard.get(leg)!.frames() > heard + 100, 15_000).catch(fail);
    await leg.hangup();
    await until(async () => (await callState()) === 'idle', 10_000).catch(fail);
    const [child] = await until(async () => {
      const list = await childrenOf(parent);
      return list.length === 1 ? list : undefined;
    }, 15_000);
    const wav = await until(async () => {
      for (const id of [parent, child!.id]) {
        const res = await api.call('GET', `/v1/calls/${id}/recording`);
        if (res.statusCode === 200) return res.rawPayload;
      }
      return undefined;
    }, 30_000);
    const { pcm, sampleRate } = decodeWav(wav);
    // From the second second (the bridge's first moments) to the end: both tones, each well above the noise.
    const talk = pcm.subarray(Math.min(pcm.length, sampleRate));
    expect(talk.length / sampleRate).toBeGreaterThan(1);
    expect(toneAmplitude(talk, CARRIER_HZ, sampleRate), 'the recording lacks the trunk caller').toBeGreaterThan(1000);
    expect(toneAmplitude(talk, BROWSER_HZ, sampleRate), 'the recording lacks the browser').toBeGreaterThan(1000);
    expect(toneAmplitude(talk, THIRD_HZ, sampleRate)).toBeLessThan(300);
  }, 60_000);

  it('a `stream` on the browser agent\'s call: the socket gets the browser\'s tone, and audio sent back is heard in the page', async () => {
    app.respond = (req) => req.url === '/agent'
      ? { status: 200, body: JSON.stringify([{ stream: { url: streams.url, track: 'inbound_track', outputSamplingRate: 8000 } }]) }
      : { status: 200, body: '[]' };
    await phone((s) => s.call('bot'));
    await until(async () => (await callState()) === 'established', 20_000).catch(fail);
    const socket = await streams.next();
    const metadata = await socket.text(() => true);
    expect(metadata).toMatchObject({ sampleRate: 8000, track: 'inbound_track' });
    // Two seconds of what the browser sends, after the first second.
    const frames = await socket.frames(150);
    const heard = samplesOf(frames.slice(50));
    expect(toneAmplitude(heard, BROWSER_HZ, 8000), 'the socket did not get the browser\'s tone').toBeGreaterThan(1000);
    expect(toneAmplitude(heard, CARRIER_HZ, 8000)).toBeLessThan(300);
    // Nothing plays to the page before the socket speaks.
    expect(await phone((s) => s.inboundLevel())).toBeLessThan(0.01);
    // Four seconds of 660 Hz, sent as one burst in 20 ms frames: queued and played in order.
    const reply = decodeWav(toneWav(THIRD_HZ, 4)).pcm;
    for (let i = 0; i < reply.length; i += 160) socket.ws.send(bytesOf(reply.subarray(i, i + 160)));
    await until(async () => (await phone((s) => s.inboundLevel())) > 0.02, 10_000).catch(fail);
    // A key pressed in the page (RFC 4733) reaches the socket as a dtmf message.
    await phone((s) => s.dtmf('5'));
    const key = await Promise.race([socket.text((m) => m.event === 'dtmf'), new Promise((_, reject) => setTimeout(() => reject(new Error('no dtmf message')), 10_000))]);
    expect(key).toMatchObject({ event: 'dtmf', dtmf: '5' });
    socket.ws.close();
    await phone((s) => s.hangup());
    await until(async () => (await callState()) === 'idle', 10_000).catch(fail);
  }, 60_000);

  it('a trunk caller bridged to the browser agent is transferred by the page\'s REFER to a number of the workspace: the caller ends up with its app', async () => {
    const sales = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: `${app.url}/sales` } })).json().number as string;
    const { leg, parent } = await trunkCallerToAgent('sip:+254711000045@127.0.0.1', {});
    const toneHeard = listen(leg.media, THIRD_HZ);
    const previous = app.respond;
    app.respond = (req) => {
      if (req.url === '/sales') return { status: 200, body: JSON.stringify([{ play: { url: `${app.url}/third.wav`, loop: 0 } }]) };
      if (req.url === '/third.wav') return { status: 200, body: toneWav(THIRD_HZ, 2), contentType: 'audio/wav' };
      return previous(req, 0);
    };
    await phoneWith((s, target) => (s as unknown as { transfer(to: string): void }).transfer(target), sales);
    // The platform accepts the REFER and ends the browser's leg; the caller hears the target's app.
    await until(async () => (await callState()) === 'idle', 15_000).catch(fail);
    expect(await phone((s) => (s.state as unknown as { transfer: string }).transfer)).toBe('accepted');
    const salesRequest = await until(async () => app.requests.find((r) => r.url === '/sales'), 15_000).catch(fail);
    expect(salesRequest.json).toMatchObject({ Direction: 'inbound', To: sales });
    await until(async () => toneHeard.frames() > 25, 15_000).catch(fail);
    expect(leg.endInfo).toBeUndefined();
    await leg.hangup();
    const legs = await until(async () => {
      const list = await childrenOf(parent);
      return list.length === 2 && list.every((c) => c.price !== null) ? list : undefined;
    }, 30_000);
    expect(legs.find((c) => c.to === aor)).toMatchObject({ status: 'completed', hangup_cause: 'transferred' });
    expect(legs.find((c) => c.to === sales)).toMatchObject({ status: 'completed', parent_call_id: parent });
  }, 60_000);
});
