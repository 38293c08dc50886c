import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaEngine } from '../../src/media/engine.js';
import type { MediaEndpoint } from '../../src/media/endpoint.js';
import { ToneSource } from '../../src/media/sources/tones.js';
import { PCMU } from '../../src/media/codecs/codec.js';
import { encodePcmu } from '../../src/media/codecs/g711.js';
import { MediaClock } from '../../src/media/media-clock.js';
import { Mixer, type MixerLeg } from '../../src/media/mixer.js';
import { FRAME_SAMPLES, type AudioSource } from '../../src/media/sources/audio-source.js';
import { captureInbound, connect, delay, rms, toneAmplitude } from './helpers.js';

let engine: MediaEngine;

beforeAll(() => {
  engine = new MediaEngine({ portMin: 31200, portMax: 31299, bindAddress: '127.0.0.1' });
});

afterAll(async () => {
  await engine.close();
  expect(engine.ports.inUse).toBe(0);
});

/** A phone (sending a steady tone) connected to a conference leg. */
async function member(freq: number): Promise<{ phone: MediaEndpoint; leg: MediaEndpoint }> {
  const phone = await engine.createEndpoint({ id: `phone-${freq}` });
  const leg = await engine.createEndpoint({ id: `leg-${freq}` });
  connect(phone, leg);
  void phone.play(new ToneSource([{ freqs: [freq], ms: 60_000 }], { amplitude: 5000 }));
  return { phone, leg };
}

