/**
 * Load generator for the bridged-call benchmark, run as its own process (see
 * media-ipc.ts). Per call it plays two "phones": UDP sockets on 127.0.0.1
 * that each send 20 ms PCMU RTP (160-byte payload, sequence numbers, ptime
 * 20) to their platform leg and check every packet that comes back.
 *
 * Loss is measured end to end through the codec: the engine decodes each
 * packet, the bridge hands the PCM to the other leg, which re-encodes it
 * with its own RTP sequence numbers. So the phone's identity and packet
 * index ride in the payload, written with µ-law codes that survive
 * decode → encode unchanged, and the rest of the payload is a pattern the
 * receiver checks byte for byte. A packet the engine lost shows up as a
 * missing index (its concealment frame, at half level, does not match);
 * the raw UDP echo passes payloads through untouched, so the same check
 * applies to it.
 */
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { writeRtpHeader } from '../../src/media/rtp/rtp-packet.js';
import { serve } from './media-ipc.js';
import { PACKET, PAYLOAD, PTIME, isSilent, readPayload, writePayload } from './rtp-payload.js';

/** Packets a stream may send in one run (warm-up + window + grace, with margin). */
const MAX_PACKETS = 50 * 120;
const LATE_MS = 200;

interface Phone {
  /** Stream id of what this phone sends: call * 2 + side. */
  stream: number;
  /** Stream id of what it should hear: the other phone of the call. */
  peer: number;
  socket: dgram.Socket;
  target: number;
  ssrc: number;
  phaseMs: number;
  index: number;
  sendTimes: Float64Array;
  /** By packet index of the peer's stream. */
  heard: Uint8Array;
  windowStart: number;
  windowEnd: number;
}

let phones: Phone[] = [];
let startedAt = 0;
/** Sender stalls: no packets for `forMs` every `everyMs`, then the backlog goes out at once (a burst, as after a network hiccup). */
let stall: { everyMs: number; forMs: number } | undefined;
let timer: NodeJS.Timeout | undefined;
let measuring = false;
const latencies: number[] = [];
let corrupt = 0;
let silent = 0;
let duplicates = 0;
let other = 0;
let maxLagMs = 0;
let cpu0: NodeJS.CpuUsage = { user: 0, system: 0 };
let t0 = 0;
let window = { cpuUs: 0, ms: 0 };

function onMessage(phone: Phone, msg: Buffer): void {
  if (msg.length !== PACKET) {
    other++; // RTCP from a neighbour's leg, or anything else.
    return;
  }
  const index = readPayload(msg, 12, phone.peer);
  if (index < 0) {
    if (isSilent(msg, 12, PACKET)) silent++;
    else corrupt++;
    return;
  }
  if (index >= MAX_PACKETS) return;
  if (phone.heard[index]) {
    duplicates++;
    return;
  }
  phone.heard[index] = 1;
  if (measuring) {
    const peer = phones[phone.peer]!;
    latencies.push(performance.now() - peer.sendTimes[index]!);
  }
}

/** Send every packet that is due; each phone has its own phase in the 20 ms period, like independent calls. */
function pump(): void {
  const now = performance.now();
  if (stall && (now - startedAt) % stall.everyMs < stall.forMs) return;
  for (let p = 0; p < phones.length; p++) {
    const phone = phones[p]!;
    while (phone.index < MAX_PACKETS && startedAt + phone.phaseMs + phone.index * PTIME <= now) {
      const due = startedAt + phone.phaseMs + phone.index * PTIME;
      if (measuring && now - due > maxLagMs) maxLagMs = now - due;
      // A fresh buffer per packet: the socket may still hold the previous one.
      const pkt = Buffer.allocUnsafe(PACKET);
      writeRtpHeader(pkt, 0, phone.index === 0, phone.index & 0xffff, (phone.index * PAYLOAD) >>> 0, phone.ssrc);
      writePayload(pkt, 12, phone.stream, phone.index);
      phone.sendTimes[phone.index] = now;
      phone.socket.send(pkt, phone.target, '127.0.0.1');
      phone.index++;
    }
  }
}

