import { beforeAll, describe, expect, it } from 'vitest';
import { MachineDetector, type MachineDetectionMode, type MachineDetectionResult } from '../../../src/media/amd/machine-detector.js';
import { ToneMeter } from '../../../src/media/amd/tone-meter.js';
import { concat, faxCng, first, silence, speech, tone, voicemailGreeting, withNoise } from '../../helpers/amd-audio.js';

/** Feeds `pcm` 20 ms at a time, then silence, until the detector decides. */
function detect(pcm: Int16Array, mode: MachineDetectionMode, timeoutMs = 30_000): MachineDetectionResult {
  const detector = new MachineDetector({ mode, timeoutMs });
  const frame = new Int16Array(160);
  for (let at = 0; ; at += 160) {
    frame.fill(0);
    if (at < pcm.length) frame.set(pcm.subarray(at, Math.min(pcm.length, at + 160)));
    if (detector.push(frame)) return detector.result!;
  }
}

describe('ToneMeter', () => {
  it('finds a sine\'s frequency and calls it pure; noise is not', () => {
    const meter = new ToneMeter();
    for (const hz of [400, 1000, 1100, 1975]) {
      const frame = tone(hz, 0.02);
      meter.measure(frame, frame.length);
      expect(Math.abs(meter.frequency - hz)).toBeLessThan(10);
      expect(meter.purity).toBeGreaterThan(0.9);
    }
    const noise = withNoise(silence(0.02), 2000, 7);
    meter.measure(noise, noise.length);
    expect(meter.purity).toBeLessThan(0.3);
    // Quieter than the floor it is given: energy only, no tone analysis.
    meter.measure(tone(1000, 0.02, 50), 160, 160 * 100 * 100);
    expect(meter).toMatchObject({ frequency: 0, purity: 0 });
    expect(meter.energy).toBeGreaterThan(0);
  });
});

describe('MachineDetector', () => {
  let hello: Int16Array;
  let greeting: Int16Array;
  beforeAll(async () => {
    hello = await speech('Hello?');
    greeting = first(await speech(voicemailGreeting), 6);
  });

  it('a person: "Hello?" then silence is human, within a second of the end of the word', () => {
    for (const mode of ['Enable', 'DetectMessageEnd'] as const) {
      const result = detect(concat(silence(0.4), hello), mode);
      expect(result).toMatchObject({ answeredBy: 'human', reason: 'short_greeting', words: 1 });
      expect(result.decidedAfterMs).toBeLessThan(3500);
    }
  });

  it('a voicemail with a beep: machine_start with Enable, machine_end_beep (with its frequency) with DetectMessageEnd', () => {
    const audio = concat(silence(0.3), greeting, silence(0.4), tone(1000, 0.5));
    expect(detect(audio, 'Enable')).toMatchObject({ answeredBy: 'machine_start', reason: 'long_greeting' });
    const end = detect(audio, 'DetectMessageEnd');
    expect(end).toMatchObject({ answeredBy: 'machine_end_beep', reason: 'beep' });
    expect(Math.abs(end.beepHz! - 1000)).toBeLessThan(15);
    expect(end.decidedAfterMs).toBeGreaterThanOrEqual(7000);
  });

  it('a voicemail without a beep ends in silence', () => {
    expect(detect(concat(greeting, silence(3)), 'DetectMessageEnd')).toMatchObject({ answeredBy: 'machine_end_silence', reason: 'end_silence' });
  });

  it('silence is unknown; a fax\'s CNG tone is fax', () => {
    expect(detect(silence(10), 'Enable')).toMatchObject({ answeredBy: 'unknown', reason: 'initial_silence', words: 0 });
    const fax = detect(faxCng(), 'DetectMessageEnd');
    expect(fax).toMatchObject({ answeredBy: 'fax', reason: 'fax_tone' });
    expect(Math.abs(fax.toneHz! - 1100)).toBeLessThan(20);
  });

  it('holds under line noise', () => {
    expect(detect(withNoise(concat(silence(0.5), hello, silence(4)), 150, 3), 'Enable').answeredBy).toBe('human');
    expect(detect(withNoise(concat(silence(0.5), greeting, silence(0.3), tone(800, 0.4), silence(3)), 150, 4), 'DetectMessageEnd').answeredBy).toBe('machine_end_beep');
    expect(detect(withNoise(silence(8), 150, 5), 'Enable').answeredBy).toBe('unknown');
  });

  it('the timeout decides when nothing else does', () => {
    expect(detect(silence(10), 'Enable', 2000)).toMatchObject({ answeredBy: 'unknown', reason: 'timeout' });
  });
});
