/**
 * `WebRtcGateway`: the WebRTC side of a browser's call leg. It terminates
 * ICE (lite: we answer the browser's checks and never probe), DTLS-SRTP and
 * Opus/PCMU/PCMA with `werift` (pure TypeScript) and `opusscript` (libopus
 * compiled to WebAssembly), and speaks plain RTP — L16 at the engine's
 * 8 kHz — over loopback to the leg's ordinary media endpoint:
 *
 *   browser ⇄ ICE/DTLS-SRTP/Opus ⇄ [gateway] ⇄ L16 RTP on 127.0.0.1 ⇄ endpoint (engine: bridge, mixer, recorder, stream…)
 *
 * So the engine sees the same `CallMedia` as for a phone, on either media
 * backend (in-process or worker threads), and bridges, conferences,
 * recordings and streams need nothing new. Per 20 ms frame the gateway
 * decodes one packet, resamples 48 → 8 kHz and sends one L16 packet (and
 * the reverse); its own buffers are allocated once. werift and opusscript
 * allocate per packet inside (a Buffer per decrypted packet and per Opus
 * call): measured in bench/README.md.
 *
 * No ICE servers: a server with a reachable address needs neither STUN nor
 * TURN (ICE lite, RFC 8445 §2.5), and nothing may leave the host. The one
 * candidate we give is the leg's advertised media address (chosen per peer,
 * SPEC §13), on a port of `--webrtc-ports` so a firewall can be opened for it.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket, type RTCRtpTransceiver } from 'werift';
import OpusScript from 'opusscript';
import type { Logger } from '../../shared/log.js';
import { decodePcma, decodePcmu, encodePcma, encodePcmu } from '../codecs/g711.js';
import { decodeL16, encodeL16 } from '../codecs/l16.js';
import { L16 } from '../codecs/codec.js';
import type { RemoteMedia } from '../endpoint-types.js';
import { RTP_HEADER_SIZE, writeRtpHeader } from '../rtp/rtp-packet.js';
import { FRAME_SAMPLES } from '../sources/audio-source.js';
import { FrameUpsampler, StreamDownsampler } from '../fork/fir-resampler.js';

/** Payload types we give the browser (Chrome's own numbers for Opus and telephone-event). */
const OPUS_PT = 111;
const EVENT_PT_48K = 110;
const EVENT_PT_8K = 126;
/** telephone-event on the loopback relay (RFC 4733 at 8 kHz, whatever the browser's clock). */
const RELAY_EVENT_PT = 101;
const OPUS_FRAME = FRAME_SAMPLES * 6;
/** Largest Opus frame a browser may send (120 ms at 48 kHz). */
const MAX_OPUS_FRAME = 5760;

export interface WebRtcGatewayOptions {
  /** The address in our ICE candidate (the leg's advertised media address). */
  advertisedAddress: string;
  /** UDP ports for the ICE/DTLS socket (inclusive range, `--webrtc-ports`). Default: any (the system's ephemeral range). */
  icePortRange?: [number, number] | undefined;
  /** Opus bit rate. Default 32000. */
  opusBitrate?: number;
  logger: Logger;
}

/** No port of `--webrtc-ports` could be bound: the leg fails (`webrtc_ports_exhausted`), the process goes on. */
export class WebRtcPortsExhaustedError extends Error {
  constructor(range: [number, number] | undefined) {
    super(range ? `no free WebRTC port in ${range[0]}-${range[1]} (--webrtc-ports)` : 'no WebRTC port could be bound');
    this.name = 'WebRtcPortsExhaustedError';
  }
}

type BrowserCodec = 'opus' | 'PCMU' | 'PCMA';
const PAYLOAD_NONE = 0;
const PAYLOAD_OPUS = 1;
const PAYLOAD_PCMU = 2;
const PAYLOAD_PCMA = 3;
/** telephone-event at 8000 Hz / at 48000 Hz (RFC 4733 §2.1: an event's timestamps and duration are in the RTP clock of its rate). */
const PAYLOAD_EVENT_8K = 4;
const PAYLOAD_EVENT_48K = 5;

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}

