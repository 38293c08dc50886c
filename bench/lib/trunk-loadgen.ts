/**
 * The carrier trunk, the customer's webhook app and the phones, for the
 * whole-platform benchmarks (bench/platform-*.bench.ts), in one plain-Node
 * process of their own (driven over IPC, see media-ipc.ts), so its CPU is
 * measured apart from the platform's and every timestamp of a measurement
 * is on one clock.
 *
 * - **SIP** with the project's own user agent (src/sip/ua), on UDP
 *   127.0.0.1: as the caller it sends INVITEs with a PCMU + telephone-event
 *   offer to the platform's claimed numbers (From `+25479<7-digit call
 *   index>`); as the callee it answers the platform's outbound INVITEs for
 *   `dial` legs (Request-URI `+254800<same index>`), so the trunk's
 *   `address` is this process. Every leg ends with a BYE from here, or the
 *   platform's BYE is counted as an unexpected end.
 * - **Webhook app** (node:http), the numbers' routing_url. It answers by
 *   the call's kind: `dial` back through the trunk (bridge), `conference`
 *   (room by call), `say` (a cached prompt), or `stream` to the WebSocket
 *   server below. It stamps when each request arrived and when its answer
 *   was sent.
 * - **Stream server** (ws, subprotocol audio.drachtio.org) for the `stream`
 *   action: finds the call by the metadata frame and times marked frames.
 * - **Phones**: one UDP socket per leg sending 20 ms PCMU RTP on an exact
 *   schedule (own random phase per phone), carrying stream id and packet
 *   index in the payload (rtp-payload.ts) so loss is counted end to end
 *   through decode → bridge/mix → encode. Each packet's send time is kept,
 *   so every packet heard gives a one-way transit time; the inter-arrival
 *   jitter sample is |transit(j) − transit(i)| for each packet j and the
 *   packet i of the same stream heard just before it (the D of RFC 3550
 *   §6.4.1, in arrival order), and the report gives its p99 over all
 *   streams (plus the RFC 3550 smoothed J, averaged over streams).
 *
 * The generator reports its own lateness in every window: how late packets
 * left against their schedule (p99/max), its event-loop delay (p99/max) and
 * its CPU, so a starved generator is not blamed on the platform.
 */
import dgram from 'node:dgram';
import { createServer, type Server } from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { WebSocketServer, type WebSocket } from 'ws';
import { mulawEncodeSample } from '../../src/media/codecs/g711.js';
import { writeRtpHeader } from '../../src/media/rtp/rtp-packet.js';
import { userOf } from '../../src/legs/uri-user.js';
import type { IncomingCall } from '../../src/sip/ua/incoming-call.js';
import type { SipSession } from '../../src/sip/ua/sip-session.js';
import { SipUserAgent } from '../../src/sip/ua/sip-user-agent.js';
import { serve } from './media-ipc.js';
import { PACKET, PAYLOAD, PTIME, isAudible, isSilent, readPayload, writePayload } from './rtp-payload.js';

/** Packets of history kept per stream (82 s at 50 packets/s); a window is far shorter. */
const RING = 4096;
const MASK = RING - 1;
/** Packets heard later than this after they were sent: a phone's jitter buffer would drop them too. */
const LATE_MS = 200;
/** Caller numbers carry the call index in their last 7 digits; dialled numbers likewise. */
const CALLER_PREFIX = '+25479';
export const DIAL_PREFIX = '+254800';

