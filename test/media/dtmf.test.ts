import { describe, expect, it } from 'vitest';
import { decodePcmu, encodePcmu } from '../../src/media/codecs/g711.js';
import type { DtmfEvent } from '../../src/media/dtmf/digits.js';
import { InbandDtmfDetector } from '../../src/media/dtmf/inband-detector.js';
import { Rfc4733Receiver, Rfc4733Sender } from '../../src/media/dtmf/rfc4733.js';
import { HoldMusicSource } from '../../src/media/sources/hold-music.js';
import { dtmfTones, tone } from '../../src/media/sources/tones.js';
import type { AudioSource } from '../../src/media/sources/audio-source.js';
import { sine } from './helpers.js';

/** Run a source through PCMU (as a carrier would) and the detector, frame by frame. */
function detect(source: AudioSource, maxFrames = 2000, detectorOptions = {}): DtmfEvent[] {
  const events: DtmfEvent[] = [];
  const detector = new InbandDtmfDetector((e) => events.push(e), detectorOptions);
  const frame = new Int16Array(160);
  const wire = new Uint8Array(160);
  for (let i = 0; i < maxFrames && source.read(frame); i++) {
    encodePcmu(frame, wire);
    decodePcmu(wire, frame);
    detector.process(frame);
  }
  return events;
}

describe('inbandDtmfDetector', () => {
  it('detects every keypad digit through PCMU', () => {
    const digits = '0123456789*#ABCD';
    const events = detect(dtmfTones(digits, { toneMs: 80, gapMs: 60 }));
    expect(events.map((e) => e.digit).join('')).toBe(digits);
    expect(events.every((e) => e.source === 'inband')).toBe(true);
  });

  it('reports a held key once and repeated presses each time', () => {
    expect(detect(dtmfTones('5', { toneMs: 1000 })).map((e) => e.digit)).toEqual(['5']);
    expect(detect(dtmfTones('55', { toneMs: 100, gapMs: 100 })).map((e) => e.digit)).toEqual(['5', '5']);
  });

  it('ignores quiet tones, single tones, music and ringback', () => {
    expect(detect(dtmfTones('123', { amplitude: 150 }))).toEqual([]);
    const single = sine(697, 500, 8000);
    let i = 0;
    const singleSource: AudioSource = { read: (out) => (i + 160 <= single.length ? (out.set(single.subarray(i, (i += 160))), true) : false) };
    expect(detect(singleSource)).toEqual([]);
    expect(detect(new HoldMusicSource({ maxMs: 20_000 }))).toEqual([]);
    expect(detect(tone('ringback', { maxMs: 6000 }))).toEqual([]);
  });

  it('rejects tones with too much twist', () => {
    // Row tone 14 dB below the column tone.
    const frames = 10;
    const pcm = new Int16Array(160 * frames);
    for (let n = 0; n < pcm.length; n++) pcm[n] = Math.round(1000 * Math.sin((2 * Math.PI * 697 * n) / 8000) + 5000 * Math.sin((2 * Math.PI * 1209 * n) / 8000));
    const events: DtmfEvent[] = [];
    const d = new InbandDtmfDetector((e) => events.push(e));
    for (let f = 0; f < frames; f++) d.process(pcm.subarray(f * 160, (f + 1) * 160));
    expect(events).toEqual([]);
  });
});

describe('rfc4733', () => {
  function payload(event: number, end: boolean, duration: number): Uint8Array {
    return Uint8Array.of(event, (end ? 0x80 : 0) | 10, duration >> 8, duration & 0xff);
  }

  it('reports a digit once on its end bit, ignoring the retransmitted end packets', () => {
    const got: DtmfEvent[] = [];
    const rx = new Rfc4733Receiver((e) => got.push(e));
    rx.receive(payload(1, false, 160), 0, 4, 1000, 0);
    rx.receive(payload(1, false, 320), 0, 4, 1000, 20);
    expect(got).toEqual([]);
    for (let i = 0; i < 3; i++) rx.receive(payload(1, true, 800), 0, 4, 1000, 40 + i * 20);
    expect(got).toEqual([{ digit: '1', source: 'rfc4733', durationMs: 100 }]);
    // The same digit again is a new event with a new timestamp.
    rx.receive(payload(1, true, 800), 0, 4, 2000, 200);
    expect(got.map((e) => e.digit)).toEqual(['1', '1']);
  });

  it('still reports a digit whose end packets were all lost', () => {
    const got: string[] = [];
    const rx = new Rfc4733Receiver((e) => got.push(e.digit), { staleMs: 300 });
    rx.receive(payload(11, false, 160), 0, 4, 5000, 0); // '#'
    rx.receive(payload(10, false, 160), 0, 4, 6000, 100); // '*' starts: '#' must have ended
    expect(got).toEqual(['#']);
    rx.flush(200);
    expect(got).toEqual(['#']);
    rx.flush(400);
    expect(got).toEqual(['#', '*']);
  });

  it('sends start, updates and three end packets per digit, then a gap', async () => {
    const tx = new Rfc4733Sender({ durationMs: 60, gapMs: 40 });
    const done = tx.enqueue('9#');
    const out = new Uint8Array(4);
    const steps: string[] = [];
    let ts = 0;
    for (let i = 0; i < 20; i++, ts += 160) {
      const step = tx.next(out, 0, ts);
      steps.push(step === 'event' ? `${out[0]}${out[1]! & 0x80 ? 'E' : ''}:${(out[2]! << 8) | out[3]!}@${tx.eventTimestamp}${tx.marker ? 'M' : ''}` : step);
    }
    expect(steps).toEqual([
      '9:160@0M', '9:320@0', '9E:480@0', '9E:480@0', '9E:480@0', 'gap', 'gap',
      '11:160@1120M', '11:320@1120', '11E:480@1120', '11E:480@1120', '11E:480@1120', 'gap', 'gap',
      'idle', 'idle', 'idle', 'idle', 'idle', 'idle',
    ]);
    await expect(done).resolves.toBeUndefined();
  });

  it('round-trips digits from sender to receiver', () => {
    const got: string[] = [];
    const rx = new Rfc4733Receiver((e) => got.push(e.digit));
    const tx = new Rfc4733Sender();
    void tx.enqueue('4711*#');
    const out = new Uint8Array(4);
    for (let i = 0, ts = 0; i < 200; i++, ts += 160) {
      if (tx.next(out, 0, ts) === 'event') rx.receive(out, 0, 4, tx.eventTimestamp, i * 20);
    }
    expect(got.join('')).toBe('4711*#');
  });
});
