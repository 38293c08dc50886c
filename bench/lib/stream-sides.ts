/**
 * The platform side of the audio stream benches: N real `MediaEndpoint`s
 * with an `AudioStreamSession` each on this thread (as in production), or
 * the reference relay with no media engine — per stream a plain dgram
 * socket and a `ws` client that forwards every RTP payload at once as a
 * frame (µ-law decoded, samples repeated up to the stream's rate) and every
 * frame from the server at once as an RTP packet.
 */
import { createSocket, type Socket } from 'node:dgram';
import WebSocket from 'ws';
import { decodePcmu, encodePcmu } from '../../src/media/codecs/g711.js';
import { MediaEngine } from '../../src/media/engine.js';
import { AudioStreamSession } from '../../src/media/fork/audio-stream.js';

export interface SideSetup {
  legPorts: number[];
  /** Stop and report frames dropped / ticks skipped and tick durations (engine only). */
  finish(): Promise<{ dropped: number; skipped: number; ticks: number[] }>;
}

export async function engineSide(url: string, phonePorts: number[], rate: 8000 | 16000 | 24000): Promise<SideSetup> {
  const engine = new MediaEngine({ portMin: 46000, portMax: 46999, bindAddress: '127.0.0.1', rtpTimeoutMs: 0 });
  const sessions: AudioStreamSession[] = [];
  const legPorts: number[] = [];
  for (let i = 0; i < phonePorts.length; i++) {
    const leg = await engine.createEndpoint({ id: `leg-${i}` });
    leg.setRemote({ address: '127.0.0.1', port: phonePorts[i]!, payloadType: 0 });
    legPorts.push(leg.session.port);
    const session = new AudioStreamSession(leg, {
      url,
      policy: { allowedCallbackHosts: [], allowPrivateCallbacks: true }, // the bench's server is on loopback
      outputSamplingRate: rate,
      call: { callId: `call-${i}`, from: '+254711000001', to: '+254712345678', direction: 'outbound', accountId: 'bench' },
    });
    void session.start();
    sessions.push(session);
  }
  // Time every tick of the media clock (all legs: RTP, taps, resampling, ws.send).
  const ticks: number[] = [];
  const clock = engine.clock;
  const runTick = clock.runTick.bind(clock);
  clock.runTick = (): void => {
    const t0 = performance.now();
    runTick();
    ticks.push(performance.now() - t0);
  };
  const skippedBefore = clock.skipped;
  return {
    legPorts,
    async finish() {
      const dropped = sessions.reduce((n, s) => n + s.counters().framesDropped, 0);
      const skipped = clock.skipped - skippedBefore;
      await Promise.all(sessions.map((s) => s.close()));
      await engine.close();
      return { dropped, skipped, ticks };
    },
  };
}

/** The reference: forwards each packet and frame the moment it arrives, no buffering, no clock. */
export async function relaySide(url: string, phonePorts: number[], rate: 8000 | 16000 | 24000): Promise<SideSetup> {
  const factor = rate / 8000;
  const sockets: Socket[] = [];
  const clients: WebSocket[] = [];
  const pcm8 = new Int16Array(160);
  const up = Buffer.alloc(factor * 320);
  const down8 = new Int16Array(160);
  for (let i = 0; i < phonePorts.length; i++) {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const ws = new WebSocket(url, 'audio.drachtio.org');
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ callId: `call-${i}`, sampleRate: rate }));
    socket.on('message', (msg) => {
      const samples = decodePcmu(msg, pcm8, 12, Math.min(160, msg.length - 12));
      for (let s = 0; s < samples; s++) for (let k = 0; k < factor; k++) up.writeInt16LE(pcm8[s]!, (s * factor + k) * 2);
      ws.send(up);
    });
    let seq = 0;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return;
      for (let s = 0; s < 160; s++) down8[s] = data.readInt16LE(s * factor * 2);
      const packet = Buffer.alloc(172);
      packet[0] = 0x80;
      packet.writeUInt16BE(seq & 0xffff, 2);
      packet.writeUInt32BE((seq * 160) >>> 0, 4);
      packet.writeUInt32BE(0x2000 + i, 8);
      encodePcmu(down8, packet, 12);
      seq++;
      socket.send(packet, phonePorts[i]!, '127.0.0.1');
    });
    sockets.push(socket);
    clients.push(ws);
  }
  return {
    legPorts: sockets.map((s) => s.address().port),
    async finish() {
      for (const ws of clients) ws.terminate();
      await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      return { dropped: 0, skipped: 0, ticks: [] };
    },
  };
}
