import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CallMedia } from '../../src/media/call-media.js';
import type { DtmfEvent } from '../../src/media/dtmf/digits.js';
import type { MediaEndpoint } from '../../src/media/endpoint.js';
import { MediaEngine } from '../../src/media/engine.js';
import { MediaEndpointClosedError } from '../../src/media/media-errors.js';
import { generateMasterKey } from '../../src/media/rtp/srtp-keys.js';
import { ToneSource } from '../../src/media/sources/tones.js';
import { PcmSource } from '../../src/media/sources/audio-source.js';
import { faxCng } from '../helpers/amd-audio.js';
import { UrlAudioError } from '../../src/media/sources/url-audio.js';
import { decodeWav } from '../../src/media/sources/wav.js';
import { FetchRefusedError, type FetchPolicy } from '../../src/shared/fetch-policy.js';
import { describeOnEachMediaBackend } from '../helpers/each-media-backend.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { until } from '../helpers/until.js';
import { toneWav } from '../helpers/wav.js';
import { startStreamServer } from './fork/stream-server.js';
import { captureInbound, captureNext, connect, rms, sine, toneAmplitude } from './helpers.js';

/**
 * `CallMedia` and `MediaBackend` as the call engine uses them, the same
 * tests on both backends: each leg talks real RTP over loopback to a
 * "phone", an in-process `MediaEndpoint` of its own engine that plays and
 * listens like a caller.
 */

/** Every field `stats()` fills, on both backends (`remote` comes with the far end's first RTCP report). */
const STATS_FIELDS = ['codec', 'jitterMs', 'packetsDiscarded', 'packetsForeign', 'packetsLate', 'packetsLost', 'packetsReceived', 'packetsSent'];
const allowPrivate: FetchPolicy = { allowedCallbackHosts: [], allowPrivateCallbacks: true };

