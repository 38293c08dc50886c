import { describe, expect, it } from 'vitest';
import { HeardAudio } from '../../src/sandbox/heard-audio.js';

describe('HeardAudio', () => {
  it('keeps frames in order across chunks and answers a WAV of them', () => {
    const heard = new HeardAudio();
    const frame = new Int16Array(160);
    // 12 s of frames: crosses the 10 s chunk boundary.
    for (let i = 0; i < 600; i++) {
      frame.fill(i % 1000);
      heard.append(frame);
    }
    expect(heard.samples).toBe(96_000);
    const wav = heard.toWav();
    expect(wav.subarray(0, 4).toString()).toBe('RIFF');
    expect(wav.readUInt32LE(24)).toBe(8000);
    expect(wav.readUInt32LE(40)).toBe(96_000 * 2);
    const pcm = new Int16Array(wav.buffer.slice(wav.byteOffset + 44, wav.byteOffset + wav.length));
    expect(pcm[0]).toBe(0);
    expect(pcm[499 * 160]).toBe(499);
    expect(pcm[500 * 160 + 5]).toBe(500);
    expect(pcm[599 * 160 + 159]).toBe(599);
  });

  it('stops keeping after 5 minutes', () => {
    const heard = new HeardAudio();
    const frame = new Int16Array(160);
    for (let i = 0; i < 16_000; i++) heard.append(frame);
    expect(heard.samples).toBe(300 * 8000);
  });
});
