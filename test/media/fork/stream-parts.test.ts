import { describe, expect, it } from 'vitest';
import { FrameUpsampler, StreamDownsampler } from '../../../src/media/fork/fir-resampler.js';
import { PlayoutQueue, type MarkEvent } from '../../../src/media/fork/playout-queue.js';
import { ArrivalReorder } from '../../../src/media/fork/arrival-reorder.js';
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

  it('starts playing at once with 20 ms queued, then plays frame by frame', () => {
    const { q, frame } = queue();
    q.push(new Int16Array(100).fill(7));
    expect(q.peek(frame)).toBe(0);
    q.push(new Int16Array(300).fill(7));
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

  it('answers playDone once the clip before it has played; clearMarks clears marks but not the audio or playDone', () => {
    const done: (string | undefined)[] = [];
    const marks: [string, MarkEvent][] = [];
    const q = new PlayoutQueue({ onMark: (name, event) => marks.push([name, event]), onPlayDone: (id) => done.push(id) });
    const frame = new Int16Array(160);
    q.done('empty');
    expect(done).toEqual(['empty']);
    q.push(new Int16Array(320).fill(3));
    q.mark('m1');
    q.done('clip');
    q.mark('m2');
    q.clearMarks();
    expect(marks).toEqual([['m1', 'cleared'], ['m2', 'cleared']]);
    expect(q.size).toBe(320);
    q.commit(q.peek(frame));
    expect(done).toEqual(['empty']);
    q.commit(q.peek(frame));
    expect(done).toEqual(['empty', 'clip']);
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
      id: undefined,
      queuePlay: false,
    });
    expect(parseServerCommand('{"type":"playAudio","data":{"audioContent":"AAA=","audioContentType":"wave"}}')).toMatchObject({ contentType: 'wav' });
    expect(parseServerCommand('{"type":"playAudio","data":{"audioContent":"AAA=","id":"greeting","queuePlay":true}}')).toMatchObject({ id: 'greeting', queuePlay: true });
    expect(parseServerCommand('{"type":"playAudio","data":{"audioContent":"AAA=","id":7}}')).toMatch(/id must be a string/);
    expect(parseServerCommand('{"type":"playAudio","data":{"audioContent":"AAA=","queuePlay":"yes"}}')).toMatch(/queuePlay/);
    expect(parseServerCommand('{"type":"clearMarks"}')).toEqual({ type: 'clearMarks' });
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

/**
 * The adaptive cushion, driven by a simulated clock: `ms` per sender
 * interval against 20 ms ticks, with no real time involved. Each step is
 * one millisecond; the queue is asked for a frame every 20 steps.
 */
describe('playoutQueue: adaptive cushion', () => {
  interface Sim {
    q: PlayoutQueue;
    /** Ticks after `settledMs`, while the sender was sending, that played less than a full frame. */
    gaps: number;
    /** Depth after each tick that ran, by the millisecond it ran at. */
    depth: Map<number, number>;
  }

  function simulate(opts: {
    seconds: number;
    sendEveryMs: number;
    chunk?: number;
    /** Each send is late by up to this much (a fixed pseudo-random sequence), order kept. */
    jitterMs?: number;
    stallAtMs?: number;
    stallMs?: number;
    /** The platform stalls (ticks skipped); otherwise the sender does. */
    platformStall?: boolean;
    /** A stalled sender sends what it owes when it resumes. */
    catchUp?: boolean;
    /** Gaps are counted from here on. Default 1000 ms. */
    settledMs?: number;
  }): Sim {
    const q = new PlayoutQueue({ onMark: () => {} });
    const frame = new Int16Array(160);
    const chunk = new Int16Array(opts.chunk ?? 160).fill(1000);
    const sim: Sim = { q, gaps: 0, depth: new Map() };
    let seed = 12345;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    let nominal = 0;
    let nextSend = 0;
    let owed = 0;
    const end = opts.seconds * 1000;
    const stallFrom = opts.stallAtMs ?? Infinity;
    const stallTo = stallFrom + (opts.stallMs ?? 0);
    for (let t = 0; t < end; t++) {
      const inStall = t >= stallFrom && t < stallTo;
      if (t >= nextSend) {
        nominal += opts.sendEveryMs;
        nextSend = Math.max(nextSend, nominal + (opts.jitterMs ?? 0) * random());
        if (inStall && !opts.platformStall) owed++;
        else {
          q.push(chunk);
          if (opts.catchUp) for (; owed > 0; owed--) q.push(chunk);
          else owed = 0;
        }
      }
      if (t % 20 === 19) {
        if (inStall && opts.platformStall) continue; // the media clock skips this tick
        const n = q.peek(frame);
        // A gap: nothing to play, or a frame padded with silence (a stretched frame is full).
        if (t > (opts.settledMs ?? 1000) && (n === 0 || frame[159] === 0) && !inStall && t < end - 100) sim.gaps++;
        q.commit(n);
        sim.depth.set(t, q.size);
      }
    }
    return sim;
  }

  const maxDepth = (sim: Sim, from: number, to: number): number => Math.max(...[...sim.depth].filter(([t]) => t >= from && t < to).map(([, d]) => d));

  it('gives a real-time sender whose timer runs 3 % slow no gaps once settled', () => {
    // It learns the sender's pace in the first 1.5 s (two gaps there, each growing the cushion 10 ms).
    const sim = simulate({ seconds: 60, sendEveryMs: 20.6, settledMs: 2000 });
    expect(sim.gaps).toBe(0);
    expect(sim.q.cushion).toBeLessThanOrEqual(320);
  });

  it('keeps a sender 3 % fast from piling up delay', () => {
    const sim = simulate({ seconds: 60, sendEveryMs: 19.4 });
    expect(maxDepth(sim, 50_000, 60_000)).toBeLessThanOrEqual(sim.q.cushion + 320);
    expect(sim.q.trimmed).toBe(0);
  });

  it('grows the cushion with the sender\'s jitter, then plays on without gaps', () => {
    const sim = simulate({ seconds: 30, sendEveryMs: 20, jitterMs: 35, settledMs: 10_000 });
    expect(sim.q.cushion).toBeGreaterThan(160);
    expect(sim.gaps).toBe(0);
  });

  it('after a 200 ms platform stall, drops the stale delay within 2 s', () => {
    const sim = simulate({ seconds: 10, sendEveryMs: 20, stallAtMs: 5000, stallMs: 200, platformStall: true });
    const before = maxDepth(sim, 4000, 5000);
    expect(maxDepth(sim, 5200, 5300)).toBeGreaterThanOrEqual(before + 1400);
    expect(maxDepth(sim, 7200, 10_000)).toBeLessThanOrEqual(before + 160);
    expect(sim.q.trimmed).toBeGreaterThan(500); // the rest went by the speed adjustment
  });

  it('after a sender that stalls 200 ms and then catches up, drops the stale delay within 2 s', () => {
    const sim = simulate({ seconds: 10, sendEveryMs: 20, stallAtMs: 5000, stallMs: 200, catchUp: true });
    const before = maxDepth(sim, 4000, 5000);
    expect(maxDepth(sim, 5200, 5300)).toBeGreaterThanOrEqual(before + 1400);
    expect(maxDepth(sim, 7200, 10_000)).toBeLessThanOrEqual(before + 160);
  });

  it('a sender that stalls without catching up gets its old delay back, not a bigger cushion', () => {
    const sim = simulate({ seconds: 10, sendEveryMs: 20, stallAtMs: 5000, stallMs: 200 });
    expect(maxDepth(sim, 5400, 10_000)).toBeLessThanOrEqual(maxDepth(sim, 4000, 5000));
    expect(sim.q.cushion).toBe(160);
  });

  it('never drops or speeds up audio a sender queues ahead on purpose (a TTS burst)', () => {
    const q = new PlayoutQueue({ onMark: () => {} });
    const frame = new Int16Array(160);
    q.push(new Int16Array(24_000).fill(5)); // 3 s at once
    let played = 0;
    for (let tick = 0; tick < 200; tick++) {
      const n = q.peek(frame);
      if (n > 0) expect(n).toBe(160);
      played += n;
      q.commit(n);
    }
    expect(played).toBe(24_000);
    expect(q.trimmed).toBe(0);
  });
});

describe('arrivalReorder (caller → socket on arrival)', () => {
  function reorder() {
    const frames: number[] = []; // the first sample of each frame: the packet's number, 0 for silence
    const r = new ArrivalReorder((frame) => frames.push(frame[0]!));
    const packet = (seq: number, now: number): void => r.packet(new Int16Array(160).fill(seq), 160, seq, now);
    return { r, frames, packet };
  }

  it('sends in-order packets at once, and holds those behind a hole until it is filled', () => {
    const { frames, packet } = reorder();
    packet(1, 0);
    packet(2, 20);
    expect(frames).toEqual([1, 2]);
    packet(4, 40);
    packet(5, 60);
    expect(frames).toEqual([1, 2]);
    packet(3, 61);
    expect(frames).toEqual([1, 2, 3, 4, 5]);
  });

  it('gives up on a hole after holdMs (silence in its place), and waits longer after a packet came too late', () => {
    const { r, frames, packet } = reorder();
    packet(10, 0);
    packet(12, 40);
    r.tick(50);
    expect(frames).toEqual([10]);
    r.tick(60); // 20 ms after the hole opened
    expect(frames).toEqual([10, 0, 12]);
    expect(r.concealed).toBe(1);
    packet(11, 70); // too late: dropped, and the next hole is waited for longer
    expect(frames).toEqual([10, 0, 12]);
    expect([r.late, r.holdMs]).toEqual([1, 30]);
  });

  it('sends silence every 20 ms while the caller sends nothing, and restarts on a sequence jump', () => {
    const { r, frames, packet } = reorder();
    packet(100, 0);
    r.tick(40);
    expect(frames).toEqual([100]);
    r.tick(60);
    r.tick(80);
    expect(frames).toEqual([100, 0, 0]);
    packet(5000, 90);
    packet(5001, 110);
    expect(frames).toEqual([100, 0, 0, 5000, 5001]);
  });

  it('cuts 10 ms and 30 ms packets into 20 ms frames', () => {
    const out: Int16Array[] = [];
    const r = new ArrivalReorder((frame) => out.push(frame.slice()));
    r.packet(new Int16Array(80).fill(1), 80, 1, 0);
    expect(out).toHaveLength(0);
    r.packet(new Int16Array(80).fill(2), 80, 2, 10);
    r.packet(new Int16Array(240).fill(3), 240, 3, 20);
    expect(out).toHaveLength(2);
    expect([out[0]![79], out[0]![80], out[1]![0], out[1]![159]]).toEqual([1, 2, 3, 3]);
  });
});
