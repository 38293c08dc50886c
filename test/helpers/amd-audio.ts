/**
 * Callee audio for answering machine detection tests and the bench,
 * synthesised at test time: speech by the espeak-ng program (resampled to
 * 8 kHz by sox), tones and noise computed here. Nothing is shipped as a
 * recording. All of it is 8 kHz mono int16 PCM.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
export { pcmWav as wavOf } from './wav.js';

const run = promisify(execFile);
const RATE = 8000;

/** `text` spoken by espeak-ng (`voice`, e.g. `en-us+f3`; `wpm` words per minute), at 8 kHz. */
export async function speech(text: string, options: { voice?: string; wpm?: number; pitch?: number } = {}): Promise<Int16Array> {
  const dir = await mkdtemp(join(tmpdir(), 'amd-speech-'));
  try {
    const wav = join(dir, 'speech.wav');
    const raw = join(dir, 'speech.raw');
    await run('espeak-ng', ['-v', options.voice ?? 'en-us', '-s', String(options.wpm ?? 160), '-p', String(options.pitch ?? 50), '-w', wav, text]);
    await run('sox', [wav, '-r', String(RATE), '-c', '1', '-b', '16', '-e', 'signed-integer', '-t', 'raw', raw]);
    const bytes = await readFile(raw);
    // Trim espeak's leading and trailing silence: the scenarios place speech themselves.
    return trimSilence(new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length >> 1).slice());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function trimSilence(pcm: Int16Array): Int16Array {
  let start = 0;
  let end = pcm.length;
  while (start < end && Math.abs(pcm[start] ?? 0) < 200) start++;
  while (end > start && Math.abs(pcm[end - 1] ?? 0) < 200) end--;
  return pcm.subarray(start, end);
}

export const silence = (seconds: number): Int16Array => new Int16Array(Math.round(seconds * RATE));

export function tone(hz: number, seconds: number, amplitude = 8000): Int16Array {
  const out = new Int16Array(Math.round(seconds * RATE));
  for (let i = 0; i < out.length; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / RATE));
  return out;
}

export function concat(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The first `seconds` of `pcm` (a greeting of exactly that length). */
export const first = (pcm: Int16Array, seconds: number): Int16Array => pcm.subarray(0, Math.min(pcm.length, Math.round(seconds * RATE)));

/** `pcm` with white noise of RMS `rms` added (seeded: the same seed gives the same noise). */
export function withNoise(pcm: Int16Array, rms: number, seed = 1): Int16Array {
  const out = new Int16Array(pcm.length);
  let state = seed >>> 0 || 1;
  const uniform = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) + 1) / 4294967297;
  };
  for (let i = 0; i < pcm.length; i++) {
    // Box–Muller: Gaussian noise.
    const g = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    out[i] = Math.max(-32768, Math.min(32767, Math.round((pcm[i] ?? 0) + g * rms)));
  }
  return out;
}

/** Fax calling tone (CNG, ITU-T T.30): 1100 Hz, 0.5 s on, 3 s off, `cycles` times. */
export function faxCng(cycles = 3): Int16Array {
  const parts: Int16Array[] = [];
  for (let i = 0; i < cycles; i++) parts.push(tone(1100, 0.5), silence(3));
  return concat(...parts);
}

/** The greeting text of the voicemail scenarios: continuous speech longer than the greetings cut from it. */
export const voicemailGreeting =
  'Hi, you have reached the voicemail of John Kamau at Sauti Logistics. I am not able to take your call right now, '
  + 'so please leave your name, your number and a short message after the tone, and I will call you back as soon as I can.';