export class WebRtcGateway {
  readonly #log: Logger;
  readonly #pc: RTCPeerConnection;
  readonly #track = new MediaStreamTrack({ kind: 'audio' });
  readonly #relay: Socket;
  readonly #advertised: string;
  readonly #portRange: [number, number] | undefined;
  readonly #opusBitrate: number;
  #opus: OpusScript | undefined;
  #transceiver: RTCRtpTransceiver | undefined;
  /** Where the engine's endpoint listens (set by `connect`). */
  #endpoint: { address: string; port: number } | undefined;
  #sendCodec: BrowserCodec = 'opus';
  // Per-frame buffers, allocated once.
  readonly #pcm48 = new Int16Array(MAX_OPUS_FRAME);
  /** Room for the downsampler's carry (one sample more than a sixth of the input, and a spare). */
  readonly #pcm8 = new Int16Array(MAX_OPUS_FRAME / 6 + 2);
  readonly #relayPacket = new Uint8Array(RTP_HEADER_SIZE + (MAX_OPUS_FRAME / 6 + 2) * 2);
  readonly #toBrowser48 = new Int16Array(OPUS_FRAME);
  readonly #toBrowser48Bytes = Buffer.from(this.#toBrowser48.buffer);
  readonly #fromEngine8 = new Int16Array(FRAME_SAMPLES);
  readonly #g711Out = Buffer.alloc(FRAME_SAMPLES);
  readonly #down = new StreamDownsampler(6);
  readonly #up = new FrameUpsampler(6, FRAME_SAMPLES);
  readonly #relaySsrc = randomInt(0xffffffff);
  #relaySeq = randomInt(0xffff);
  #relayTs = randomInt(0xffffffff);
  #browserSeq = randomInt(0xffff);
  #browserTs = randomInt(0xffffffff);
  /** Packets each way, for tests and the bench. */
  readonly counters = { fromBrowser: 0, toBrowser: 0, eventsFromBrowser: 0 };
  #closed = false;
  #localDescription: string | undefined;
  /** Payload type → what it carries, from the negotiated codecs (Chrome's Opus is 111, Firefox's 109, werift's 96…). */
  readonly #payloads = new Uint8Array(128);
  /** The telephone-event format negotiated with the browser that we send DTMF in, if any. */
  #browserEvent: RTCRtpCodecParameters | undefined;
  /** The browser's timestamp of the event being relayed to the engine, and the relay timestamp given to it. */
  #eventFromBrowserTs = -1;
  #eventToRelayTs = 0;
  /** The engine's timestamp of the event being relayed to the browser, and the browser-clock timestamp given to it. */
  #eventFromEngineTs = -1;
  #eventToBrowserTs = 0;

