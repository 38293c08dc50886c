/**
 * CPU per call of a browser leg (WebRTC: ICE lite, DTLS-SRTP, Opus through
 * `WebRtcGateway`) beside a G.711 leg, media engine alone, in one process.
 *
 * Run: `npx vitest bench --run --config vitest.bench.config.ts bench/webrtc-leg.bench.ts`
 * (about 40 s). Env: WEBRTC_BENCH_CALLS=5, WEBRTC_BENCH_WINDOW_S=5.
 * Writes the `webrtc-leg` block of bench/README.md.
 *
 * Each call is one engine endpoint that plays a tone and hears its far end:
 * - G.711: the far end is a bare UDP socket sending a PCMU packet every 20 ms;
 * - browser: the endpoint's gateway faces a werift peer connection standing in
 *   for the browser (DTLS-SRTP over loopback), which sends one Opus packet
 *   every 20 ms and decrypts what comes back.
 * The far ends run in the same process, so both figures include them: the
 * browser figure includes a second SRTP stack (the stand-in browser's), the
 * G.711 figure a bare UDP send. The transcoding kernel alone (Opus decode,
 * 48→8 kHz, 8→48 kHz, Opus encode, per 20 ms frame) is measured apart.
 * Figures under vitest run above compiled code (bench/README.md, "Reading
 * these figures").
 */
import { createSocket, type Socket } from 'node:dgram';
import OpusScript from 'opusscript';
import { bench, describe } from 'vitest';
import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket } from 'werift';
import { MediaEngine } from '../src/media/engine.js';
import type { MediaEndpoint } from '../src/media/endpoint.js';
import { PcmSource } from '../src/media/sources/audio-source.js';
import { WebRtcGateway } from '../src/media/webrtc/webrtc-gateway.js';
import { FrameUpsampler, StreamDownsampler } from '../src/media/fork/fir-resampler.js';
import { silentLogger } from '../src/shared/log.js';
import { markdownTable, recordHeadline, writeReadmeSection } from './lib/readme-section.js';

const CALLS = Number(process.env.WEBRTC_BENCH_CALLS ?? 5);
const WINDOW_MS = Number(process.env.WEBRTC_BENCH_WINDOW_S ?? 5) * 1000;
const WARMUP_MS = 2000;
const f = (v: number, digits = 1): string => v.toFixed(digits);

function tone(hz: number): Int16Array {
  const pcm = new Int16Array(8000);
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / 8000));
  return pcm;
}

/** CPU µs per call per 20 ms while `tick` runs every 20 ms for the window. */
async function measure(tick: () => void): Promise<number> {
  const timer = setInterval(tick, 20);
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const start = process.cpuUsage();
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  const used = process.cpuUsage(start);
  clearInterval(timer);
  return (used.user + used.system) / (CALLS * (WINDOW_MS / 20));
}

async function g711Calls(engine: MediaEngine): Promise<number> {
  const legs: Array<{ media: MediaEndpoint; peer: Socket }> = [];
  const packet = Buffer.alloc(12 + 160, 0xff);
  packet[0] = 0x80;
  for (let i = 0; i < CALLS; i++) {
    const media = await engine.createEndpoint();
    const peer = createSocket('udp4');
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
    media.setRemote({ address: '127.0.0.1', port: peer.address().port, payloadType: 0 });
    void media.play(new PcmSource(tone(440), { loop: true }));
    legs.push({ media, peer });
  }
  let seq = 0;
  const us = await measure(() => {
    seq = (seq + 1) & 0xffff;
    packet.writeUInt16BE(seq, 2);
    packet.writeUInt32BE((seq * 160) >>> 0, 4);
    for (let i = 0; i < legs.length; i++) {
      packet.writeUInt32BE(i + 1, 8);
      legs[i]!.peer.send(packet, legs[i]!.media.localDescription().port, '127.0.0.1');
    }
  });
  for (const leg of legs) {
    leg.peer.close();
    await leg.media.close();
  }
  return us;
}

