/**
 * WAV (RIFF) reading for the player and header writing for the recorder.
 * Reads PCM 8/16-bit, mu-law and a-law, mono or multi-channel (mixed down).
 * Chunk sizes larger than the file (a recording cut off before its header
 * was patched) are clamped to what is there.
 */
import { ALAW_DECODE, MULAW_DECODE } from '../codecs/g711.js';

/** Decoded audio: mono int16 at `sampleRate`. */
export interface DecodedAudio {
  pcm: Int16Array;
  sampleRate: number;
}

const FORMAT_PCM = 1;
const FORMAT_ALAW = 6;
const FORMAT_MULAW = 7;
const FORMAT_EXTENSIBLE = 0xfffe;

export function isWav(data: Uint8Array): boolean {
  return data.length >= 12 && ascii(data, 0) === 'RIFF' && ascii(data, 8) === 'WAVE';
}

/** Parse a WAV file into mono int16. Throws on unsupported formats. */
export function decodeWav(data: Uint8Array): DecodedAudio {
  if (!isWav(data)) throw new Error('not a RIFF/WAVE file');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let offset = 12;
  let format = -1;
  let channels = 1;
  let sampleRate = 8000;
  let bits = 16;
  while (offset + 8 <= data.length) {
    const id = ascii(data, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      format = view.getUint16(body, true);
      channels = view.getUint16(body + 2, true);
      sampleRate = view.getUint32(body + 4, true);
      bits = view.getUint16(body + 14, true);
      if (format === FORMAT_EXTENSIBLE && size >= 26) format = view.getUint16(body + 24, true);
    } else if (id === 'data') {
      if (format < 0) throw new Error('WAV data chunk before fmt chunk');
      const end = Math.min(data.length, body + size);
      return { pcm: decodeSamples(data.subarray(body, end), format, bits, channels), sampleRate };
    }
    offset = body + size + (size & 1);
  }
  throw new Error('WAV file has no data chunk');
}

function decodeSamples(bytes: Uint8Array, format: number, bits: number, channels: number): Int16Array {
  const bytesPerSample = bits / 8;
  if (channels < 1) throw new Error('WAV with no channels');
  const frames = Math.floor(bytes.length / (bytesPerSample * channels));
  const out = new Int16Array(frames);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let read: (index: number) => number;
  if (format === FORMAT_PCM && bits === 16) read = (i) => view.getInt16(i * 2, true);
  else if (format === FORMAT_PCM && bits === 8) read = (i) => ((bytes[i] ?? 128) - 128) << 8;
  else if (format === FORMAT_MULAW && bits === 8) read = (i) => MULAW_DECODE[bytes[i] ?? 0xff] ?? 0;
  else if (format === FORMAT_ALAW && bits === 8) read = (i) => ALAW_DECODE[bytes[i] ?? 0xd5] ?? 0;
  else throw new Error(`unsupported WAV format ${format} with ${bits} bits`);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += read(f * channels + c);
    out[f] = Math.round(sum / channels);
  }
  return out;
}

/**
 * A 44-byte PCM WAV header. `dataBytes` defaults to a provisional maximum so
 * a file cut off mid-recording still opens (readers clamp to the file size).
 */
export function wavHeader(sampleRate: number, channels: number, dataBytes = 0xffffffff - 36): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(Math.min(0xffffffff, dataBytes + 36), 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(FORMAT_PCM, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/** A complete PCM WAV file in memory (tests, small prompts). */
export function encodeWav(pcm: Int16Array, sampleRate: number, channels = 1): Buffer {
  const body = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  return Buffer.concat([wavHeader(sampleRate, channels, body.length), body]);
}

function ascii(data: Uint8Array, offset: number): string {
  return String.fromCharCode(data[offset] ?? 0, data[offset + 1] ?? 0, data[offset + 2] ?? 0, data[offset + 3] ?? 0);
}