/** Values in fixed bins (default 0.05 ms up to 2 s): quantiles of millions of samples in constant memory. */
class Histogram {
  readonly #bins: Uint32Array;
  count = 0;
  max = 0;
  sum = 0;
  constructor(private readonly step = 0.05, limit = 2000) {
    this.#bins = new Uint32Array(Math.ceil(limit / step) + 1);
  }
  add(v: number): void {
    const i = Math.min(this.#bins.length - 1, Math.max(0, Math.floor(v / this.step)));
    this.#bins[i]!++;
    this.count++;
    this.sum += v;
    if (v > this.max) this.max = v;
  }
  /** Upper edge of the bin holding quantile q (nearest rank); NaN when empty. */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let acc = 0;
    for (let i = 0; i < this.#bins.length; i++) {
      acc += this.#bins[i]!;
      if (acc >= rank) return Math.min((i + 1) * this.step, this.max);
    }
    return this.max;
  }
  above(v: number): number {
    let n = 0;
    for (let i = Math.floor(v / this.step) + 1; i < this.#bins.length; i++) n += this.#bins[i]!;
    return n;
  }
  reset(): void {
    this.#bins.fill(0);
    this.count = this.max = this.sum = 0;
  }
}

type SendKind = 'index' | 'silence' | 'marker';

interface Phone {
  /** Stream id: its index in `phones`. */
  id: number;
  call: number;
  socket: dgram.Socket;
  port: number;
  targetHost: string;
  targetPort: number;
  ssrc: number;
  send: SendKind;
  sending: boolean;
  startAt: number;
  index: number;
  sendTimes: Float64Array;
  /** Stream id this phone should hear intact (-1: nothing to check). */
  expect: number;
  /** heard[i & MASK] === i when packet i of `expect` arrived intact. */
  heard: Int32Array;
  lastIndex: number;
  lastTransit: number;
  /** RFC 3550 interarrival jitter estimate, ms. */
  jitterJ: number;
  windowStart: number;
  windowEnd: number;
  /** One-shot: the first packet with audio in it (say latency). */
  onAudible: ((at: number) => void) | undefined;
  /** When the latest marker packet left (stream latency); 0 when none is outstanding. */
  markerSentAt: number;
  closed: boolean;
  /** 0: the streams under test; 1: control pairs through a raw relay, measured in the same windows. */
  group: number;
}

type CallKind = 'bridge' | 'conference' | 'say' | 'stream';

interface Call {
  index: number;
  kind: CallKind;
  a: Phone;
  b: Phone | undefined;
  room: string | undefined;
  speaker: boolean;
  sessions: SipSession[];
  aUp: boolean;
  bUp: boolean;
  failed: string | undefined;
  inviteSentAt: number;
  webhookAt: number;
  answerSentAt: number;
  firstAudioAt: number;
  ws: WebSocket | undefined;
  /** `stream` calls: the stream server sends every audio frame back, as a voice agent talking the whole time would. */
  echo: boolean;
  done: (() => void) | undefined;
  ending: boolean;
}

let ua: SipUserAgent | undefined;
let http: Server | undefined;
let wss: WebSocketServer | undefined;
let platform = { host: '127.0.0.1', port: 5060 };
let numbers: string[] = [];
let webhookUrl = '';
let wsUrl = '';
let sayText = 'Thank you for calling.';
const phones: Phone[] = [];
const calls = new Map<number, Call>();
let nextCall = 0;
let sendingPhones: Phone[] = [];
let pumpTimer: NodeJS.Timeout | undefined;
/** Sends the reference relay its stand-in INVITEs. */
let signal: dgram.Socket | undefined;

// Window state.
let measuring = false;
/** By phone group (0: under test, 1: control). */
const transit = [new Histogram(), new Histogram()];
const jitter = [new Histogram(), new Histogram()];
const lag = new Histogram();
const streamLatency = new Histogram();
/** Event-loop delay sampled every 10 ms; the histogram holds the whole interval, so the resolution is taken off. */
const ELD_RESOLUTION_MS = 10;
const eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
let corrupt = 0;
let silent = 0;
let duplicates = 0;
let other = 0;
let unexpectedEnds = 0;
let markersMissed = 0;
let cpu0: NodeJS.CpuUsage = { user: 0, system: 0 };
let t0 = 0;
let windowResult = { cpuUs: 0, ms: 0, eldP99: Number.NaN, eldMax: Number.NaN };

/** One 20 ms frame of a loud 1 kHz tone: the marker of the stream-latency probes. */
const TONE = Buffer.alloc(PAYLOAD);
for (let i = 0; i < PAYLOAD; i++) TONE[i] = mulawEncodeSample(Math.round(16000 * Math.sin((2 * Math.PI * 1000 * i) / 8000)));

const pad7 = (n: number): string => String(n).padStart(7, '0');

function bindPhone(call: number, expect: number): Promise<Phone> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.setRecvBufferSize(1 << 20);
      const phone: Phone = {
        id: phones.length, call, socket, port: socket.address().port, targetHost: '127.0.0.1', targetPort: 0,
        ssrc: (0x5b000000 + phones.length) >>> 0, send: 'index', sending: false, startAt: 0, index: 0,
        sendTimes: new Float64Array(RING), expect, heard: new Int32Array(RING).fill(-1), lastIndex: -2, lastTransit: 0, jitterJ: 0,
        windowStart: 0, windowEnd: 0, onAudible: undefined, markerSentAt: 0, closed: false, group: 0,
      };
      phones.push(phone);
      socket.on('message', (msg) => onPacket(phone, msg));
      resolve(phone);
    });
  });
}

