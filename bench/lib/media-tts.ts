/**
 * The TTS latency benchmark's child process (see media-ipc.ts): a
 * `MediaEngine` with its default TTS (eSpeak NG on a worker thread), one
 * endpoint sending RTP to a plain UDP socket on 127.0.0.1 that plays the
 * caller, and a raw UDP echo socket for the reference round trip.
 *
 * `say` times one `endpoint.say(text)` from the call to:
 * - the first sentence synthesized (what `say` waits for before playing),
 * - every sentence synthesized (the total synthesis time),
 * - the first packet with speech in it arriving at the caller's socket.
 * Sentence timings come from `engine.tts.speak` with the same request as
 * `say` makes: `TtsService` shares one synthesis between identical requests
 * in flight, so this observes `say`'s own jobs without doing the work twice.
 */
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { MULAW_DECODE } from '../../src/media/codecs/g711.js';
import { MediaEngine } from '../../src/media/engine.js';
import type { MediaEndpoint } from '../../src/media/endpoint.js';
import { splitSentences } from '../../src/media/sources/speech-source.js';
import { serve } from './media-ipc.js';

let engine: MediaEngine | undefined;
let leg: MediaEndpoint | undefined;
let caller: dgram.Socket | undefined;
/** Set while a `say` is waiting for its first audible packet. */
let onAudio: (() => void) | undefined;

function bindOne(): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

/** Speech, not the silence the leg sends between prompts: any sample above about −44 dBFS. */
function audible(msg: Buffer): boolean {
  for (let i = 12; i < msg.length; i++) if (Math.abs(MULAW_DECODE[msg[i]!]!) > 200) return true;
  return false;
}

serve({
  /** Engine, leg and caller socket; `warm` runs one synthesis first so the worker is up. */
  async init(arg: { warm: boolean }): Promise<null> {
    engine = new MediaEngine({ portMin: 48000, portMax: 48199, bindAddress: '127.0.0.1', rtpTimeoutMs: 0 });
    leg = await engine.createEndpoint();
    caller = await bindOne();
    caller.on('message', (msg) => {
      if (onAudio && msg.length > 12 && audible(msg)) onAudio();
    });
    leg.setRemote({ address: '127.0.0.1', port: caller.address().port, payloadType: 0 });
    if (arg.warm) await engine.tts.speak({ text: 'Warming up.', language: 'en-US' });
    return null;
  },

  async say(arg: { text: string; language: string }): Promise<unknown> {
    const ep = leg!;
    const tts = engine!.tts;
    const abort = new AbortController();
    const heard = new Promise<number>((resolve) => {
      // Bounded: a prompt that never becomes audible is reported as NaN, not waited for.
      const timer = setTimeout(() => resolve(Number.NaN), 20_000);
      onAudio = () => {
        onAudio = undefined;
        clearTimeout(timer);
        resolve(performance.now());
      };
    });
    // Start at a random point of the 20 ms tick: back-to-back requests would otherwise all land at the same phase.
    await new Promise((r) => setTimeout(r, Math.random() * 20));
    const t0 = performance.now();
    const said = ep.say(arg.text, { language: arg.language, signal: abort.signal });
    const parts = splitSentences(arg.text).map((text) => tts.speak({ text, language: arg.language }).then((pcm) => ({ pcm, at: performance.now() })));
    const done = await Promise.all(parts);
    const firstAudioAt = await heard;
    // The timings are taken; do not sit through the whole prompt.
    abort.abort();
    await said;
    return {
      parts: done.length,
      synthFirstMs: done[0]!.at - t0,
      synthAllMs: Math.max(...done.map((d) => d.at)) - t0,
      firstAudioMs: firstAudioAt - t0,
      audioMs: done.reduce((sum, d) => sum + d.pcm.length, 0) / 8,
    };
  },

  /** Round trips to a raw UDP echo socket on loopback, ms (the reference floor for delivering a packet). */
  async udpRtt(arg: { count: number }): Promise<number[]> {
    const echo = await bindOne();
    const ping = await bindOne();
    echo.on('message', (msg, rinfo) => echo.send(msg, rinfo.port, '127.0.0.1'));
    const rtts: number[] = [];
    const packet = Buffer.alloc(172);
    for (let i = 0; i < arg.count; i++) {
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        ping.once('message', () => resolve());
        ping.send(packet, echo.address().port, '127.0.0.1');
      });
      rtts.push(performance.now() - t0);
    }
    echo.close();
    ping.close();
    return rtts;
  },

  async close(): Promise<null> {
    caller?.close();
    await engine?.close();
    return null;
  },
});
