/**
 * The reference for the whole-platform latency bench (platform-latency.bench.ts):
 * the same hops as the platform's three measured paths, done by raw Node in
 * a process of its own, with nothing else in between. Driven over IPC
 * (media-ipc.ts); the load generator (trunk-loadgen.ts) takes every
 * timestamp, as it does for the platform.
 *
 * - INVITE → webhook: a datagram from the load generator (standing for the
 *   INVITE) makes the relay POST JSON to the same webhook app with `fetch`
 *   (undici, as the platform uses).
 * - Webhook answer → first RTP: once the answer's body is read, the relay
 *   sends one audible 20 ms PCMU packet to the call's phone.
 * - Caller RTP → stream frame: per call, a UDP socket and a WebSocket client
 *   (subprotocol audio.drachtio.org, metadata frame first); every RTP
 *   packet is decoded to 16-bit PCM and sent on as a binary frame.
 */
import dgram from 'node:dgram';
import { WebSocket } from 'ws';
import { MULAW_DECODE, mulawEncodeSample } from '../../src/media/codecs/g711.js';
import { writeRtpHeader } from '../../src/media/rtp/rtp-packet.js';
import { serve } from './media-ipc.js';
import { PACKET, PAYLOAD } from './rtp-payload.js';

let signal: dgram.Socket | undefined;
let webhookUrl = '';
const streams: { socket: dgram.Socket; ws: WebSocket }[] = [];

const TONE = Buffer.alloc(PACKET);
writeRtpHeader(TONE, 0, true, 1, 160, 0x5c000001);
for (let i = 0; i < PAYLOAD; i++) TONE[12 + i] = mulawEncodeSample(Math.round(16000 * Math.sin((2 * Math.PI * 1000 * i) / 8000)));

async function onSignal(msg: Buffer): Promise<void> {
  const { from, port } = JSON.parse(msg.toString('utf8')) as { from: string; port: number };
  const response = await fetch(webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ From: from, To: '', Direction: 'inbound', CallStatus: 'ringing' }) });
  await response.text();
  signal!.send(TONE, port, '127.0.0.1');
}

serve({
  async init(arg: { webhookUrl: string }): Promise<{ port: number }> {
    webhookUrl = arg.webhookUrl;
    signal = dgram.createSocket('udp4');
    signal.on('message', (msg) => void onSignal(msg).catch(() => undefined));
    await new Promise<void>((resolve) => signal!.bind(0, '127.0.0.1', () => resolve()));
    return { port: signal.address().port };
  },

  /** One UDP socket and one WebSocket per call index; answers the sockets' ports once every WebSocket is open. */
  async streamSetup(arg: { indices: number[]; wsUrl: string }): Promise<number[]> {
    const ports: number[] = [];
    for (const index of arg.indices) {
      const ws = new WebSocket(arg.wsUrl, ['audio.drachtio.org']);
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      ws.send(JSON.stringify({ bench: String(index), sampleRate: 8000 }));
      const socket = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
      socket.on('message', (msg) => {
        if (msg.length <= 12 || ws.readyState !== WebSocket.OPEN) return;
        const pcm = Buffer.allocUnsafe((msg.length - 12) * 2);
        for (let i = 12; i < msg.length; i++) pcm.writeInt16LE(MULAW_DECODE[msg[i]!]!, (i - 12) * 2);
        ws.send(pcm);
      });
      streams.push({ socket, ws });
      ports.push(socket.address().port);
    }
    return ports;
  },

  streamTeardown(): null {
    for (const s of streams.splice(0)) {
      s.socket.close();
      s.ws.close();
    }
    return null;
  },
});