function onPacket(phone: Phone, msg: Buffer): void {
  const now = performance.now();
  if (msg.length !== PACKET) {
    other++; // RTCP landing on a neighbour's port, or anything else.
    return;
  }
  if (phone.onAudible && isAudible(msg, 12, PACKET)) {
    const f = phone.onAudible;
    phone.onAudible = undefined;
    f(now);
  }
  if (phone.expect < 0) return;
  const index = readPayload(msg, 12, phone.expect);
  if (index < 0) {
    if (!measuring) return;
    if (isSilent(msg, 12, PACKET)) silent++;
    else corrupt++;
    return;
  }
  const slot = index & MASK;
  if (phone.heard[slot] === index) {
    duplicates++;
    return;
  }
  phone.heard[slot] = index;
  const sender = phones[phone.expect]!;
  const t = now - sender.sendTimes[slot]!;
  if (measuring) {
    transit[phone.group]!.add(t);
    // RFC 3550 §6.4.1: D between this packet and the one that arrived before it (in arrival order,
    // so a packet delayed past its successors shows up here rather than dropping out).
    if (phone.lastIndex >= 0) {
      const d = Math.abs(t - phone.lastTransit);
      jitter[phone.group]!.add(d);
      phone.jitterJ += (d - phone.jitterJ) / 16;
    }
  }
  phone.lastIndex = index;
  phone.lastTransit = t;
}

/** Sends every packet that is due, each phone on its own phase of the 20 ms period. */
function pump(): void {
  const now = performance.now();
  for (let p = 0; p < sendingPhones.length; p++) {
    const phone = sendingPhones[p]!;
    while (phone.startAt + phone.index * PTIME <= now) {
      const due = phone.startAt + phone.index * PTIME;
      if (measuring) lag.add(now - due);
      const pkt = Buffer.allocUnsafe(PACKET);
      writeRtpHeader(pkt, 0, phone.index === 0, phone.index & 0xffff, (phone.index * PAYLOAD) >>> 0, phone.ssrc);
      if (phone.send === 'index') writePayload(pkt, 12, phone.id, phone.index);
      else if (phone.send === 'marker' && phone.index % 10 === 5) {
        TONE.copy(pkt, 12);
        if (phone.markerSentAt > 0) markersMissed++;
        phone.markerSentAt = now;
      } else pkt.fill(0xff, 12);
      phone.sendTimes[phone.index & MASK] = now;
      phone.socket.send(pkt, phone.targetPort, phone.targetHost);
      phone.index++;
    }
  }
}

function startSending(phone: Phone, host: string, port: number): void {
  if (phone.sending || phone.closed) return;
  phone.targetHost = host;
  phone.targetPort = port;
  phone.sending = true;
  phone.startAt = performance.now() + Math.random() * PTIME;
  sendingPhones.push(phone);
  pumpTimer ??= setInterval(pump, 2);
}

const NO_TIMES = new Float64Array(0);
const NO_HEARD = new Int32Array(0);

function closePhone(phone: Phone): void {
  if (phone.closed) return;
  phone.closed = true;
  phone.sending = false;
  phone.onAudible = undefined;
  phone.socket.close();
  // Its history is no longer read (closed phones are skipped): give the memory back.
  phone.sendTimes = NO_TIMES;
  phone.heard = NO_HEARD;
}

function offer(port: number): string {
  return [
    'v=0', `o=bench ${port} 1 IN IP4 127.0.0.1`, 's=bench', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${port} RTP/AVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=ptime:20', 'a=sendrecv', '',
  ].join('\r\n');
}

function remoteMedia(sdp: string | undefined): { host: string; port: number } | undefined {
  if (!sdp) return undefined;
  const port = /^m=audio (\d+)/m.exec(sdp)?.[1];
  const host = /^c=IN IP4 (\S+)/m.exec(sdp)?.[1];
  return port && host ? { host, port: Number(port) } : undefined;
}

function checkDone(call: Call): void {
  if (call.failed || (call.aUp && (call.kind !== 'bridge' || call.bUp))) {
    const done = call.done;
    call.done = undefined;
    done?.();
  }
}

function watchSession(call: Call, session: SipSession): void {
  call.sessions.push(session);
  session.once('ended', (end) => {
    if (!call.ending) {
      unexpectedEnds++;
      if (!call.aUp || (call.kind === 'bridge' && !call.bUp)) {
        call.failed ??= `ended before set-up: ${end.reason}`;
        checkDone(call);
      }
    }
  });
}