describe('mixer', () => {
  it('lets each member hear the others but not itself; muted members are not heard but hear; held members hear hold music', async () => {
    const freqs = [500, 900, 1300, 1700];
    const members = await Promise.all(freqs.map((f) => member(f)));
    const mixer = engine.createMixer();
    const handles = members.map((m) => mixer.add(m.leg));
    await delay(200);

    let heard = await Promise.all(members.map((m) => captureInbound(m.phone, 400)));
    heard.forEach((pcm, i) => {
      freqs.forEach((f, j) => {
        if (i === j) expect(toneAmplitude(pcm, f), `member ${i} hears itself at ${f}`).toBeLessThan(300);
        else expect(toneAmplitude(pcm, f), `member ${i} hears ${f}`).toBeGreaterThan(3000);
      });
    });

    handles[1]!.setMuted(true);
    handles[3]!.setHold(true);
    await delay(200);
    heard = await Promise.all(members.map((m) => captureInbound(m.phone, 400)));
    // Nobody hears the muted member (900) or the held member (1700).
    for (const i of [0, 1, 2]) {
      expect(toneAmplitude(heard[i]!, 900)).toBeLessThan(300);
      expect(toneAmplitude(heard[i]!, 1700)).toBeLessThan(300);
    }
    // The muted member still hears 500 and 1300.
    expect(toneAmplitude(heard[1]!, 500)).toBeGreaterThan(3000);
    expect(toneAmplitude(heard[1]!, 1300)).toBeGreaterThan(3000);
    // The held member hears hold music, not the room.
    expect(toneAmplitude(heard[3]!, 500)).toBeLessThan(300);
    expect(toneAmplitude(heard[3]!, 1300)).toBeLessThan(300);
    expect(rms(heard[3]!)).toBeGreaterThan(500);

    // A member whose leg closes leaves the mixer.
    await members[2]!.leg.close();
    expect(mixer.size).toBe(3);
    mixer.close();
    expect(mixer.size).toBe(0);
    await Promise.all(members.flatMap((m) => [m.phone.close(), m.leg.close()]));
  });

  it('plays announcements to everyone not on hold and taps the whole room', async () => {
    const members = await Promise.all([member(500), member(900), member(1300)]);
    const mixer = engine.createMixer();
    for (const m of members) mixer.add(m.leg);
    mixer.members()[2]!.setHold(true);
    const room: Int16Array[] = [];
    const stopTap = mixer.fork((frame) => room.push(frame.slice()));
    await delay(200);
    const announced = mixer.play(new ToneSource([{ freqs: [2000], ms: 1000 }], { amplitude: 5000 }));
    await delay(150); // past the jitter buffer's prefetch
    const [a, b, held] = await Promise.all(members.map((m) => captureInbound(m.phone, 300)));
    expect(toneAmplitude(a!, 2000)).toBeGreaterThan(3000);
    expect(toneAmplitude(b!, 2000)).toBeGreaterThan(3000);
    expect(toneAmplitude(held!, 2000)).toBeLessThan(300);
    await expect(announced).resolves.toBe('done');
    stopTap();
    const joined = new Int16Array(room.length * 160);
    room.forEach((f, i) => joined.set(f, i * 160));
    const tail = joined.subarray(joined.length - 1600);
    // The room has both speaking members (the held one is not heard).
    expect(toneAmplitude(tail, 500)).toBeGreaterThan(3000);
    expect(toneAmplitude(tail, 900)).toBeGreaterThan(3000);
    expect(toneAmplitude(tail, 1300)).toBeLessThan(300);
    mixer.close();
    await Promise.all(members.flatMap((m) => [m.phone.close(), m.leg.close()]));
  });

  it('clips the sum to int16 instead of wrapping', async () => {
    const loud = await Promise.all([member(400), member(400), member(400)]);
    for (const m of loud) void m.phone.play(new ToneSource([{ freqs: [400], ms: 60_000 }], { amplitude: 30000 }));
    const mixer = engine.createMixer();
    for (const m of loud) mixer.add(m.leg);
    await delay(200);
    // Member 0 hears two 30000 tones started in the same tick (20 ms is a whole number of
    // 400 Hz cycles, so they stay in phase): the sum exceeds int16 and must saturate, not wrap.
    const pcm = await captureInbound(loud[0]!.phone, 300);
    let peak = 0;
    let jump = 0;
    for (let i = 1; i < pcm.length; i++) {
      peak = Math.max(peak, Math.abs(pcm[i]!));
      jump = Math.max(jump, Math.abs(pcm[i]! - pcm[i - 1]!));
    }
    expect(peak).toBeGreaterThan(31000);
    // The summed 60000-peak sine moves at most ~18900 per sample; a wrap would jump ~60000.
    expect(jump).toBeLessThan(30000);
    mixer.close();
    await Promise.all(loud.flatMap((m) => [m.phone.close(), m.leg.close()]));
  });

  it('encodes the mix once per tick for every member who adds nothing to it (silent or muted), the speaker and held members their own', () => {
    const clock = new MediaClock({ autoStart: false });
    const mixer = new Mixer<MixerLeg & { fed: AudioSource }>(clock);
    const legs = [0, 1, 2, 3].map(() => {
      let feed: AudioSource | undefined;
      return {
        inboundFrame: new Int16Array(FRAME_SAMPLES),
        inboundActive: true,
        attachFeed: (f: AudioSource) => ((feed = f), () => undefined),
        get fed(): AudioSource {
          return feed!;
        },
      };
    });
    const members = legs.map((leg) => mixer.add(leg));
    legs[0]!.inboundFrame.fill(1000); // speaks
    legs[1]!.inboundFrame.fill(0); // digital silence
    legs[2]!.inboundFrame.fill(3000);
    members[2]!.setMuted(true); // talks while muted
    members[3]!.setHold(true);
    clock.runTick();
    const out = new Int16Array(FRAME_SAMPLES);
    const encodedBy = (i: number): Uint8Array | number => {
      expect(legs[i]!.fed.read(out)).toBe(true);
      const buf = new Uint8Array(172);
      const n = legs[i]!.fed.encodeInto?.(PCMU, buf, 12) ?? 0;
      return n === 0 ? 0 : buf.subarray(12, 12 + n);
    };
    const room = new Uint8Array(FRAME_SAMPLES);
    encodePcmu(new Int16Array(FRAME_SAMPLES).fill(1000), room);
    expect(encodedBy(1)).toEqual(room);
    expect(encodedBy(2)).toEqual(room);
    // The speaker hears the room minus itself (silence) and encodes that itself; the held member hears hold music.
    expect(encodedBy(0)).toBe(0);
    expect(Array.from(out.slice(0, 3))).toEqual([0, 0, 0]);
    expect(encodedBy(3)).toBe(0);
    // Next tick the silent member speaks: it no longer shares the room's bytes.
    legs[1]!.inboundFrame.fill(500);
    clock.runTick();
    expect(encodedBy(1)).toBe(0);
    encodePcmu(new Int16Array(FRAME_SAMPLES).fill(1500), room);
    expect(encodedBy(2)).toEqual(room);
    mixer.close();
  });
});
