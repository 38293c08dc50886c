/**
 * The child behind `bench/media-tick.bench.ts` and
 * `bench/conference-mix.bench.ts`, run on plain Node (compiled by
 * media-build.ts) so the figures are those of production JavaScript, not of
 * vite's module runner. Commands (media-ipc.ts):
 *
 * - `legs`: N legs fed over real RTP (127.0.0.1, PCMU, a tone at speech
 *   level) by "phone" endpoints, on two hand-driven clocks: the phones tick,
 *   the event loop turns twice (packets out, packets in), then the legs tick
 *   alone and are timed. Legs are in conference rooms (`Mixer`, the object a
 *   `ConferenceManager` room drives; the room layer does no per-tick work) or
 *   bridged in pairs (`engine.bridge`), the reference for a conference leg.
 *   Returns per participant-frame (one leg, one 20 ms tick): the legs' tick,
 *   the mix phase alone, and all process CPU (phones and UDP receive
 *   included).
 * - `micro`: codec, DTMF and resampling kernels, each beside a reference
 *   doing the same job the plain way, timed in the same run.
 * - `udpSends`: the floor of a tick: one 172-byte UDP send per leg.
 */
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { setImmediate as nextLoop } from 'node:timers/promises';
import { decodePcmu, encodePcmu } from '../../src/media/codecs/g711.js';
import { resample } from '../../src/media/codecs/resample.js';
import { InbandDtmfDetector } from '../../src/media/dtmf/inband-detector.js';
import { MediaClock } from '../../src/media/media-clock.js';
import { MediaEngine } from '../../src/media/engine.js';
import type { MediaEndpoint } from '../../src/media/endpoint.js';
import { ToneSource } from '../../src/media/sources/tones.js';
import { serve } from './media-ipc.js';

export interface LegsArgs {
  /** 'conference': rooms of `perRoom` legs; 'bridge': `rooms × perRoom` legs bridged in pairs. */
  mode: 'conference' | 'bridge';
  rooms: number;
  perRoom: number;
  ticks: number;
  warmupTicks: number;
  portBase: number;
  /** Phones per room that speak; the others send digital silence, as listeners on many phones do. Default: all. */
  speakers?: number;
}

export interface LegsResult {
  legs: number;
  ticks: number;
  /** µs per participant-frame. */
  tickUs: number;
  /** The phones' tick (encode and send toward the legs), µs per participant-frame. */
  phoneTickUs: number;
  mixUs: number;
  processCpuUs: number;
  /** Share of leg-frames that carried received audio. */
  activePct: number;
  /** The legs' whole tick, ms (median over ticks). */
  tickMsP50: number;
}

async function legs(arg: LegsArgs): Promise<LegsResult> {
  const legClock = new MediaClock({ autoStart: false });
  const phoneClock = new MediaClock({ autoStart: false });
  const legsEngine = new MediaEngine({ clock: legClock, portMin: arg.portBase, portMax: arg.portBase + 2999, bindAddress: '127.0.0.1', rtpTimeoutMs: 0 });
  const phonesEngine = new MediaEngine({ clock: phoneClock, portMin: arg.portBase + 3000, portMax: arg.portBase + 5999, bindAddress: '127.0.0.1', rtpTimeoutMs: 0 });
  let mixStartedAt = 0;
  let mixMs = 0;
  // Handlers of a phase run in subscription order: this one before every mixer, the one added after them last.
  legClock.add('mix', () => {
    mixStartedAt = performance.now();
  });
  const all: MediaEndpoint[] = [];
  try {
    for (let r = 0; r < arg.rooms; r++) {
      const mixer = arg.mode === 'conference' ? legsEngine.createMixer() : undefined;
      let pending: MediaEndpoint | undefined;
      for (let p = 0; p < arg.perRoom; p++) {
        const phone = await phonesEngine.createEndpoint();
        const leg = await legsEngine.createEndpoint();
        phone.setRemote({ address: '127.0.0.1', port: leg.session.port, payloadType: 0, telephoneEvent: 101 });
        leg.setRemote({ address: '127.0.0.1', port: phone.session.port, payloadType: 0, telephoneEvent: 101 });
        if (p < (arg.speakers ?? arg.perRoom)) void phone.play(new ToneSource([{ freqs: [300 + (p % 10) * 170], ms: 3_600_000 }], { amplitude: 3000 }));
        if (mixer) {
          mixer.add(leg);
        } else if (pending) {
          legsEngine.bridge(pending, leg);
          pending = undefined;
        } else {
          pending = leg;
        }
        all.push(leg);
      }
    }
    legClock.add('mix', () => {
      mixMs += performance.now() - mixStartedAt;
    });
    const tickMs: number[] = [];
    let phoneMs = 0;
    let active = 0;
    const tick = async (): Promise<void> => {
      const p0 = performance.now();
      phoneClock.runTick();
      phoneMs += performance.now() - p0;
      // Two turns of the event loop: the phones' packets go out and the legs' sockets read them.
      await nextLoop();
      await nextLoop();
      const t0 = performance.now();
      legClock.runTick();
      tickMs.push(performance.now() - t0);
      for (const leg of all) if (leg.inboundActive) active++;
    };
    // Fill the jitter buffers and let the JIT settle before measuring.
    for (let i = 0; i < arg.warmupTicks; i++) await tick();
    tickMs.length = 0;
    active = 0;
    mixMs = 0;
    phoneMs = 0;
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < arg.ticks; i++) await tick();
    const cpu = process.cpuUsage(cpu0);
    const frames = arg.ticks * all.length;
    const sum = tickMs.reduce((a, b) => a + b, 0);
    tickMs.sort((a, b) => a - b);
    return {
      legs: all.length,
      ticks: arg.ticks,
      tickUs: (sum * 1000) / frames,
      phoneTickUs: (phoneMs * 1000) / frames,
      mixUs: (mixMs * 1000) / frames,
      processCpuUs: (cpu.user + cpu.system) / frames,
      activePct: (100 * active) / frames,
      tickMsP50: tickMs[tickMs.length >> 1] ?? Number.NaN,
    };
  } finally {
    await Promise.all([legsEngine.close(), phonesEngine.close()]);
  }
}