/** The platform's INVITE for a dial leg: answer it from the call's B phone. */
function onInvite(incoming: IncomingCall): void {
  const user = userOf(incoming.request.uri) ?? '';
  const call = /^\+?254800\d{7}$/.test(user) ? calls.get(Number(user.slice(-7))) : undefined;
  const media = remoteMedia(incoming.sdp);
  if (!call || !call.b || !media) {
    incoming.reject(404, 'Not Found');
    return;
  }
  const session = incoming.answer(offer(call.b.port));
  watchSession(call, session);
  const up = (): void => {
    call.bUp = true;
    startSending(call.b!, media.host, media.port);
    checkDone(call);
  };
  if (session.state === 'established') up();
  else session.once('established', up);
}

function newCall(index: number, kind: CallKind, a: Phone, b?: Phone, room?: string, speaker = false): Call {
  const call: Call = {
    index, kind, a, b, room, speaker, sessions: [], aUp: false, bUp: false, failed: undefined,
    inviteSentAt: 0, webhookAt: 0, answerSentAt: 0, firstAudioAt: 0, ws: undefined, echo: false, done: undefined, ending: false,
  };
  calls.set(index, call);
  return call;
}

/** Places one inbound call; resolves when it is set up (both legs for a bridge) or failed. */
async function placeCall(kind: CallKind, options: { room?: string; speaker?: boolean; send?: SendKind; echo?: boolean; timeoutMs: number }): Promise<Call> {
  const index = nextCall++;
  const a = await bindPhone(index, -1);
  const b = kind === 'bridge' ? await bindPhone(index, -1) : undefined;
  if (b) {
    a.expect = b.id;
    b.expect = a.id;
  }
  a.send = options.send ?? (kind === 'conference' && !options.speaker ? 'silence' : kind === 'bridge' || kind === 'conference' ? 'index' : 'silence');
  const call = newCall(index, kind, a, b, options.room, options.speaker ?? false);
  // An echoed stream brings the caller's own payload back (8 kHz L16 round-trips G.711 exactly): loss is counted end to end.
  if (kind === 'stream' && options.echo) {
    call.echo = true;
    a.send = 'index';
    a.expect = a.id;
  }
  if (kind === 'say') a.onAudible = (at) => (call.firstAudioAt = at);
  const number = numbers[index % numbers.length]!;
  const finished = new Promise<void>((resolve) => (call.done = resolve));
  call.inviteSentAt = performance.now();
  const outgoing = ua!.invite(`sip:${number}@${platform.host}:${platform.port}`, {
    sdp: offer(a.port), from: `sip:${CALLER_PREFIX}${pad7(index)}@127.0.0.1`, to: `sip:${number}@${platform.host}`,
  });
  outgoing.once('answered', (session) => {
    watchSession(call, session);
    const media = remoteMedia(session.remoteSdp);
    if (!media) {
      call.failed = 'no usable SDP answer';
    } else {
      call.aUp = true;
      startSending(a, media.host, media.port);
    }
    checkDone(call);
  });
  outgoing.once('failed', (f) => {
    call.failed = `${f.status} ${f.reason}`;
    checkDone(call);
  });
  const timer = setTimeout(() => {
    call.failed ??= 'set-up timed out';
    checkDone(call);
  }, options.timeoutMs);
  await finished;
  clearTimeout(timer);
  return call;
}

/** Hangs a call up from the caller side (and the dial leg from the callee side if still up), then closes its phones. */
/**
 * A say probe's two latencies, once its first audible packet arrives (within
 * 5 s): INVITE (or its stand-in) → webhook request, webhook answer → first
 * audio. False when the audio or the webhook never came.
 */
