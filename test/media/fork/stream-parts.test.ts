import { describe, expect, it } from 'vitest';
import { FrameUpsampler, StreamDownsampler } from '../../../src/media/fork/fir-resampler.js';
import { PlayoutQueue, type MarkEvent } from '../../../src/media/fork/playout-queue.js';
import { buildStreamMetadata, generateMask, parseServerCommand, Pcm16Assembler } from '../../../src/media/fork/stream-protocol.js';
import { UplinkFramer } from '../../../src/media/fork/uplink-framer.js';
import { sine, toneAmplitude } from '../helpers.js';

function upsampleFrames(pcm: Int16Array, factor: 2 | 3): Int16Array {
  const up = new FrameUpsampler(factor, 160);
  const out = new Int16Array(pcm.length * factor);
  for (let f = 0; f < pcm.length / 160; f++) {
    const frame = new Int16Array(160 * factor);
    up.process(pcm.subarray(f * 160, f * 160 + 160), frame);
    out.set(frame, f * 160 * factor);
  }
  return out;
}

describe('frameUpsampler', () => {
  for (const factor of [2, 3] as const) {
    it(`keeps a 1 kHz tone and removes its images across frame boundaries (x${factor})`, () => {
      const rate = 8000 * factor;
      const out = upsampleFrames(sine(1000, 400, 8000), factor).subarray(rate / 20); // skip the filter's start-up
      expect(toneAmplitude(out, 1000, rate)).toBeGreaterThan(7700);
      expect(toneAmplitude(out, 1000, rate)).toBeLessThan(8300);
      expect(toneAmplitude(out, 7000, rate)).toBeLessThan(40);
      if (factor === 3) expect(toneAmplitude(out, 9000, rate)).toBeLessThan(40);
    });
  }

  it('interleaves stereo frames: left the caller, right what the caller hears', () => {
    const framer = new UplinkFramer('both_tracks', 16000);
    expect(framer.frameBytes).toBe(1280);
    const left = new Int16Array(160).fill(1000);
    const right = new Int16Array(160).fill(-1000);
    for (let i = 0; i < 10; i++) {
      expect(framer.inbound(left)).toBe(false);
      expect(framer.outbound(right)).toBe(true);
    }
    expect(framer.frame.readInt16LE(200)).toBe(1000);
    expect(framer.frame.readInt16LE(202)).toBe(-1000);
    const mono = new UplinkFramer('inbound_track', 8000);
    expect(mono.inbound(left)).toBe(true);
    expect(mono.outbound(right)).toBe(false);
    expect(mono.frame.readInt16LE(0)).toBe(1000);
  });
});

describe('streamDownsampler', () => {
  it('gives the same samples whatever the chunking', () => {
    const input = sine(900, 500, 8000, 24000);
    const whole = new StreamDownsampler(3);
    const ref = new Int16Array(whole.outputLength(input.length));
    const n = whole.process(input, ref);
    expect(n).toBe(4000);
    const chunked = new StreamDownsampler(3);
    const parts: number[] = [];
    for (let off = 0, size = 1; off < input.length; off += size, size = (size * 7 + 3) % 997) {
      const chunk = input.subarray(off, off + size);
      const out = new Int16Array(chunked.outputLength(chunk.length));
      parts.push(...out.subarray(0, chunked.process(chunk, out)));
    }
    expect(Int16Array.from(parts)).toEqual(ref.subarray(0, n));
  });

  it('keeps speech-band tones and does not alias the upper band into it', () => {
    const ds = new StreamDownsampler(2);
    const mixed = sine(1000, 400, 4000, 16000).map((v, i) => v + Math.round(4000 * Math.sin((2 * Math.PI * 6000 * i) / 16000)));
    const out = new Int16Array(ds.outputLength(mixed.length));
    const pcm = out.subarray(400, ds.process(mixed, out));
    expect(toneAmplitude(pcm, 1000)).toBeGreaterThan(3800);
    expect(toneAmplitude(pcm, 2000)).toBeLessThan(40); // where 6 kHz would alias
  });
});

