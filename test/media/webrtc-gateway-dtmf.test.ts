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
}

const open: Call[] = [];

async function connect(codecs: RTCRtpCodecParameters[]): Promise<Call> {
  const engine = new MediaEngine({ advertisedAddress: '127.0.0.1', bindAddress: '127.0.0.1', portMin: 32_600, portMax: 32_649 });
  const media = await engine.createEndpoint();
  const gateway = await WebRtcGateway.open({ advertisedAddress: '127.0.0.1', logger: silentLogger });
  const browser = new RTCPeerConnection({
    // Bound to loopback: a pair from the host's LAN address to our loopback candidate would carry nothing.
    iceServers: [], iceUseIpv6: false, iceAdditionalHostAddresses: ['127.0.0.1'], iceInterfaceAddresses: { udp4: '127.0.0.1' },
    iceFilterCandidatePair: (pair) => pair.remoteCandidate.host === '127.0.0.1',
    codecs: { audio: codecs, video: [] },
  });
  const transceiver = browser.addTransceiver(new MediaStreamTrack({ kind: 'audio' }), { direction: 'sendrecv' });
  const call: Call = { engine, media, gateway, browser, transceiver, answer: '', events: [] };
  open.push(call);
  browser.onTrack.subscribe((t) => t.onReceiveRtp.subscribe((rtp) => {
    if (rtp.header.payloadType !== OPUS.payloadType) {
      call.events.push({ payloadType: rtp.header.payloadType, timestamp: rtp.header.timestamp, marker: rtp.header.marker, payload: Buffer.from(rtp.payload) });
    }
  }));
  await browser.setLocalDescription(await browser.createOffer());
  await new Promise<void>((r) => (browser.iceGatheringState === 'complete' ? r() : browser.iceGatheringStateChange.subscribe((s) => s === 'complete' && r())));
  call.answer = await gateway.answer(browser.localDescription!.sdp);
  await browser.setRemoteDescription({ type: 'answer', sdp: call.answer });
  media.setRemote(gateway.relayRemote);
  gateway.connect(media.localDescription().port);
  await until(async () => browser.connectionState === 'connected', 10_000);
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
  for (const call of open.splice(0)) {
    await call.browser.close();
    await call.gateway.close();
    await call.media.close();
    await call.engine.close();
  }
});

describe('WebRtcGateway: RFC 4733 telephone-events with the browser', () => {
  it('answers with the browser\'s telephone-event formats and reads its 48 kHz and 8 kHz events as one digit each', async () => {
    const call = await connect([OPUS, EVENT_48K, EVENT_8K]);
    expect(call.answer).toMatch(/a=rtpmap:110 telephone-event\/48000/);
    expect(call.answer).toMatch(/a=rtpmap:126 telephone-event\/8000/);
    const digits: DtmfEvent[] = [];
    call.media.on('dtmf', (e) => digits.push(e));
    // Audio first, as from a browser, until the gateway hears it (its side of DTLS-SRTP is up).
    const opus = Buffer.from([0xf8, 0xff, 0xfe]);
    for (let i = 0; call.gateway.counters.fromBrowser === 0 && i < 250; i++) {
      call.transceiver.sender.track!.writeRtp(new RtpPacket(new RtpHeader({ payloadType: 111, sequenceNumber: 50 + i, timestamp: i * 960 }), opus));
      await new Promise((r) => setTimeout(r, 20));
    }
    await sendEvent(call, 5, EVENT_48K, 960_000, 100);
    await sendEvent(call, 11, EVENT_8K, 170_000, 400);
    await until(async () => (digits.length >= 2 ? digits : undefined), 5_000).catch((e: unknown) => { throw new Error(`${String(e)} ${JSON.stringify(digits)} ${JSON.stringify(call.gateway.counters)}`); });
    await new Promise((r) => setTimeout(r, 200));
    // 100 ms each, whatever the clock: 4800 units at 48 kHz, 800 at 8 kHz.
    expect(digits).toEqual([
      { digit: '5', source: 'rfc4733', durationMs: 100 },
      { digit: '#', source: 'rfc4733', durationMs: 100 },
    ]);
  }, 20_000);

  it('sends the engine\'s DTMF to the browser in its 48 kHz format: one timestamp per event, duration in 48 kHz units, end three times', async () => {
    const call = await connect([OPUS, EVENT_48K, EVENT_8K]);
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