serve({
  /** Bind two phones per call; returns their ports as [a, b] per call. */
  async setup(arg: { calls: number }): Promise<[number, number][]> {
    const bindOne = (): Promise<dgram.Socket> =>
      new Promise((resolve, reject) => {
        const s = dgram.createSocket('udp4');
        s.once('error', reject);
        s.bind(0, '127.0.0.1', () => resolve(s));
      });
    const n = arg.calls * 2;
    for (let i = 0; i < n; i++) {
      const socket = await bindOne();
      // Receive buffers large enough that a burst (the engine sends every leg on one tick) is not dropped here.
      socket.setRecvBufferSize(1 << 20);
      const phone: Phone = {
        stream: i,
        peer: i ^ 1,
        socket,
        target: 0,
        ssrc: (0x5a000000 + i) >>> 0,
        phaseMs: (PTIME * i) / n,
        index: 0,
        sendTimes: new Float64Array(MAX_PACKETS),
        heard: new Uint8Array(MAX_PACKETS),
        windowStart: 0,
        windowEnd: 0,
      };
      socket.on('message', (msg) => onMessage(phone, msg));
      phones.push(phone);
    }
    const ports: [number, number][] = [];
    for (let c = 0; c < arg.calls; c++) ports.push([phones[2 * c]!.socket.address().port, phones[2 * c + 1]!.socket.address().port]);
    return ports;
  },

  /** Start sending: `targets[c]` are the platform ports of call c's A and B legs. */
  start(arg: { targets: [number, number][]; stall?: { everyMs: number; forMs: number } }): null {
    stall = arg.stall;
    arg.targets.forEach(([a, b], c) => {
      phones[2 * c]!.target = a;
      phones[2 * c + 1]!.target = b;
    });
    startedAt = performance.now();
    timer = setInterval(pump, 2);
    pump();
    return null;
  },

  markStart(): null {
    for (const p of phones) p.windowStart = p.index;
    latencies.length = 0;
    corrupt = silent = duplicates = other = 0;
    maxLagMs = 0;
    measuring = true;
    cpu0 = process.cpuUsage();
    t0 = performance.now();
    return null;
  },

  markEnd(): null {
    const cpu = process.cpuUsage(cpu0);
    window = { cpuUs: cpu.user + cpu.system, ms: performance.now() - t0 };
    for (const p of phones) p.windowEnd = p.index;
    return null;
  },

  /** After a grace period for packets in flight: stop and count the window. */
  async finish(arg: { graceMs: number }): Promise<unknown> {
    await new Promise((r) => setTimeout(r, arg.graceMs));
    measuring = false;
    if (timer) clearInterval(timer);
    let expected = 0;
    let heard = 0;
    let worstStreamLoss = 0;
    for (const listener of phones) {
      const sender = phones[listener.peer]!;
      let got = 0;
      for (let i = sender.windowStart; i < sender.windowEnd; i++) got += listener.heard[i]!;
      const sent = sender.windowEnd - sender.windowStart;
      expected += sent;
      heard += got;
      worstStreamLoss = Math.max(worstStreamLoss, sent - got);
    }
    latencies.sort((a, b) => a - b);
    const q = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? Number.NaN;
    const result = {
      streams: phones.length,
      expected,
      heard,
      lost: expected - heard,
      lossPct: expected > 0 ? (100 * (expected - heard)) / expected : Number.NaN,
      worstStreamLoss,
      corrupt,
      silent,
      duplicates,
      other,
      latencyMs: { p50: q(0.5), p99: q(0.99), max: latencies[latencies.length - 1] ?? Number.NaN },
      // Packets heard more than 200 ms after they were sent: a phone's jitter buffer would drop them too.
      // The echo has no playout deadline, so its loss alone flatters it under CPU starvation.
      latePct: expected > 0 ? (100 * latencies.filter((l) => l > LATE_MS).length) / expected : Number.NaN,
      sendLagMaxMs: maxLagMs,
      cpuPct: (100 * window.cpuUs) / 1000 / window.ms,
    };
    for (const p of phones) p.socket.close();
    phones = [];
    return result;
  },
});
