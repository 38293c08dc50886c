/**
 * RFC 4733 through the WebRTC gateway, both ways, against a werift peer
 * connection standing in for the browser (real ICE, DTLS-SRTP over loopback)
 * and a real engine endpoint: the peer offers telephone-event at 48000 Hz
 * and 8000 Hz as Chromium does. (Chromium itself is driven in
 * test/interop/browser-softphone.test.ts, but it shows no received DTMF to
 * a page, so what reaches the browser is checked here.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket, type RTCRtpTransceiver } from 'werift';
import { MediaEngine } from '../../src/media/engine.js';
import type { MediaEndpoint } from '../../src/media/endpoint.js';
import type { DtmfEvent } from '../../src/media/dtmf/digits.js';
import { WebRtcGateway } from '../../src/media/webrtc/webrtc-gateway.js';
import { silentLogger } from '../../src/shared/log.js';
import { until } from '../helpers/until.js';

const OPUS = new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111 });
const EVENT_48K = new RTCRtpCodecParameters({ mimeType: 'audio/telephone-event', clockRate: 48000, channels: 1, payloadType: 110 });
/** An Opus packet of silence (a TOC byte for one 20 ms CELT frame, and its payload). */
const SILENT_OPUS = Buffer.from([0xf8, 0xff, 0xfe]);
const EVENT_8K = new RTCRtpCodecParameters({ mimeType: 'audio/telephone-event', clockRate: 8000, channels: 1, payloadType: 126 });

interface Call {
  engine: MediaEngine;
  media: MediaEndpoint;
  gateway: WebRtcGateway;
  browser: RTCPeerConnection;
  transceiver: RTCRtpTransceiver;
  answer: string;
  /** Telephone-event packets the browser received: payload type, timestamp, marker, payload. */
  events: { payloadType: number; timestamp: number; marker: boolean; payload: Buffer }[];
  /** Opus packets the browser received. */
  audio: number;
}

const open: Call[] = [];

/**
 * A call whose media flows both ways. werift against werift on this host
 * sometimes fails its DTLS handshake on one side while the other reports
 * `connected` (the Chromium tests never see it): such a pair carries
 * nothing, so it is torn down and set up again (three tries), which tests
 * the transport's set-up, not the DTMF this file is about.
 */
async function connect(codecs: RTCRtpCodecParameters[], direction: 'from-browser' | 'to-browser' = 'from-browser'): Promise<Call> {
  for (let attempt = 1; ; attempt++) {
    const call = await attemptCall(codecs, direction);
    const flowing = await until(async () => {
      // Audio from the browser, as a browser sends from the start, until the gateway hears it.
      call.transceiver.sender.track!.writeRtp(new RtpPacket(new RtpHeader({ payloadType: OPUS.payloadType, sequenceNumber: call.audio, timestamp: call.audio * 960 }), SILENT_OPUS));
      return call.browser.connectionState === 'connected' && call.gateway.counters.fromBrowser > 0 && call.audio > 0;
    }, 4_000, 20).catch(() => false);
    if (flowing) return call;
    open.splice(open.indexOf(call), 1);
    await closeCall(call);
    if (attempt === 3) throw new Error('no media between the werift stand-in and the gateway after three set-ups');
  }
}

async function closeCall(call: Call): Promise<void> {
  await call.browser.close();
  await call.gateway.close();
  await call.media.close();
  await call.engine.close();
}

async function attemptCall(codecs: RTCRtpCodecParameters[], direction: 'from-browser' | 'to-browser'): Promise<Call> {
  const engine = new MediaEngine({ advertisedAddress: '127.0.0.1', bindAddress: '127.0.0.1', portMin: 32_600, portMax: 32_649 });
  const media = await engine.createEndpoint();
  const gateway = await WebRtcGateway.open({ advertisedAddress: '127.0.0.1', logger: silentLogger });
  const browser = new RTCPeerConnection({
    // Bound to loopback: a pair from the host's LAN address to our loopback candidate would carry nothing.
    iceServers: [], iceUseIpv6: false, iceInterfaceAddresses: { udp4: '127.0.0.1' },
    iceFilterCandidatePair: (pair) => pair.remoteCandidate.host === '127.0.0.1',
    codecs: { audio: codecs, video: [] },
  });
  const transceiver = browser.addTransceiver(new MediaStreamTrack({ kind: 'audio' }), { direction: 'sendrecv' });
  const call: Call = { engine, media, gateway, browser, transceiver, answer: '', events: [], audio: 0 };
  open.push(call);
  browser.onTrack.subscribe((t) => t.onReceiveRtp.subscribe((rtp) => {
    if (rtp.header.payloadType === OPUS.payloadType) call.audio += 1;
    else {
      call.events.push({ payloadType: rtp.header.payloadType, timestamp: rtp.header.timestamp, marker: rtp.header.marker, payload: Buffer.from(rtp.payload) });
    }
  }));
  if (direction === 'to-browser') {
    // We call the browser: our offer, its answer (the stand-in is then the DTLS client, as a browser answering is).
    await browser.setRemoteDescription({ type: 'offer', sdp: await gateway.offer() });
    await browser.setLocalDescription(await browser.createAnswer());
    await new Promise<void>((r) => (browser.iceGatheringState === 'complete' ? r() : browser.iceGatheringStateChange.subscribe((s) => s === 'complete' && r())));
    call.answer = browser.localDescription!.sdp;
    await gateway.accept(call.answer);
  } else {
    await browser.setLocalDescription(await browser.createOffer());
    await new Promise<void>((r) => (browser.iceGatheringState === 'complete' ? r() : browser.iceGatheringStateChange.subscribe((s) => s === 'complete' && r())));
    call.answer = await gateway.answer(browser.localDescription!.sdp);
    await browser.setRemoteDescription({ type: 'answer', sdp: call.answer });
  }
  media.setRemote(gateway.relayRemote);
  gateway.connect(media.localDescription().port);
  return call;
}

