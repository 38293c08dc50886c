import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WavRecorder } from '../../src/media/recorder.js';
import { decodeWav } from '../../src/media/sources/wav.js';
import { delay, sine, toneAmplitude } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sautikit-rec-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('wavRecorder', () => {
  it('writes a valid mono WAV with the header patched at close', async () => {
    const file = path.join(dir, 'mono.wav');
    const rec = await WavRecorder.open({ path: file, chunkMs: 100 });
    const tone = sine(800, 1000);
    for (let i = 0; i < 50; i++) rec.write(tone.subarray(i * 160, (i + 1) * 160));
    const info = await rec.close();
    expect(info).toMatchObject({ durationMs: 1000, bytes: 44 + 16000, channels: 1, sampleRate: 8000 });
    const bytes = await readFile(file);
    expect(bytes.readUInt32LE(4)).toBe(bytes.length - 8);
    expect(bytes.readUInt32LE(40)).toBe(16000);
    const wav = decodeWav(bytes);
    expect(Array.from(wav.pcm)).toEqual(Array.from(tone));
  });

  it('interleaves stereo frames', async () => {
    const file = path.join(dir, 'stereo.wav');
    const rec = await WavRecorder.open({ path: file, channels: 2 });
    rec.write(Int16Array.of(1, 2, 3), Int16Array.of(-1, -2, -3));
    await rec.close();
    const bytes = await readFile(file);
    expect(bytes.readUInt16LE(22)).toBe(2);
    expect([0, 1, 2, 3, 4, 5].map((i) => bytes.readInt16LE(44 + 2 * i))).toEqual([1, -1, 2, -2, 3, -3]);
  });

  it('leaves a readable file while still recording (provisional header)', async () => {
    const file = path.join(dir, 'partial.wav');
    const rec = await WavRecorder.open({ path: file, chunkMs: 100 });
    const tone = sine(800, 600);
    for (let i = 0; i < 30; i++) rec.write(tone.subarray(i * 160, (i + 1) * 160));
    // The tick never waits for the disk; give the background writes a moment.
    for (let i = 0; i < 50 && (await stat(file)).size < 44 + 8000; i++) await delay(10);
    const wav = decodeWav(await readFile(file));
    expect(wav.pcm.length).toBeGreaterThanOrEqual(4800 - 800);
    expect(toneAmplitude(wav.pcm.subarray(0, 3200), 800)).toBeGreaterThan(7000);
    await rec.close();
  });

  it('close is idempotent and ignores frames after close', async () => {
    const rec = await WavRecorder.open({ path: path.join(dir, 'twice.wav') });
    rec.write(new Int16Array(160));
    const [a, b] = await Promise.all([rec.close(), rec.close()]);
    expect(a).toEqual(b);
    rec.write(new Int16Array(160));
    expect((await stat(path.join(dir, 'twice.wav'))).size).toBe(44 + 320);
  });

  it('rejects when the file cannot be created', async () => {
    await expect(WavRecorder.open({ path: path.join(dir, 'no', 'such', 'dir.wav') })).rejects.toThrow();
  });
});
