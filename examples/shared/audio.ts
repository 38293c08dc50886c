/**
 * Generated audio, so the examples need no media files: 16-bit little-endian
 * mono PCM (what Sautikit streams carry) and WAV files (what `waitUrl` and
 * `play` fetch).
 */

/** Tones one after another: `[frequency Hz (0 = silence), seconds]`, with soft edges so they do not click. */
export function tonePcm(notes: ReadonlyArray<readonly [number, number]>, sampleRate: number, amplitude = 6000): Buffer {
  const total = notes.reduce((n, [, seconds]) => n + Math.round(seconds * sampleRate), 0);
  const pcm = Buffer.alloc(total * 2);
  let offset = 0;
  for (const [frequency, seconds] of notes) {
    const samples = Math.round(seconds * sampleRate);
    const ramp = Math.min(samples / 2, sampleRate * 0.01);
    for (let i = 0; i < samples; i++) {
      const envelope = Math.min(1, i / ramp, (samples - 1 - i) / ramp);
      const value = frequency === 0 ? 0 : amplitude * envelope * Math.sin((2 * Math.PI * frequency * i) / sampleRate);
      pcm.writeInt16LE(Math.round(value), (offset + i) * 2);
    }
    offset += samples;
  }
  return pcm;
}

/**
 * Something that sounds like speech to an energy detector: a voiced tone with
 * a syllable-rate (4 Hz) envelope, for `seconds`. Stands in for an LLM's voice.
 */
export function speechLikePcm(seconds: number, sampleRate: number): Buffer {
  const samples = Math.round(seconds * sampleRate);
  const pcm = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) {
    const t = i / sampleRate;
    const syllable = 0.55 + 0.45 * Math.sin(2 * Math.PI * 4 * t);
    const voice = Math.sin(2 * Math.PI * 180 * t) + 0.5 * Math.sin(2 * Math.PI * 360 * t) + 0.25 * Math.sin(2 * Math.PI * 540 * t);
    pcm.writeInt16LE(Math.round(4000 * syllable * voice), i * 2);
  }
  return pcm;
}

/** Wraps mono 16-bit PCM in a WAV (RIFF) header. */
export function wavFile(pcm: Buffer, sampleRate: number): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + pcm.length, 4);
  header.write('WAVE', 8);
  header.write('fmt ', 12);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([header, pcm]);
}

let holdMusic: Buffer | undefined;

/** A soft four-note loop as an 8 kHz WAV: a `waitUrl` without shipping a file. */
export function holdMusicWav(): Buffer {
  holdMusic ??= wavFile(tonePcm([[523, 0.4], [659, 0.4], [784, 0.4], [659, 0.4], [0, 0.2]], 8000, 3000), 8000);
  return holdMusic;
}
