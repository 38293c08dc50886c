/** A mono 16-bit WAV of `seconds` of a sine at `hz` (0 Hz: silence), for sandbox phones and wait audio. */
export function toneWav(hz: number, seconds: number, amplitude = 8000, sampleRate = 8000): Buffer {
  const n = Math.round(seconds * sampleRate);
  const wav = Buffer.alloc(44 + n * 2);
  wav.write('RIFF', 0);
  wav.writeUInt32LE(36 + n * 2, 4);
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
  wav.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) wav.writeInt16LE(hz === 0 ? 0 : Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / sampleRate)), 44 + i * 2);
  return wav;
}