/** µs per call of `fn`, over `iterations` calls after a warm-up of the same length. */
function time(iterations: number, fn: () => void): number {
  for (let i = 0; i < iterations; i++) fn();
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) fn();
  return ((performance.now() - t0) * 1000) / iterations;
}

/**
 * The Goertzel bank as the detector ran it before it was restructured: one
 * filter at a time over the frame. Kept here as the reference for the
 * detector's figure.
 */
function goertzelOneAtATime(frame: Int16Array, coeffs: Float64Array, power: Float64Array): void {
  for (let f = 0; f < 8; f++) {
    const c = coeffs[f] ?? 0;
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < frame.length; i++) {
      const s0 = (frame[i] ?? 0) + c * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    power[f] = s1 * s1 + s2 * s2 - c * s1 * s2;
  }
}

export interface MicroResult {
  name: string;
  /** µs per operation. */
  us: number;
  reference: string;
  referenceUs: number;
}

function micro(arg: { iterations: number }): MicroResult[] {
  const n = arg.iterations;
  // Loud, not DTMF: the detector's energy gate passes and the whole analysis runs, as on speech.
  const pcm = new Int16Array(160).map((_, i) => Math.round(8000 * Math.sin(i / 3) + 3000 * Math.sin(i * 1.3)));
  const pcmOut = new Int16Array(160);
  const bytes = new Uint8Array(160);
  const bytesOut = new Uint8Array(160);
  const detector = new InbandDtmfDetector(() => undefined);
  const coeffs = Float64Array.from([697, 770, 852, 941, 1209, 1336, 1477, 1633], (f) => 2 * Math.cos((2 * Math.PI * f) / 8000));
  const power = new Float64Array(8);
  const speech22k = new Int16Array(22050 * 5).map((_, i) => Math.round(8000 * Math.sin(i / 7)));
  const copy22k = new Int16Array(speech22k.length);
  return [
    {
      name: 'PCMU encode + decode, one 20 ms frame',
      us: time(n, () => {
        encodePcmu(pcm, bytes);
        decodePcmu(bytes, pcmOut);
      }),
      reference: 'copy the frame and its bytes (`set`)',
      referenceUs: time(n, () => {
        bytesOut.set(bytes);
        pcmOut.set(pcm);
      }),
    },
    {
      name: 'in-band DTMF detection, one 20 ms frame of loud non-DTMF audio',
      us: time(n, () => detector.process(pcm)),
      reference: 'the same eight Goertzel filters one at a time (the detector before 2026-12-01)',
      referenceUs: time(n, () => goertzelOneAtATime(pcm, coeffs, power)),
    },
    {
      name: 'resample 5 s of TTS output 22.05 → 8 kHz (off the tick)',
      us: time(Math.max(3, n / 2000), () => resample(speech22k, 22050, 8000)),
      reference: 'copy the 5 s once',
      referenceUs: time(Math.max(3, n / 2000), () => copy22k.set(speech22k)),
    },
  ];
}

/** µs per send of `count` 172-byte UDP packets to a socket that drops them, per tick (the floor of a tick's sends). */
async function udpSends(arg: { count: number; ticks: number }): Promise<number> {
  const bind = (): Promise<dgram.Socket> =>
    new Promise((resolve) => {
      const s = dgram.createSocket('udp4');
      s.bind(0, '127.0.0.1', () => resolve(s));
    });
  const sink = await bind();
  const senders: dgram.Socket[] = [];
  for (let i = 0; i < arg.count; i++) senders.push(await bind());
  const port = sink.address().port;
  const packet = Buffer.alloc(172, 0x55);
  let ms = 0;
  try {
    for (let t = 0; t < arg.ticks * 2; t++) {
      const t0 = performance.now();
      for (const s of senders) s.send(packet, port, '127.0.0.1');
      // dgram's default lookup sends on the next tick: wait for those to have run.
      await new Promise((resolve) => process.nextTick(resolve));
      if (t >= arg.ticks) ms += performance.now() - t0;
      await nextLoop();
      await nextLoop();
    }
  } finally {
    for (const s of [sink, ...senders]) s.close();
  }
  return (ms * 1000) / arg.ticks / arg.count;
}

serve({ legs, micro, udpSends });