  private constructor(options: WebRtcGatewayOptions, relay: Socket) {
    this.#log = options.logger;
    this.#advertised = options.advertisedAddress;
    this.#opusBitrate = options.opusBitrate ?? 32_000;
    this.#portRange = options.icePortRange;
    this.#relay = relay;
    this.#pc = new RTCPeerConnection({
      // Empty on purpose: every WebRTC stack defaults to a public STUN server; a server needs none.
      iceServers: [],
      iceLite: true,
      iceUseIpv6: options.advertisedAddress.includes(':'),
      iceUseIpv4: !options.advertisedAddress.includes(':'),
      iceAdditionalHostAddresses: [options.advertisedAddress],
      // werift (lite) keeps the first pair the browser nominates. A browser on this host also checks our
      // loopback candidate from its LAN address: answer only checks from the candidate's own scope, so
      // the pair it nominates is one its packets really take.
      iceFilterStunResponse: (_message, addr, protocol) => isLoopback(addr[0]) === isLoopback(protocol.localCandidate?.host ?? ''),
      ...(options.icePortRange ? { icePortRange: options.icePortRange } : {}),
      codecs: {
        audio: [
          new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: OPUS_PT }),
          new RTCRtpCodecParameters({ mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 }),
          new RTCRtpCodecParameters({ mimeType: 'audio/PCMA', clockRate: 8000, channels: 1, payloadType: 8 }),
          // RFC 4733 from the browser's RTCDTMFSender: werift matches by name, so an answer keeps each rate the browser offers.
          new RTCRtpCodecParameters({ mimeType: 'audio/telephone-event', clockRate: 48000, channels: 1, payloadType: EVENT_PT_48K, parameters: '0-15' }),
          new RTCRtpCodecParameters({ mimeType: 'audio/telephone-event', clockRate: 8000, channels: 1, payloadType: EVENT_PT_8K, parameters: '0-15' }),
        ],
        video: [],
      },
    });
    this.#pc.connectionStateChange.subscribe((state) => this.#log.debug({ state }, 'WebRTC connection state'));
    // Before any description is set: answering, the browser's track is announced inside setRemoteDescription.
    this.#pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => this.#fromBrowser(rtp.header.payloadType, rtp.payload, rtp.header.timestamp, rtp.header.marker));
    });
    relay.on('message', (packet) => this.#fromEngine(packet));
  }

  /** A gateway with its loopback relay socket bound. */
  static async open(options: WebRtcGatewayOptions): Promise<WebRtcGateway> {
    const relay = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      relay.once('error', reject);
      relay.bind(0, '127.0.0.1', () => {
        relay.off('error', reject);
        resolve();
      });
    });
    return new WebRtcGateway(options, relay);
  }

  /** What the engine's endpoint must send to and expect: L16 from our loopback socket. */
  get relayRemote(): RemoteMedia {
    const local = this.#relay.address();
    // With telephone-event negotiated with the browser, DTMF crosses the relay as RFC 4733 both ways; without, the endpoint plays tones.
    const telephoneEvent = this.#browserEvent ? RELAY_EVENT_PT : null;
    return { address: local.address, port: local.port, rtcpPort: local.port, payloadType: L16.defaultPayloadType, codec: 'L16', telephoneEvent };
  }

  /** Where our relay sends the browser's audio: the engine endpoint's RTP port (on loopback). */
  connect(endpointPort: number): void {
    this.#endpoint = { address: '127.0.0.1', port: endpointPort };
  }

  /** The browser offered (an incoming INVITE from it): our SDP answer. */
  async answer(offer: string): Promise<string> {
    await this.#pc.setRemoteDescription({ type: 'offer', sdp: offer });
    const transceiver = this.#pc.getTransceivers().find((t) => t.kind === 'audio');
    if (!transceiver) throw new Error('the WebRTC offer has no audio');
    transceiver.setDirection('sendrecv');
    transceiver.sender.replaceTrack(this.#track);
    this.#listen(transceiver);
    await this.#pc.setLocalDescription(await this.#pc.createAnswer());
    this.#learnPayloads();
    return this.#localSdp();
  }

  /** We call the browser: our SDP offer (then `accept` its answer). */
  async offer(): Promise<string> {
    this.#listen(this.#pc.addTransceiver(this.#track, { direction: 'sendrecv' }));
    await this.#pc.setLocalDescription(await this.#pc.createOffer());
    return this.#localSdp();
  }

  /** The browser's SDP answer to our offer. */
  async accept(answer: string): Promise<void> {
    await this.#pc.setRemoteDescription({ type: 'answer', sdp: answer });
    this.#learnPayloads();
  }

  #learnPayloads(): void {
    this.#payloads.fill(PAYLOAD_NONE);
    const codecs = this.#transceiver?.codecs ?? [];
    // The event format we send: the one at the audio codec's clock rate (RFC 4733 §2.1), else any negotiated.
    const audioRate = codecs.find((c) => !c.mimeType.toLowerCase().endsWith('telephone-event'))?.clockRate ?? 48000;
    const events = codecs.filter((c) => c.mimeType.toLowerCase() === 'audio/telephone-event' && (c.clockRate === 8000 || c.clockRate === 48000));
    this.#browserEvent = events.find((c) => c.clockRate === audioRate) ?? events[0];
    for (const codec of codecs) {
      const mime = codec.mimeType.toLowerCase();
      const kind = mime === 'audio/opus' ? PAYLOAD_OPUS : mime === 'audio/pcmu' ? PAYLOAD_PCMU : mime === 'audio/pcma' ? PAYLOAD_PCMA
        : mime === 'audio/telephone-event' ? (codec.clockRate === 48000 ? PAYLOAD_EVENT_48K : codec.clockRate === 8000 ? PAYLOAD_EVENT_8K : PAYLOAD_NONE)
          : PAYLOAD_NONE;
      if (codec.payloadType >= 0 && codec.payloadType < 128) this.#payloads[codec.payloadType] = kind;
    }
  }

  /** The SDP we gave the browser last (a re-INVITE that changes nothing is answered with it again). */
  get currentAnswer(): string | undefined {
    return this.#localDescription;
  }

  /** Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#relay.close();
    this.#opus?.delete();
    this.#opus = undefined;
    await this.#pc.close().catch((error: unknown) => this.#log.debug({ err: error }, 'WebRTC close failed'));
  }

  #listen(transceiver: RTCRtpTransceiver): void {
    this.#transceiver = transceiver;
  }

  /** Our SDP once ICE gathering is done, with one candidate: the advertised address (SPEC §13's choice per peer). */
  async #localSdp(): Promise<string> {
    if (this.#pc.iceGatheringState !== 'complete') {
      await new Promise<void>((resolve) => {
        const { unSubscribe } = this.#pc.iceGatheringStateChange.subscribe((state) => {
          if (state !== 'complete') return;
          unSubscribe();
          resolve();
        });
      });
    }
    const sdp = this.#pc.localDescription?.sdp ?? '';
    const lines = sdp.split('\r\n');
    const candidates = lines.filter((l) => l.startsWith('a=candidate:'));
    // werift gathers without a candidate (and says nothing) when no port of the range could be bound.
    if (candidates.length === 0) throw new WebRtcPortsExhaustedError(this.#portRange);
    const ours = candidates.find((l) => l.split(' ')[4] === this.#advertised);
    // Behind NAT the advertised address is not an interface's: give the first host candidate under it.
    const chosen = ours ?? candidates[0]!.split(' ').map((part, i) => (i === 4 ? this.#advertised : part)).join(' ');
    const port = chosen.split(' ')[5] ?? '9';
    const family = this.#advertised.includes(':') ? 'IP6' : 'IP4';
    // werift writes 0.0.0.0 and port 9 (the trickle placeholders of RFC 8840 §4.1.1); we gather before answering, so
    // m=/c= carry the default candidate as RFC 8839 §4.2.1.2 has it, and o= the same address (SPEC §13's per-peer choice).
    this.#localDescription = lines
      .filter((l) => !l.startsWith('a=candidate:') || l === candidates[0])
      .map((l) => {
        if (l === candidates[0]) return chosen;
        if (l.startsWith('c=')) return `c=IN ${family} ${this.#advertised}`;
        if (l.startsWith('o=')) return l.split(' ').slice(0, 4).concat(family, this.#advertised).join(' ');
        if (l.startsWith('m=audio ')) return l.replace(/^m=audio \d+/, `m=audio ${port}`);
        if (l.startsWith('a=rtcp:')) return `a=rtcp:${port} IN ${family} ${this.#advertised}`;
        return l;
      })
      .join('\r\n');
    return this.#localDescription;
  }

  /** The codec the browser gets from us: the first one of the negotiated list (werift's sender codec). */
  #negotiatedCodec(): BrowserCodec {
    const mime = this.#transceiver?.sender.codec?.mimeType.toLowerCase() ?? 'audio/opus';
    return mime.endsWith('pcmu') ? 'PCMU' : mime.endsWith('pcma') ? 'PCMA' : 'opus';
  }

  #encoder(): OpusScript {
    if (!this.#opus) {
      this.#opus = new OpusScript(48000, 1, OpusScript.Application.VOIP);
      this.#opus.setBitrate(this.#opusBitrate);
    }
    return this.#opus;
  }

  /** Browser → engine: decode, resample to 8 kHz, one L16 packet to the endpoint. */
  #fromBrowser(payloadType: number, payload: Buffer, timestamp: number, marker: boolean): void {
    if (this.#closed || !this.#endpoint || payload.length === 0) return;
    let count: number;
    const kind = this.#payloads[payloadType & 0x7f];
    if (kind === PAYLOAD_OPUS) {
      let decoded: Buffer;
      try {
        decoded = this.#encoder().decode(payload);
      } catch (error) {
        this.#log.debug({ err: error }, 'undecodable Opus packet dropped');
        return;
      }
      const samples = Math.min(decoded.length >> 1, MAX_OPUS_FRAME);
      for (let i = 0; i < samples; i++) this.#pcm48[i] = decoded.readInt16LE(i * 2);
      count = this.#down.process(this.#pcm48.subarray(0, samples), this.#pcm8);
    } else if (kind === PAYLOAD_PCMU) {
      count = decodePcmu(payload, this.#pcm8, 0, Math.min(payload.length, this.#pcm8.length));
    } else if (kind === PAYLOAD_PCMA) {
      count = decodePcma(payload, this.#pcm8, 0, Math.min(payload.length, this.#pcm8.length));
    } else if (kind === PAYLOAD_EVENT_8K || kind === PAYLOAD_EVENT_48K) {
      this.#eventFromBrowser(payload, timestamp, marker, kind === PAYLOAD_EVENT_48K ? 6 : 1);
      return;
    } else {
      return;
    }
    this.counters.fromBrowser += 1;
    const packet = this.#relayPacket;
    writeRtpHeader(packet, L16.defaultPayloadType, false, this.#relaySeq, this.#relayTs, this.#relaySsrc);
    this.#relaySeq = (this.#relaySeq + 1) & 0xffff;
    this.#relayTs = (this.#relayTs + count) >>> 0;
    const length = encodeL16(this.#pcm8.subarray(0, count), packet, RTP_HEADER_SIZE);
    this.#relay.send(packet, 0, RTP_HEADER_SIZE + length, this.#endpoint.port, this.#endpoint.address);
  }

  /**
   * Browser → engine, RFC 4733: the event goes on to the endpoint as
   * telephone-event at 8 kHz, where the same receiver as for phones reports
   * one digit per event (end bit, the end packet's retransmissions). A
   * 48 kHz event's timestamp and duration are brought to 8 kHz units.
   */
  #eventFromBrowser(payload: Buffer, timestamp: number, marker: boolean, divisor: number): void {
    if (payload.length < 4 || !this.#endpoint) return;
    // An event's timestamp is the relay stream's at its start (RFC 4733 §2.3.1); its packets keep it.
    if (timestamp !== this.#eventFromBrowserTs) {
      this.#eventFromBrowserTs = timestamp;
      this.#eventToRelayTs = this.#relayTs;
    }
    const packet = this.#relayPacket;
    // Audio and events share the stream's sequence numbers (RFC 4733 §2.3), as from a phone.
    writeRtpHeader(packet, RELAY_EVENT_PT, marker, this.#relaySeq, this.#eventToRelayTs, this.#relaySsrc);
    this.#relaySeq = (this.#relaySeq + 1) & 0xffff;
    // Each event packet stands for 20 ms of the stream (the browser sends no audio meanwhile): the next event starts later.
    this.#relayTs = (this.#relayTs + FRAME_SAMPLES) >>> 0;
    const duration = Math.floor(payload.readUInt16BE(2) / divisor);
    packet[RTP_HEADER_SIZE] = payload[0]!;
    packet[RTP_HEADER_SIZE + 1] = payload[1]!;
    packet[RTP_HEADER_SIZE + 2] = duration >> 8;
    packet[RTP_HEADER_SIZE + 3] = duration & 0xff;
    this.counters.eventsFromBrowser += 1;
    this.#relay.send(packet, 0, RTP_HEADER_SIZE + 4, this.#endpoint.port, this.#endpoint.address);
  }

  /**
   * Engine → browser, RFC 4733: each event packet (one per 20 ms tick, in
   * place of audio) goes on in the browser's telephone-event format, its
   * timestamp the browser stream's at the event's start and its duration in
   * that clock (RFC 4733 §2.5.1.2, §2.5.1.3).
   */
  #eventToBrowser(packet: Buffer): void {
    const event = this.#browserEvent;
    const sender = this.#transceiver?.sender;
    if (!event || !sender?.codec || packet.length < RTP_HEADER_SIZE + 4) return;
    const audioRate = sender.codec.clockRate;
    const engineTs = packet.readUInt32BE(4);
    if (engineTs !== this.#eventFromEngineTs) {
      this.#eventFromEngineTs = engineTs;
      this.#eventToBrowserTs = Math.floor((this.#browserTs * event.clockRate) / audioRate) >>> 0;
    }
    const duration = Math.min(0xffff, packet.readUInt16BE(RTP_HEADER_SIZE + 2) * (event.clockRate / 8000));
    // A fresh payload: werift may still hold the previous one across its awaits (events are rare; audio allocates nothing here).
    const out = Buffer.alloc(4);
    out[0] = packet[RTP_HEADER_SIZE]!;
    out[1] = packet[RTP_HEADER_SIZE + 1]!;
    out.writeUInt16BE(duration, 2);
    const header = new RtpHeader({ payloadType: event.payloadType, sequenceNumber: this.#browserSeq, timestamp: this.#eventToBrowserTs, marker: (packet[1]! & 0x80) !== 0 });
    this.#browserSeq = (this.#browserSeq + 1) & 0xffff;
    // The event packet stands for a 20 ms frame of the stream: the audio after it resumes 20 ms on.
    this.#browserTs = (this.#browserTs + (audioRate / 1000) * 20) >>> 0;
    // werift's sender stamps its codec's payload type on whatever it sends; give it the event's for this packet.
    // sendRtp reads the codec synchronously, before its first await.
    const audio = sender.codec;
    sender.codec = event;
    void sender.sendRtp(new RtpPacket(header, out)).catch((error: unknown) => this.#log.debug({ err: error }, 'telephone-event to the browser not sent'));
    sender.codec = audio;
  }

  /** Engine → browser: one L16 frame in, one Opus (or G.711) packet out through SRTP. */
  #fromEngine(packet: Buffer): void {
    if (this.#closed || packet.length < RTP_HEADER_SIZE + 2 || !this.#transceiver) return;
    // Only the endpoint's audio (L16) and DTMF; its RTCP (same port: rtcp-mux is ours to choose) is not relayed.
    const payloadType = packet[1]! & 0x7f;
    if (payloadType === RELAY_EVENT_PT) {
      this.#eventToBrowser(packet);
      return;
    }
    if (payloadType !== L16.defaultPayloadType) return;
    const cc = packet[0]! & 0x0f;
    const offset = RTP_HEADER_SIZE + cc * 4;
    const samples = Math.min(decodeL16(packet, this.#fromEngine8, offset, packet.length - offset), FRAME_SAMPLES);
    if (samples < FRAME_SAMPLES) this.#fromEngine8.fill(0, samples); // the endpoint always sends whole 20 ms frames
    this.#sendCodec = this.#negotiatedCodec();
    let payload: Buffer;
    let step: number;
    if (this.#sendCodec === 'opus') {
      this.#up.process(this.#fromEngine8, this.#toBrowser48);
      payload = this.#encoder().encode(this.#toBrowser48Bytes, OPUS_FRAME);
      step = OPUS_FRAME;
    } else {
      const encode = this.#sendCodec === 'PCMU' ? encodePcmu : encodePcma;
      encode(this.#fromEngine8.subarray(0, samples), this.#g711Out, 0);
      payload = this.#g711Out.subarray(0, samples);
      step = samples;
    }
    const header = new RtpHeader({ payloadType: 0, sequenceNumber: this.#browserSeq, timestamp: this.#browserTs, marker: this.counters.toBrowser === 0 });
    this.#browserSeq = (this.#browserSeq + 1) & 0xffff;
    this.#browserTs = (this.#browserTs + step) >>> 0;
    this.counters.toBrowser += 1;
    this.#track.writeRtp(new RtpPacket(header, payload));
  }
}