async function recordSayTimings(call: Call, inviteToWebhookMs: number[], answerToAudioMs: number[]): Promise<boolean> {
  const deadline = performance.now() + 5000;
  while (call.firstAudioAt === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  if (call.firstAudioAt === 0 || call.webhookAt === 0) return false;
  inviteToWebhookMs.push(call.webhookAt - call.inviteSentAt);
  answerToAudioMs.push(call.firstAudioAt - call.answerSentAt);
  return true;
}

async function endCall(call: Call): Promise<void> {
  call.ending = true;
  await Promise.race([
    Promise.allSettled(call.sessions.filter((s) => s.state !== 'ended').map((s) => s.bye())),
    new Promise((r) => setTimeout(r, 8000)),
  ]);
  call.ws?.close();
  closePhone(call.a);
  if (call.b) closePhone(call.b);
  calls.delete(call.index);
  sendingPhones = sendingPhones.filter((p) => !p.closed);
}

function startWebhookApp(): Promise<void> {
  http = createServer((req, res) => {
    const arrived = performance.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let from = '';
      try {
        from = String((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { From?: unknown }).From ?? '');
      } catch {
        // not JSON: no call
      }
      const call = from.startsWith(CALLER_PREFIX) ? calls.get(Number(from.slice(-7))) : undefined;
      let actions: unknown[];
      if (!call) actions = [{ reject: {} }];
      else if (call.kind === 'bridge') actions = [{ dial: { number: `${DIAL_PREFIX}${pad7(call.index)}`, timeout: 20 } }];
      else if (call.kind === 'conference') actions = [{ conference: { name: call.room, beep: false } }];
      else if (call.kind === 'say') actions = [{ say: { text: sayText } }, { pause: { length: 30 } }];
      else actions = [{ stream: { url: wsUrl, metadata: { bench: String(call.index), ...(call.echo ? { echo: '1' } : {}) } } }];
      const body = JSON.stringify(actions);
      if (call) call.webhookAt = arrived;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      if (call) call.answerSentAt = performance.now();
      res.end(body);
    });
  });
  return new Promise((resolve) => http!.listen(0, '127.0.0.1', () => resolve()));
}

function startStreamServer(): Promise<void> {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => 'audio.drachtio.org' });
  wss.on('connection', (ws) => {
    // The call is looked up by the index in the metadata frame, when it is needed: the reference relay connects before its calls exist.
    let index: number | undefined;
    ws.on('message', (raw, isBinary) => {
      const now = performance.now();
      const data = raw as Buffer;
      if (!isBinary) {
        if (index !== undefined) return;
        try {
          index = Number((JSON.parse(data.toString('utf8')) as { bench?: string }).bench);
        } catch {
          // a text message that is not the metadata frame
        }
        const call = index === undefined ? undefined : calls.get(index);
        if (call) call.ws = ws;
        return;
      }
      const call = index === undefined ? undefined : calls.get(index);
      if (!call) return;
      call.ws ??= ws;
      if (call.echo) {
        ws.send(data);
        return;
      }
      if (call.a.markerSentAt === 0) return;
      for (let i = 0; i + 1 < data.length; i += 2) {
        if (Math.abs(data.readInt16LE(i)) > 3000) {
          if (measuring) streamLatency.add(now - call.a.markerSentAt);
          call.a.markerSentAt = 0;
          return;
        }
      }
    });
  });
  return new Promise((resolve) => wss!.once('listening', () => resolve()));
}

function resetWindow(): void {
  for (const h of [...transit, ...jitter]) h.reset();
  lag.reset();
  streamLatency.reset();
  corrupt = silent = duplicates = other = unexpectedEnds = markersMissed = 0;
  for (const p of phones) p.jitterJ = 0;
  eld.reset();
}

export interface WindowStats {
  /** Streams whose loss was counted (listeners with a sender). */
  streams: number;
  expected: number;
  heard: number;
  lost: number;
  lossPct: number;
  worstStreamLost: number;
  /** Heard more than 200 ms after sending, % of expected. */
  latePct: number;
  corrupt: number;
  silent: number;
  duplicates: number;
  other: number;
  unexpectedEnds: number;
  transitMs: { p50: number; p99: number; max: number };
  /** |D| of consecutive packets, ms. */
  jitterMs: { p50: number; p99: number; max: number; samples: number };
  /** RFC 3550 J at window end, mean over streams, ms. */
  jitterRfcMs: number;
  /** The control pairs (group 1) through a raw relay, same window. */
  control: { streams: number; expected: number; lost: number; lossPct: number; transitMs: { p50: number; p99: number }; jitterMs: { p50: number; p99: number } };
  streamLatencyMs: { p50: number; p99: number; samples: number; missed: number };
  gen: { cpuPct: number; sendLagP99Ms: number; sendLagMaxMs: number; eldP99Ms: number; eldMaxMs: number; packetsSent: number };
}

