/** A mono 16-bit PCM WAV file of `pcm` (what sandbox phones and `play` fetch). */
export function pcmWav(pcm: Int16Array, sampleRate = 8000): Buffer {
  const wav = Buffer.alloc(44 + pcm.length * 2);
  wav.write('RIFF', 0);
  wav.writeUInt32LE(36 + pcm.length * 2, 4);
  wav.write('WAVE', 8);
  wav.write('fmt ', 12);
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20);
  wav.writeUInt16LE(1, 22);
  wav.writeUInt32LE(sampleRate, 24);
  wav.writeUInt32LE(sampleRate * 2, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write('data', 36);
  wav.writeUInt32LE(pcm.length * 2, 40);
  for (let i = 0; i < pcm.length; i++) wav.writeInt16LE(pcm[i] ?? 0, 44 + i * 2);
  return wav;
}

/** A mono 16-bit WAV of `seconds` of a sine at `hz` (0 Hz: silence), for sandbox phones and wait audio. */
export function toneWav(hz: number, seconds: number, amplitude = 8000, sampleRate = 8000): Buffer {
  const pcm = new Int16Array(Math.round(seconds * sampleRate));
  for (let i = 0; i < pcm.length; i++) pcm[i] = hz === 0 ? 0 : Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / sampleRate));
  return pcmWav(pcm, sampleRate);
}