let phones: MediaEngine;
let app: HttpReceiver;
let dir: string;
beforeAll(async () => {
  phones = new MediaEngine({ portMin: 31800, portMax: 31899, bindAddress: '127.0.0.1', rtpTimeoutMs: 0 });
  app = await HttpReceiver.start();
  app.respond = (req) => (req.url === '/tone.wav' ? { status: 200, body: toneWav(700, 0.4), contentType: 'audio/wav' } : { status: 404 });
  dir = await mkdtemp(path.join(tmpdir(), 'sautikit-media-backend-'));
});
afterAll(async () => {
  await phones.close();
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

describeOnEachMediaBackend('callMedia', (backend, kind) => {
  const opened: CallMedia[] = [];
  /** A leg of the backend under test (near `near`) with a phone on the other end of its RTP. */
  const legWithPhone = async (near?: CallMedia): Promise<{ leg: CallMedia; phone: MediaEndpoint }> => {
    const leg = await backend().createEndpoint(near ? { near } : {});
    const phone = await phones.createEndpoint();
    opened.push(leg, phone);
    connect(leg, phone);
    return { leg, phone };
  };
  const closeAll = (): Promise<void[]> => Promise.all(opened.splice(0).map((m) => m.close()));
  /** The phone hears `hz` (and not `absentHz`) in its next 300 ms, within the deadline. */
  const hears = (phone: MediaEndpoint, hz: number, absentHz?: number): Promise<boolean> =>
    until(async () => {
      const pcm = await captureNext(phone, 300);
      return toneAmplitude(pcm, hz) > 1500 && (absentHz === undefined || toneAmplitude(pcm, absentHz) < 500);
    }, 10_000, 0);
  const doesNotHear = (phone: MediaEndpoint, hz: number): Promise<boolean> => until(async () => toneAmplitude(await captureNext(phone, 300), hz) < 300, 10_000, 0);
  const longTone = (hz: number): ToneSource => new ToneSource([{ freqs: [hz], ms: 20_000 }], { amplitude: 6000 });

  it(`createEndpoint() describes the leg for SDP and setRemote() throws at once on an unknown codec (${kind})`, async () => {
    const leg = await backend().createEndpoint();
    opened.push(leg);
    const local = leg.localDescription();
    expect(local).toMatchObject({ address: '127.0.0.1', rtcpPort: local.port + 1 });
    expect(local.port % 2).toBe(0);
    expect(local.audio.payloads.map((p) => p.encoding)).toEqual(['PCMU', 'PCMA', 'telephone-event']);
    expect(() => leg.setRemote({ address: '127.0.0.1', port: 9, payloadType: 97 })).toThrow(/unknown codec/);
    expect(leg.state).toBe('open');
    await closeAll();
  });

  it(`emits latched with the far end's source once its RTP arrives (${kind})`, async () => {
    const leg = await backend().createEndpoint();
    const latched = new Promise<{ address: string; port: number }>((resolve) => leg.once('latched', resolve));
    const phone = await phones.createEndpoint();
    opened.push(leg, phone);
    connect(leg, phone);
    expect(await latched).toEqual({ address: '127.0.0.1', port: phone.session.port });
    await closeAll();
  });

  it(`bridge() carries audio both ways, and stats() fills the same fields (${kind})`, async () => {
    const a = await legWithPhone();
    const b = await legWithPhone(a.leg);
    const bridge = await backend().bridge(a.leg, b.leg);
    void a.phone.play(longTone(600));
    void b.phone.play(longTone(1400));
    expect(await hears(b.phone, 600, 1400)).toBe(true);
    expect(await hears(a.phone, 1400, 600)).toBe(true);
    const stats = await until(async () => {
      const s = await a.leg.stats();
      return s.packetsReceived > 20 && s.packetsSent > 20 ? s : undefined;
    });
    expect(Object.keys(stats).filter((k) => k !== 'remote').sort()).toEqual(STATS_FIELDS);
    expect(stats).toMatchObject({ codec: 'PCMU', packetsForeign: 0 });
    // Unbridged: B's phone stops hearing A's.
    bridge.close();
    expect(await doesNotHear(b.phone, 600)).toBe(true);
    await closeAll();
  });

  it(`playPcm() and playTone() reach the far end; loop 0 and a looping tone play until aborted (${kind})`, async () => {
    const { leg, phone } = await legWithPhone();
    const heard = captureInbound(phone, 160);
    expect(await leg.playPcm(sine(1000, 400, 6000))).toBe('done');
    expect(toneAmplitude(await heard, 1000)).toBeGreaterThan(3000);
    const forever = new AbortController();
    const looping = leg.playPcm(sine(800, 100, 6000), { loop: 0, signal: forever.signal });
    expect(await hears(phone, 800)).toBe(true);
    forever.abort();
    expect(await looping).toBe('aborted');
    const ringing = new AbortController();
    const tone = leg.playTone('ringback', { loop: true, signal: ringing.signal });
    expect(await hears(phone, 440)).toBe(true);
    ringing.abort();
    expect(await tone).toBe('aborted');
    await closeAll();
  });

  it(`playUrl() plays a WAV from a local server within the policy, looped (${kind})`, async () => {
    const { leg, phone } = await legWithPhone();
    const heard = captureInbound(phone, 500);
    expect(await leg.playUrl(`${app.url}/tone.wav`, { policy: allowPrivate, loop: 2 })).toBe('done');
    expect(toneAmplitude(await heard, 700)).toBeGreaterThan(4000);
    await closeAll();
  });

  it(`playUrl() rejects a refused URL with FetchRefusedError and a bad one with UrlAudioError, same class and code (${kind})`, async () => {
    const { leg } = await legWithPhone();
    const refused = leg.playUrl(`${app.url}/tone.wav`, { policy: { allowedCallbackHosts: [], allowPrivateCallbacks: false } });
    await expect(refused).rejects.toBeInstanceOf(FetchRefusedError);
    await expect(refused).rejects.toMatchObject({ code: 'fetch_not_allowed', url: `${app.url}/tone.wav` });
    for (const [url, code] of [[`${app.url}/missing.wav`, 'http_status'], ['ftp://127.0.0.1/tone.wav', 'bad_url']] as const) {
      const failed = leg.playUrl(url, { policy: allowPrivate });
      await expect(failed).rejects.toBeInstanceOf(UrlAudioError);
      await expect(failed).rejects.toMatchObject({ code });
    }
    await closeAll();
  });

  it(`say() speaks to the far end, and an abort ends it (${kind})`, async () => {
    const { leg, phone } = await legWithPhone();
    const heard = captureInbound(phone, 400);
    expect(await leg.say('Karibu Sautikit', { language: 'sw' })).toBe('done');
    expect(rms(await heard)).toBeGreaterThan(300);
    const stop = new AbortController();
    const speaking = leg.say('This sentence is long enough to still be playing when it is aborted.', { loop: 0, signal: stop.signal });
    await captureInbound(phone, 100);
    stop.abort();
    expect(await speaking).toBe('aborted');
    await closeAll();
  }, 60_000);

  it(`setRemote() carries SRTP keys to the leg: tones and RFC 4733 digits cross both ways encrypted (${kind})`, async () => {
    const leg = await backend().createEndpoint();
    const phone = await phones.createEndpoint();
    opened.push(leg, phone);
    const legKey = generateMasterKey();
    const phoneKey = generateMasterKey();
    const suite = 'AES_CM_128_HMAC_SHA1_80' as const;
    leg.setRemote({ address: '127.0.0.1', port: phone.localDescription().port, payloadType: 0, telephoneEvent: 101, srtp: { suite, local: legKey, remote: phoneKey } });
    phone.setRemote({ address: '127.0.0.1', port: leg.localDescription().port, payloadType: 0, telephoneEvent: 101, srtp: { suite, local: phoneKey, remote: legKey } });
    void phone.play(longTone(700));
    void leg.playTone('ringback', { loop: true });
    // The phone hears the leg's ringback (440+480 Hz) decrypted; the leg gets the phone's digits decrypted.
    expect(await hears(phone, 440)).toBe(true);
    const collecting = leg.collectDigits({ timeoutMs: 10_000 });
    await phone.sendDtmf('7#');
    expect(await collecting).toEqual({ digits: '7', reason: 'finishOnKey' });
    expect(phone.session.stats.droppedUnauthenticated).toBe(0);
    expect((await leg.stats()).packetsReceived).toBeGreaterThan(10);
    await closeAll();
  }, 60_000);

  it(`collectDigits() gathers RFC 4733 digits, each also a dtmf event; an abort ends it (${kind})`, async () => {
    const { leg, phone } = await legWithPhone();
    const events: string[] = [];
    leg.on('dtmf', (e: DtmfEvent) => events.push(`${e.digit}/${e.source}`));
    const collecting = leg.collectDigits({ timeoutMs: 5000 });
    await phone.sendDtmf('42#');
    expect(await collecting).toEqual({ digits: '42', reason: 'finishOnKey' });
    await until(async () => events.length === 3);
    expect(events).toEqual(['4/rfc4733', '2/rfc4733', '#/rfc4733']);
    const stop = new AbortController();
    const aborted = leg.collectDigits({ signal: stop.signal });
    stop.abort();
    expect(await aborted).toEqual({ digits: '', reason: 'aborted' });
    await closeAll();
  });

  it(`detectMachine() listens to the far end where the media runs: a fax tone is fax, an abort and a closed leg end it (${kind})`, async () => {
    const { leg, phone } = await legWithPhone();
    void phone.play(new PcmSource(faxCng(2)));
    const fax = await leg.detectMachine({ mode: 'Enable', timeoutMs: 10_000 });
    expect(fax).toMatchObject({ answeredBy: 'fax', reason: 'fax_tone' });
    expect(Math.abs(fax.toneHz! - 1100)).toBeLessThan(30);
    const stop = new AbortController();
    const aborted = leg.detectMachine({ mode: 'DetectMessageEnd', timeoutMs: 10_000, signal: stop.signal });
    stop.abort();
    expect(await aborted).toMatchObject({ answeredBy: 'unknown', reason: 'aborted' });
    const listening = leg.detectMachine({ mode: 'Enable', timeoutMs: 10_000 });
    await leg.close();
    expect(await listening).toMatchObject({ answeredBy: 'unknown', reason: 'closed' });
    await closeAll();
  });

  it(`record() writes the caller's audio to a WAV until its limit (${kind})`, async () => {
    const { leg, phone } = await legWithPhone();
    void phone.play(longTone(500));
    await until(async () => (await leg.stats()).packetsReceived > 10);
    const file = path.join(dir, `leg-${kind.replaceAll(' ', '-')}.wav`);
    const result = await leg.record({ path: file, track: 'inbound', maxDurationMs: 600 });
    expect(result.reason).toBe('maxDuration');
    const wav = decodeWav(await readFile(file));
    expect(wav.pcm.length).toBeGreaterThan(3200);
    expect(toneAmplitude(wav.pcm.subarray(wav.pcm.length - 1600), 500)).toBeGreaterThan(3000);
    await closeAll();
  });

  it(`createMixer(): members hear each other; a muted member is not heard, one on hold neither hears nor is heard; the mix records; a closed leg leaves (${kind})`, async () => {
    const a = await legWithPhone();
    const b = await legWithPhone(a.leg);
    const c = await legWithPhone(a.leg);
    const room = backend().createMixer();
    room.add(a.leg);
    const memberB = room.add(b.leg);
    const memberC = room.add(c.leg);
    void a.phone.play(longTone(600));
    void b.phone.play(longTone(1400));
    void c.phone.play(longTone(900));
    expect(await hears(c.phone, 600)).toBe(true);
    expect(await hears(c.phone, 1400)).toBe(true);
    memberB.setMuted(true);
    expect(await doesNotHear(c.phone, 1400)).toBe(true);
    expect(await hears(b.phone, 600)).toBe(true); // muted, B still hears the room
    memberC.setHold(true);
    expect(await doesNotHear(a.phone, 900)).toBe(true);
    expect(await doesNotHear(c.phone, 600)).toBe(true);
    const stopRecording = new AbortController();
    const recording = room.record(path.join(dir, `room-${kind.replaceAll(' ', '-')}.wav`), stopRecording.signal);
    await captureNext(a.phone, 300);
    stopRecording.abort();
    const info = await recording;
    expect(info?.durationMs).toBeGreaterThan(0);
    expect(info && (await stat(info.path)).size).toBe(info?.bytes);
    const left: CallMedia[] = [];
    room.on('memberLeft', (leg) => left.push(leg));
    await b.leg.close();
    await until(async () => left.length === 1);
    expect(left[0]?.id).toBe(b.leg.id);
    room.close();
    await closeAll();
  });

  it(`stream() sends the leg's audio to a local WebSocket and plays what comes back; an abort ends it (${kind})`, async () => {
    const server = await startStreamServer();
    try {
      const { leg, phone } = await legWithPhone();
      void phone.play(longTone(500));
      const stop = new AbortController();
      const call = { callId: 'call-7', from: '+254711000001', to: '+254712345678', direction: 'inbound' as const, accountId: 'ws_1' };
      const stream = backend().stream(leg, { url: server.url, policy: allowPrivate, name: 'agent', call, signal: stop.signal });
      const started = new Promise((resolve) => stream.once('started', resolve));
      const result = stream.result;
      const connection = await server.next();
      expect(await started).toEqual({ protocol: 'audio.drachtio.org' });
      expect((await connection.text(() => true)).callId).toBe('call-7');
      expect((await connection.frames(5)).length).toBeGreaterThanOrEqual(5);
      const heard = captureInbound(phone, 200);
      connection.ws.send(Buffer.from(sine(1200, 400, 6000).buffer));
      expect(toneAmplitude(await heard, 1200)).toBeGreaterThan(3000);
      stop.abort();
      expect(await result).toMatchObject({ started: true, closedBy: 'platform' });
    } finally {
      await server.close();
      await closeAll();
    }
  });

  it(`emits rtpTimeout when the far end stops sending (${kind})`, async () => {
    const { leg, phone } = await legWithPhone();
    await until(async () => (await leg.stats()).packetsReceived > 5);
    const timedOut = new Promise<void>((resolve) => leg.once('rtpTimeout', () => resolve()));
    leg.setRtpTimeout(300);
    await phone.close();
    await timedOut;
    await closeAll();
  });

  it(`close() is idempotent: one closed event, what runs ends closed, later commands throw MediaEndpointClosedError, stats() still answers (${kind})`, async () => {
    const { leg } = await legWithPhone();
    await until(async () => (await leg.stats()).packetsSent > 5);
    let closed = 0;
    leg.on('closed', () => closed++);
    const playing = leg.playTone('ringback', { loop: true });
    const digits = leg.collectDigits({ timeoutMs: 10_000 });
    await Promise.all([leg.close(), leg.close()]);
    await leg.close();
    expect(leg.state).toBe('closed');
    expect(closed).toBe(1);
    expect(await playing).toBe('closed');
    expect(await digits).toEqual({ digits: '', reason: 'closed' });
    expect(await leg.playTone('beep')).toBe('closed');
    expect(await leg.collectDigits()).toEqual({ digits: '', reason: 'closed' });
    expect(() => leg.setRemote({ address: '127.0.0.1', port: 9, payloadType: 0 })).toThrow(MediaEndpointClosedError);
    await expect(leg.sendDtmf('1')).rejects.toBeInstanceOf(MediaEndpointClosedError);
    await expect(leg.record({ path: path.join(dir, 'never.wav') })).rejects.toMatchObject({ code: 'media_endpoint_closed' });
    const stats = await leg.stats();
    expect(stats.codec).toBe('PCMU');
    expect(stats.packetsSent).toBeGreaterThan(5);
    await closeAll();
  });
});
