import type { CallMedia } from '../../src/media/call-media.js';
import type { MediaEndpoint } from '../../src/media/endpoint.js';

/** A sine tone at 8 kHz (or `rate`). */
export function sine(freq: number, ms: number, amplitude = 8000, rate = 8000): Int16Array {
  const n = Math.round((ms * rate) / 1000);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freq * i) / rate));
  return out;
}

/** Normalized Goertzel power: about amplitude^2/4 for a pure sine at `freq`. */
export function tonePower(pcm: Int16Array, freq: number, rate = 8000): number {
  const c = 2 * Math.cos((2 * Math.PI * freq) / rate);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < pcm.length; i++) {
    const s0 = pcm[i]! + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - c * s1 * s2) / (pcm.length * pcm.length);
}

/** Estimated amplitude of the `freq` component. */
export function toneAmplitude(pcm: Int16Array, freq: number, rate = 8000): number {
  return 2 * Math.sqrt(tonePower(pcm, freq, rate));
}

export function rms(pcm: Int16Array): number {
  let e = 0;
  for (const s of pcm) e += s * s;
  return pcm.length === 0 ? 0 : Math.sqrt(e / pcm.length);
}

/** Point two legs (in process or on a media worker) at each other over loopback, PCMU unless told. */
export function connect(a: CallMedia, b: CallMedia, codecA: 'PCMU' | 'PCMA' = 'PCMU', codecB = codecA, telephoneEvent: number | null = 101): void {
  a.setRemote({ address: '127.0.0.1', port: b.localDescription().port, payloadType: codecA === 'PCMU' ? 0 : 8, telephoneEvent });
  b.setRemote({ address: '127.0.0.1', port: a.localDescription().port, payloadType: codecB === 'PCMU' ? 0 : 8, telephoneEvent });
}

function peak(frame: Int16Array): number {
  let p = 0;
  for (const s of frame) p = Math.max(p, Math.abs(s));
  return p;
}

/** Collect `ms` of a leg's audio, starting at the first frame with sound in it. */
export function captureInbound(ep: MediaEndpoint, ms: number, track: 'inbound' | 'outbound' = 'inbound'): Promise<Int16Array> {
  const frames = Math.round(ms / 20);
  const out = new Int16Array(frames * 160);
  let n = 0;
  return new Promise((resolve) => {
    const stop = ep.fork(track, (frame, t) => {
      if (t !== track) return;
      if (n === 0 && peak(frame) < 200) return;
      out.set(frame, n * 160);
      if (++n >= frames) {
        stop();
        resolve(out);
      }
    });
  });
}

/** Collect the next `ms` of a leg's audio as it comes, silence included. */
export function captureNext(ep: MediaEndpoint, ms: number, track: 'inbound' | 'outbound' = 'inbound'): Promise<Int16Array> {
  const out = new Int16Array(Math.round(ms / 20) * 160);
  let n = 0;
  return new Promise((resolve) => {
    const stop = ep.fork(track, (frame, t) => {
      if (t !== track) return;
      out.set(frame, n);
      n += frame.length;
      if (n >= out.length) {
        stop();
        resolve(out);
      }
    });
  });
}

export function waitFor<T extends unknown[]>(ep: { once(event: any, fn: (...args: T) => void): unknown }, event: string): Promise<T> {
  return new Promise((resolve) => ep.once(event, (...args: T) => resolve(args)));
}

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
