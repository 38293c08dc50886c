/**
 * One `detectMachine` call on a leg: a `MachineDetector` fed the callee's
 * frames from an inbound tap on the media tick, until it decides, the
 * caller aborts, or the leg closes. Runs wherever the leg's media runs (in
 * process, or on its worker thread, whose reply carries the result).
 */
import type { Track } from '../endpoint-types.js';
import { MachineDetector, type MachineDetectionMode, type MachineDetectionResult } from './machine-detector.js';

/** Options for `CallMedia.detectMachine`. */
export interface MachineDetectionOptions {
  mode: MachineDetectionMode;
  /** Longest to listen (SPEC §17 `machine_detection_timeout`, in ms here). */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** What the listener needs of a leg (a `MediaEndpoint`). */
export interface TappableLeg {
  readonly state: 'open' | 'closed';
  fork(track: Track, onFrame: (frame: Int16Array) => void): () => void;
  once(event: 'closed', listener: () => void): unknown;
  off(event: 'closed', listener: () => void): unknown;
}

export function listenForMachine(leg: TappableLeg, options: MachineDetectionOptions): Promise<MachineDetectionResult> {
  const detector = new MachineDetector({ mode: options.mode, timeoutMs: options.timeoutMs });
  if (leg.state !== 'open') return Promise.resolve(detector.stop('closed'));
  if (options.signal?.aborted) return Promise.resolve(detector.stop('aborted'));
  return new Promise((resolve) => {
    let untap = (): void => undefined;
    const finish = (result: MachineDetectionResult): void => {
      untap();
      leg.off('closed', onClosed);
      options.signal?.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const onClosed = (): void => finish(detector.stop('closed'));
    const onAbort = (): void => finish(detector.stop('aborted'));
    untap = leg.fork('inbound', (frame) => {
      if (detector.push(frame)) finish(detector.result!);
    });
    leg.once('closed', onClosed);
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}