describe('playoutQueue', () => {
  function queue(options: { capacitySamples?: number } = {}) {
    const marks: [string, MarkEvent][] = [];
    const q = new PlayoutQueue({ onMark: (name, event) => marks.push([name, event]), ...options });
    return { q, marks, frame: new Int16Array(160) };
  }

  it('holds playback until 40 ms is queued, then plays frame by frame', () => {
    const { q, frame } = queue();
    q.push(new Int16Array(200).fill(7));
    expect(q.peek(frame)).toBe(0);
    q.push(new Int16Array(200).fill(7));
    expect(q.peek(frame)).toBe(160);
    q.commit(160);
    expect(q.peek(frame)).toBe(160);
    q.commit(160);
    expect(q.peek(frame)).toBe(80); // the tail, zero-padded
    expect(frame[79]).toBe(7);
    expect(frame[80]).toBe(0);
  });

  it('flushes a short chunk after three ticks rather than holding it forever', () => {
    const { q, frame } = queue();
    q.push(new Int16Array(100).fill(1));
    expect(q.peek(frame)).toBe(0);
    expect(q.peek(frame)).toBe(0);
    expect(q.peek(frame)).toBe(100);
  });

  it('answers marks by sample position: playout once played, cleared when dropped, at once when nothing is queued', () => {
    const { q, marks, frame } = queue();
    q.mark('first');
    expect(marks).toEqual([['first', 'playout']]);
    q.push(new Int16Array(320));
    q.mark('a');
    q.push(new Int16Array(320));
    q.mark('b');
    q.peek(frame);
    q.commit(160);
    expect(marks).toHaveLength(1);
    q.peek(frame);
    q.commit(160);
    expect(marks.at(-1)).toEqual(['a', 'playout']);
    q.clear();
    expect(marks).toEqual([['first', 'playout'], ['a', 'playout'], ['b', 'cleared']]);
    expect(q.size).toBe(0);
    expect(q.peek(frame)).toBe(0);
  });

  it('drops audio beyond its capacity and counts it', () => {
    const { q } = queue({ capacitySamples: 1000 });
    q.push(new Int16Array(700));
    q.push(new Int16Array(700));
    expect(q.size).toBe(1000);
    expect(q.overflowed).toBe(400);
  });
});

describe('stream protocol', () => {
  it('parses the server commands and says why it ignores the rest', () => {
    expect(parseServerCommand('{"type":"killAudio"}')).toEqual({ type: 'killAudio' });
    expect(parseServerCommand('{"type":"disconnect"}')).toEqual({ type: 'disconnect' });
    expect(parseServerCommand('{"type":"mark","data":{"name":"m1"}}')).toEqual({ type: 'mark', name: 'm1' });
    expect(parseServerCommand('{"type":"playAudio","data":{"audioContent":"AAA=","audioContentType":"raw","sampleRate":16000}}')).toEqual({
      type: 'playAudio',
      content: 'AAA=',
      contentType: 'raw',
      sampleRate: 16000,
    });
    expect(parseServerCommand('{"type":"playAudio","data":{"audioContent":"AAA=","audioContentType":"wave"}}')).toMatchObject({ contentType: 'wav' });
    expect(parseServerCommand('nope')).toBe('not JSON');
    expect(parseServerCommand('null')).toBe('not a JSON object');
    expect(parseServerCommand('{"type":"mark","data":{}}')).toMatch(/data.name/);
    expect(parseServerCommand('{"type":"playAudio","data":{"audioContent":"AA","sampleRate":1}}')).toMatch(/sampleRate/);
    expect(parseServerCommand('{"type":"transcribe"}')).toBe('unknown type "transcribe"');
  });

  it('reassembles samples split across binary messages', () => {
    const a = new Pcm16Assembler();
    // -2 (0xfffe) and 300 (0x012c), little-endian, cut after the first and third byte.
    expect(Array.from(a.push(Uint8Array.of(0xfe)))).toEqual([]);
    expect(Array.from(a.push(Uint8Array.of(0xff, 0x2c)))).toEqual([-2]);
    expect(Array.from(a.push(Uint8Array.of(0x01)))).toEqual([300]);
  });

  it('lets the customer add metadata but not overwrite the platform fields', () => {
    const meta = buildStreamMetadata(
      { callId: 'c1', from: 'a', to: 'b', direction: 'inbound', accountId: 'w' },
      { name: 'n', track: 'outbound_track', sampleRate: 24000 },
      { callId: 'x', lead: '42' },
    );
    expect(meta).toMatchObject({ callId: 'c1', callSid: 'c1', lead: '42', mixType: 'mono', channels: 1, sampleRate: 24000 });
  });

  it('never generates an all-zero frame mask (ws would then queue our reused buffer uncopied)', () => {
    const mask = Buffer.alloc(4);
    const seen = new Set<number>();
    for (let i = 0; i < 5000; i++) {
      mask.fill(0);
      generateMask(mask);
      expect(mask.readUInt32LE(0)).not.toBe(0);
      seen.add(mask.readUInt32LE(0));
    }
    expect(seen.size).toBeGreaterThan(4990); // random, not a constant
  });
});