async function browserCalls(engine: MediaEngine): Promise<{ us: number; received: number; decoded: number; encoded: number }> {
  const opus = new OpusScript(48000, 1, OpusScript.Application.VOIP);
  const frame = Buffer.alloc(960 * 2);
  for (let i = 0; i < 960; i++) frame.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / 48000)), i * 2);
  const opusPacket = opus.encode(frame, 960);
  const calls: Array<{ media: MediaEndpoint; gateway: WebRtcGateway; browser: RTCPeerConnection; track: MediaStreamTrack }> = [];
  let received = 0;
  for (let i = 0; i < CALLS; i++) {
    const media = await engine.createEndpoint();
    const gateway = await WebRtcGateway.open({ advertisedAddress: '127.0.0.1', logger: silentLogger });
    const browser = new RTCPeerConnection({ iceServers: [], iceUseIpv6: false, iceAdditionalHostAddresses: ['127.0.0.1'], iceFilterCandidatePair: (pair) => pair.remoteCandidate.host === '127.0.0.1' });
    const track = new MediaStreamTrack({ kind: 'audio' });
    browser.addTransceiver(track, { direction: 'sendrecv' });
    browser.onTrack.subscribe((t) => t.onReceiveRtp.subscribe(() => (received += 1)));
    await browser.setLocalDescription(await browser.createOffer());
    await new Promise<void>((r) => (browser.iceGatheringState === 'complete' ? r() : browser.iceGatheringStateChange.subscribe((s) => s === 'complete' && r())));
    const answer = await gateway.answer(browser.localDescription!.sdp);
    await browser.setRemoteDescription({ type: 'answer', sdp: answer });
    media.setRemote(gateway.relayRemote);
    gateway.connect(media.localDescription().port);
    void media.play(new PcmSource(tone(440), { loop: true }));
    calls.push({ media, gateway, browser, track });
  }
  await new Promise<void>((r) => {
    const check = setInterval(() => calls.every((c) => c.browser.connectionState === 'connected') && (clearInterval(check), r()), 100);
  });
  let seq = 0;
  const us = await measure(() => {
    seq = (seq + 1) & 0xffff;
    for (const call of calls) call.track.writeRtp(new RtpPacket(new RtpHeader({ payloadType: 111, sequenceNumber: seq, timestamp: (seq * 960) >>> 0 }), opusPacket));
  });
  const decoded = calls.reduce((sum, c) => sum + c.gateway.counters.fromBrowser, 0);
  const encoded = calls.reduce((sum, c) => sum + c.gateway.counters.toBrowser, 0);
  for (const call of calls) {
    await call.browser.close();
    await call.gateway.close();
    await call.media.close();
  }
  opus.delete();
  return { us, received, decoded, encoded };
}

/** The gateway's per-frame kernel: Opus decode, 48→8, 8→48, Opus encode. */
function transcodeKernelUs(): number {
  const opus = new OpusScript(48000, 1, OpusScript.Application.VOIP);
  const down = new StreamDownsampler(6);
  const up = new FrameUpsampler(6, 160);
  const pcm48 = new Int16Array(960);
  const pcm8 = new Int16Array(162);
  const back = new Int16Array(960);
  for (let i = 0; i < 960; i++) pcm48[i] = Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / 48000));
  const packet = opus.encode(Buffer.from(pcm48.buffer), 960);
  const run = (n: number): void => {
    for (let i = 0; i < n; i++) {
      const decoded = opus.decode(packet);
      const view = new Int16Array(decoded.buffer, decoded.byteOffset, decoded.length >> 1);
      down.process(view, pcm8);
      up.process(pcm8.subarray(0, 160), back);
      opus.encode(Buffer.from(back.buffer), 960);
    }
  };
  run(200);
  const n = 2000;
  const start = process.hrtime.bigint();
  run(n);
  const us = Number(process.hrtime.bigint() - start) / 1000 / n;
  opus.delete();
  return us;
}

describe('WebRTC browser leg beside a G.711 leg', () => {
  bench(
    'CPU per call per 20 ms',
    async () => {
      const engine = new MediaEngine({ advertisedAddress: '127.0.0.1', bindAddress: '127.0.0.1', portMin: 33_000, portMax: 33_999, rtpTimeoutMs: 0 });
      const g711 = await g711Calls(engine);
      const browser = await browserCalls(engine);
      await engine.close();
      const kernel = transcodeKernelUs();
      const rows = [
        [`G.711 leg (PCMU both ways), ${CALLS} calls`, f(g711), 'bare UDP peer sending PCMU'],
        [`browser leg (Opus, DTLS-SRTP via WebRtcGateway), ${CALLS} calls`, f(browser.us), `werift peer as the browser (its SRTP included); the gateways decoded ${browser.decoded} and encoded ${browser.encoded} frames, ${browser.received} reached the peer`],
        ['gateway transcoding kernel alone (Opus decode + 48→8 + 8→48 + Opus encode)', f(kernel), 'one 20 ms frame each way'],
      ];
      const markdown = [
        `Media engine in one process under vitest, far ends included; ${WINDOW_MS / 1000} s measured after ${WARMUP_MS / 1000} s. CPU µs per call per 20 ms frame (user + system).`,
        '',
        markdownTable(['measured', 'µs per call per 20 ms', 'far end'], rows),
      ].join('\n');
      console.log(markdown);
      writeReadmeSection('webrtc-leg', markdown, { heading: 'Browser (WebRTC) legs' });
      recordHeadline({
        id: 'webrtc-leg',
        what: `Browser leg (Opus, DTLS-SRTP) CPU per call per 20 ms, ${CALLS} calls, far end in the same process`,
        value: `${f(browser.us)} µs`,
        reference: `G.711 leg, same run: ${f(g711)} µs`,
        goal: '–',
        section: 'browser-webrtc-legs',
      });
    },
    { iterations: 1, time: 0, warmupIterations: 0, warmupTime: 0 },
  );
});
