/**
 * Micro-benchmarks of the 20 ms media path. Run: `npx vitest bench --run bench/`.
 * A tick has a 20 ms budget for every leg on the process; the target is well
 * under 1 ms per tick for 50 conference legs (decode, mix, encode, send).
 */
import { bench, describe } from 'vitest';
import { decodePcmu, encodePcmu } from '../src/media/codecs/g711.js';
import { resample } from '../src/media/codecs/resample.js';
import { InbandDtmfDetector } from '../src/media/dtmf/inband-detector.js';
import { MediaClock } from '../src/media/media-clock.js';
import { MediaEngine } from '../src/media/engine.js';
import type { MediaEndpoint } from '../src/media/endpoint.js';
import { ToneSource } from '../src/media/sources/tones.js';

const LEGS = 50;
const clock = new MediaClock({ autoStart: false });
const engine = new MediaEngine({ clock, portMin: 32000, portMax: 32999, bindAddress: '127.0.0.1' });
const mixer = engine.createMixer();
const endpoints: MediaEndpoint[] = [];
for (let i = 0; i < LEGS; i++) endpoints.push(await engine.createEndpoint());
endpoints.forEach((ep, i) => {
  const next = endpoints[(i + 1) % LEGS]!;
  ep.setRemote({ address: '127.0.0.1', port: next.session.port, payloadType: 0, telephoneEvent: 101 });
  mixer.add(ep);
  void ep.play(new ToneSource([{ freqs: [300 + i * 10], ms: 600_000 }]));
});

const pcm = new Int16Array(160).map((_, i) => Math.round(8000 * Math.sin(i / 3)));
const bytes = new Uint8Array(160);
const detector = new InbandDtmfDetector(() => undefined);
const speech22k = new Int16Array(22050 * 5).map((_, i) => Math.round(8000 * Math.sin(i / 7)));

describe('media path', () => {
  bench(`one clock tick, ${LEGS} conference legs (encode, mix, send)`, () => {
    clock.runTick();
  });

  bench('PCMU encode + decode, one 20 ms frame', () => {
    encodePcmu(pcm, bytes);
    decodePcmu(bytes, pcm);
  });

  bench('in-band DTMF detection, one 20 ms frame', () => {
    detector.process(pcm);
  });

  bench('resample 5 s of TTS output 22.05 -> 8 kHz (off the tick)', () => {
    resample(speech22k, 22050, 8000);
  });
});