/** The browser sends one RFC 4733 event as Chromium does: 20 ms updates, then the end packet three times. */
async function sendEvent(call: Call, event: number, codec: RTCRtpCodecParameters, timestamp: number, startSeq: number): Promise<void> {
  const sender = call.transceiver.sender;
  const perPacket = (codec.clockRate / 1000) * 20;
  const packets: { duration: number; end: boolean }[] = [];
  for (let d = perPacket; d < perPacket * 5; d += perPacket) packets.push({ duration: d, end: false });
  for (let i = 0; i < 3; i++) packets.push({ duration: perPacket * 5, end: true });
  let seq = startSeq;
  for (const [i, p] of packets.entries()) {
    const payload = Buffer.from([event, (p.end ? 0x80 : 0) | 10, p.duration >> 8, p.duration & 0xff]);
    // werift stamps its send codec's payload type: give it the event's for this packet, as the gateway does.
    const audio = sender.codec;
    sender.codec = codec;
    void sender.sendRtp(new RtpPacket(new RtpHeader({ payloadType: codec.payloadType, sequenceNumber: seq++, timestamp, marker: i === 0 }), payload));
    sender.codec = audio;
    await new Promise((r) => setTimeout(r, 20));
  }
}

afterEach(async () => {
  for (const call of open.splice(0)) await closeCall(call);
});

describe('WebRtcGateway: RFC 4733 telephone-events with the browser', () => {
  it('answers with the browser\'s telephone-event formats and reads its 48 kHz and 8 kHz events as one digit each', async () => {
    const call = await connect([OPUS, EVENT_48K, EVENT_8K]);
    expect(call.answer).toMatch(/a=rtpmap:110 telephone-event\/48000/);
    expect(call.answer).toMatch(/a=rtpmap:126 telephone-event\/8000/);
    const digits: DtmfEvent[] = [];
    call.media.on('dtmf', (e) => digits.push(e));
    await sendEvent(call, 5, EVENT_48K, 960_000, 100);
    // Straight after, with no audio between, in the other clock (160000 at 8 kHz is the same instant as 960000 at 48 kHz): a digit of its own.
    await sendEvent(call, 11, EVENT_8K, 160_000, 400);
    await until(async () => (digits.length >= 2 ? digits : undefined), 5_000).catch((e: unknown) => { throw new Error(`${String(e)} ${JSON.stringify(digits)} ${JSON.stringify(call.gateway.counters)}`); });
    await new Promise((r) => setTimeout(r, 200));
    // 100 ms each, whatever the clock: 4800 units at 48 kHz, 800 at 8 kHz.
    expect(digits).toEqual([
      { digit: '5', source: 'rfc4733', durationMs: 100 },
      { digit: '#', source: 'rfc4733', durationMs: 100 },
    ]);
  }, 20_000);

  it('sends the engine\'s DTMF to the browser in its 48 kHz format: one timestamp per event, duration in 48 kHz units, end three times', async () => {
    // Here we call the browser: our offer has both formats, its answer keeps them.
    const call = await connect([OPUS, EVENT_48K, EVENT_8K], 'to-browser');
    expect(call.gateway.relayRemote.telephoneEvent).not.toBeNull();
    await call.media.sendDtmf('9');
    await until(async () => (call.events.filter((e) => (e.payload[1]! & 0x80) !== 0).length >= 3 ? true : undefined), 5_000);
    const events = call.events;
    expect(new Set(events.map((e) => e.payloadType))).toEqual(new Set([110]));
    expect(new Set(events.map((e) => e.timestamp)).size).toBe(1);
    expect(events[0]!.marker).toBe(true);
    expect(events.every((e) => e.payload[0] === 9)).toBe(true);
    const durations = events.map((e) => e.payload.readUInt16BE(2));
    // 100 ms at 48 kHz, in 20 ms (960-unit) steps; the end packet carries the whole length.
    expect(durations).toEqual([960, 1920, 2880, 3840, 4800, 4800, 4800]);
    expect(events.map((e) => (e.payload[1]! & 0x80) !== 0)).toEqual([false, false, false, false, true, true, true]);
  }, 20_000);

  it('without telephone-event in the browser\'s offer, the relay negotiates none (the endpoint sends keys as tones)', async () => {
    const call = await connect([OPUS]);
    expect(call.answer).not.toMatch(/telephone-event/);
    expect(call.gateway.relayRemote.telephoneEvent).toBeNull();
  }, 20_000);
});