serve({
  /** Starts the UA, the webhook app and the stream server; answers their addresses. */
  async init(arg: { platform: { host: string; port: number } }): Promise<{ sipPort: number; webhookUrl: string; wsUrl: string; pid: number }> {
    platform = arg.platform;
    ua = new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], publicHost: '127.0.0.1', contactUser: 'carrier', userAgent: 'sautikit-bench-trunk' });
    ua.on('invite', onInvite);
    ua.on('error', () => undefined);
    await ua.start();
    await startWebhookApp();
    await startStreamServer();
    const httpPort = (http!.address() as { port: number }).port;
    const wsPort = (wss!.address() as { port: number }).port;
    webhookUrl = `http://127.0.0.1:${httpPort}/voice`;
    wsUrl = `ws://127.0.0.1:${wsPort}/audio`;
    eld.enable();
    return { sipPort: ua.localAddress('udp').port, webhookUrl, wsUrl, pid: process.pid };
  },

  configure(arg: { numbers?: string[]; sayText?: string }): null {
    if (arg.numbers) numbers = arg.numbers.map((n) => n.replace(/^\+/, ''));
    if (arg.sayText) sayText = arg.sayText;
    return null;
  },

  /**
   * Sets up `count` calls at `cps` (at most `inFlight` setting up at once).
   * For conferences, `rooms` rooms of count/rooms participants; the first
   * of each room speaks (index payload), the others send silence and check
   * they hear the speaker intact.
   */
  async place(arg: { kind: CallKind; count: number; cps: number; inFlight?: number; rooms?: number; echo?: boolean; timeoutMs?: number }): Promise<{ up: number; failed: number; reasons: Record<string, number>; seconds: number; setupMs: { p50: number; p99: number } }> {
    const started = performance.now();
    const gap = 1000 / arg.cps;
    const inFlight = arg.inFlight ?? 64;
    const pending = new Set<Promise<void>>();
    const reasons: Record<string, number> = {};
    const setup: number[] = [];
    let up = 0;
    const rooms = new Set<string>();
    for (let i = 0; i < arg.count; i++) {
      const due = started + i * gap;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      while (pending.size >= inFlight) await Promise.race(pending);
      const room = arg.kind === 'conference' ? `bench-room-${i % (arg.rooms ?? 1)}` : undefined;
      const speaker = room !== undefined && !rooms.has(room);
      if (room !== undefined) rooms.add(room);
      const t = performance.now();
      const p = placeCall(arg.kind, { room, speaker, ...(arg.echo ? { echo: true } : {}), timeoutMs: arg.timeoutMs ?? 15_000 }).then((call) => {
        if (call.failed) {
          reasons[call.failed] = (reasons[call.failed] ?? 0) + 1;
          void endCall(call);
          return;
        }
        up++;
        setup.push(performance.now() - t);
      });
      pending.add(p);
      void p.finally(() => pending.delete(p));
    }
    await Promise.all(pending);
    // In each room the listeners check that they hear the speaker intact (nothing to check when it failed).
    const speakerOf = new Map<string, Phone>();
    for (const c of calls.values()) if (c.kind === 'conference' && c.speaker && c.room !== undefined) speakerOf.set(c.room, c.a);
    for (const c of calls.values()) if (c.kind === 'conference' && !c.speaker && c.room !== undefined) c.a.expect = speakerOf.get(c.room)?.id ?? -1;
    setup.sort((x, y) => x - y);
    const q = (f: number): number => setup[Math.min(setup.length - 1, Math.floor(f * setup.length))] ?? Number.NaN;
    return { up, failed: arg.count - up, reasons, seconds: (performance.now() - started) / 1000, setupMs: { p50: q(0.5), p99: q(0.99) } };
  },

  /**
   * Latency probes, one call at a time at `cps`: `say` calls (INVITE →
   * webhook request; webhook answer → first audible RTP) or `stream` calls
   * held `holdMs` with a marker every 200 ms. Answers the samples.
   */
  async probe(arg: { kind: 'say' | 'stream'; count: number; cps: number; holdMs?: number }): Promise<{ inviteToWebhookMs: number[]; answerToAudioMs: number[]; failed: number; streamFrames: number }> {
    const inviteToWebhookMs: number[] = [];
    const answerToAudioMs: number[] = [];
    let failed = 0;
    const started = performance.now();
    const running: Promise<void>[] = [];
    const frames0 = streamLatency.count;
    for (let i = 0; i < arg.count; i++) {
      const wait = started + (i * 1000) / arg.cps - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      running.push((async () => {
        const call = await placeCall(arg.kind, { send: arg.kind === 'stream' ? 'marker' : 'silence', timeoutMs: 10_000 });
        if (call.failed) {
          failed++;
          await endCall(call);
          return;
        }
        if (arg.kind === 'say') {
          if (!(await recordSayTimings(call, inviteToWebhookMs, answerToAudioMs))) failed++;
        } else {
          await new Promise((r) => setTimeout(r, arg.holdMs ?? 3000));
          if (!call.ws) failed++;
        }
        await endCall(call);
      })());
    }
    await Promise.all(running);
    return { inviteToWebhookMs, answerToAudioMs, failed, streamFrames: streamLatency.count - frames0 };
  },

  /**
   * Reference for the say probes (bench/lib/latency-relay.ts): a datagram
   * to the relay stands for the INVITE; the relay POSTs to the same webhook
   * app and, once the answer is read, sends one audible RTP packet to the
   * call's phone. Same samples as `probe`.
   */
  async refProbeSay(arg: { count: number; cps: number; relayPort: number }): Promise<{ inviteToWebhookMs: number[]; answerToAudioMs: number[]; failed: number }> {
    const inviteToWebhookMs: number[] = [];
    const answerToAudioMs: number[] = [];
    let failed = 0;
    signal ??= await new Promise<dgram.Socket>((resolve) => {
      const sock = dgram.createSocket('udp4');
      sock.bind(0, '127.0.0.1', () => resolve(sock));
    });
    const started = performance.now();
    const running: Promise<void>[] = [];
    for (let i = 0; i < arg.count; i++) {
      const wait = started + (i * 1000) / arg.cps - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      running.push((async () => {
        const index = nextCall++;
        const a = await bindPhone(index, -1);
        const call = newCall(index, 'say', a);
        a.onAudible = (at) => (call.firstAudioAt = at);
        call.inviteSentAt = performance.now();
        signal!.send(JSON.stringify({ index, from: `${CALLER_PREFIX}${pad7(index)}`, port: a.port }), arg.relayPort, '127.0.0.1');
        if (!(await recordSayTimings(call, inviteToWebhookMs, answerToAudioMs))) failed++;
        await endCall(call);
      })());
    }
    await Promise.all(running);
    return { inviteToWebhookMs, answerToAudioMs, failed };
  },

  /** Reference for the stream probes: `count` calls whose phones will send markers to the relay; answers their indices. */
  refStreamCalls(arg: { count: number }): number[] {
    const out: number[] = [];
    for (let i = 0; i < arg.count; i++) out.push(nextCall++);
    return out;
  },

  /** Reference for the stream probes: the phones of `indices` send markers to the relay's `ports` for `holdMs`. */
  async refProbeStream(arg: { indices: number[]; ports: number[]; holdMs: number }): Promise<{ failed: number; streamFrames: number }> {
    const frames0 = streamLatency.count;
    const made: Call[] = [];
    for (let i = 0; i < arg.indices.length; i++) {
      const index = arg.indices[i]!;
      const a = await bindPhone(index, -1);
      a.send = 'marker';
      made.push(newCall(index, 'stream', a));
      startSending(a, '127.0.0.1', arg.ports[i]!);
    }
    await new Promise((r) => setTimeout(r, arg.holdMs));
    const failed = made.filter((c) => !c.ws).length;
    await Promise.all(made.map((c) => endCall(c)));
    return { failed, streamFrames: streamLatency.count - frames0 };
  },

  /** Reference: `pairs` phone pairs outside SIP (for the raw UDP relay); answers their ports. */
  async refSetup(arg: { pairs: number; control?: boolean }): Promise<[number, number][]> {
    const out: [number, number][] = [];
    for (let c = 0; c < arg.pairs; c++) {
      const index = nextCall++;
      const a = await bindPhone(index, -1);
      const b = await bindPhone(index, -1);
      a.expect = b.id;
      b.expect = a.id;
      if (arg.control) a.group = b.group = 1;
      newCall(index, 'bridge', a, b);
      out.push([a.port, b.port]);
    }
    return out;
  },

  /** Reference: start the pairs of refSetup sending to `targets` (the relay's ports). */
  refStart(arg: { phones: [number, number][]; targets: [number, number][] }): null {
    const byPort = new Map(phones.filter((p) => !p.closed).map((p) => [p.port, p]));
    arg.phones.forEach(([pa, pb], i) => {
      const [ta, tb] = arg.targets[i]!;
      startSending(byPort.get(pa)!, '127.0.0.1', ta);
      startSending(byPort.get(pb)!, '127.0.0.1', tb);
    });
    return null;
  },

  markStart(): null {
    resetWindow();
    for (const p of phones) p.windowStart = p.index;
    measuring = true;
    cpu0 = process.cpuUsage();
    t0 = performance.now();
    return null;
  },

  markEnd(): null {
    const cpu = process.cpuUsage(cpu0);
    windowResult = { cpuUs: cpu.user + cpu.system, ms: performance.now() - t0, eldP99: Math.max(0, eld.percentile(99) / 1e6 - ELD_RESOLUTION_MS), eldMax: Math.max(0, eld.max / 1e6 - ELD_RESOLUTION_MS) };
    for (const p of phones) p.windowEnd = p.index;
    measuring = false;
    return null;
  },

  /** Counts the last window (call after a grace period for packets in flight). */
  collect(): WindowStats {
    const g = [0, 1].map(() => ({ expected: 0, heard: 0, worst: 0, streams: 0, jSum: 0 }));
    let sent = 0;
    for (const listener of phones) {
      if (listener.closed || listener.expect < 0) continue;
      const sender = phones[listener.expect]!;
      if (sender.closed || sender.send !== 'index') continue;
      const n = sender.windowEnd - sender.windowStart;
      if (n <= 0) continue;
      let got = 0;
      for (let i = sender.windowStart; i < sender.windowEnd; i++) if (listener.heard[i & MASK] === i) got++;
      const c = g[listener.group]!;
      c.streams++;
      c.expected += n;
      c.heard += got;
      c.worst = Math.max(c.worst, n - got);
      c.jSum += listener.jitterJ;
    }
    for (const p of phones) if (!p.closed) sent += p.windowEnd - p.windowStart;
    const [main, control] = [g[0]!, g[1]!];
    const pct = (x: { expected: number; heard: number }): number => (x.expected > 0 ? (100 * (x.expected - x.heard)) / x.expected : Number.NaN);
    return {
      streams: main.streams, expected: main.expected, heard: main.heard, lost: main.expected - main.heard,
      lossPct: pct(main),
      worstStreamLost: main.worst,
      latePct: main.expected > 0 ? (100 * transit[0]!.above(LATE_MS)) / main.expected : Number.NaN,
      corrupt, silent, duplicates, other, unexpectedEnds,
      transitMs: { p50: transit[0]!.quantile(0.5), p99: transit[0]!.quantile(0.99), max: transit[0]!.max },
      jitterMs: { p50: jitter[0]!.quantile(0.5), p99: jitter[0]!.quantile(0.99), max: jitter[0]!.max, samples: jitter[0]!.count },
      jitterRfcMs: main.streams > 0 ? main.jSum / main.streams : Number.NaN,
      control: {
        streams: control.streams, expected: control.expected, lost: control.expected - control.heard, lossPct: pct(control),
        transitMs: { p50: transit[1]!.quantile(0.5), p99: transit[1]!.quantile(0.99) },
        jitterMs: { p50: jitter[1]!.quantile(0.5), p99: jitter[1]!.quantile(0.99) },
      },
      streamLatencyMs: { p50: streamLatency.quantile(0.5), p99: streamLatency.quantile(0.99), samples: streamLatency.count, missed: markersMissed },
      gen: {
        cpuPct: (100 * windowResult.cpuUs) / 1000 / windowResult.ms,
        sendLagP99Ms: lag.quantile(0.99), sendLagMaxMs: lag.max,
        eldP99Ms: windowResult.eldP99, eldMaxMs: windowResult.eldMax, packetsSent: sent,
      },
    };
  },

  /** Ends every call (BYE from here) and closes its phones; control pairs stay unless `control` is set. */
  async hangupAll(arg?: { control?: boolean }): Promise<{ calls: number; seconds: number }> {
    const t = performance.now();
    const all = [...calls.values()].filter((c) => arg?.control || c.a.group === 0);
    // In batches, so a few hundred BYEs do not land in one burst.
    for (let i = 0; i < all.length; i += 50) await Promise.all(all.slice(i, i + 50).map((c) => endCall(c)));
    if (calls.size === 0) {
      phones.length = 0;
      sendingPhones = [];
    }
    return { calls: all.length, seconds: (performance.now() - t) / 1000 };
  },

  async shutdown(): Promise<null> {
    if (pumpTimer) clearInterval(pumpTimer);
    pumpTimer = undefined;
    await ua?.close();
    wss?.close();
    http?.closeAllConnections();
    http?.close();
    return null;
  },
});
