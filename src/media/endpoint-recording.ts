/**
 * One `record` call on a leg: which track(s) go into the file, and when to
 * stop (abort, max duration, inbound silence, leg closed). The WAV writing
 * itself is `WavRecorder`.
 */
import type { Logger } from '../shared/log.js';
import { WavRecorder, type RecordingInfo } from './recorder.js';
import { FRAME_SAMPLES } from './sources/audio-source.js';

/** Options for `MediaEndpoint.record`. */
export interface RecordOptions {
  /** File to write (created or truncated). */
  path: string;
  /** 1: mono; 2: stereo with the caller left and the played audio right. Default 1. */
  channels?: 1 | 2;
  /** For mono: 'inbound' (the caller), 'outbound' (what they hear) or 'both' mixed. Default 'both'. */
  track?: 'inbound' | 'outbound' | 'both';
  /** Stop after this long. Default: no limit. */
  maxDurationMs?: number;
  /** Stop after this long of caller silence (Twilio's `timeout`). Default: off. */
  silenceTimeoutMs?: number;
  /** Peak amplitude below which a caller frame counts as silence. Default 500. */
  silenceThreshold?: number;
  signal?: AbortSignal;
}

export interface RecordResult extends RecordingInfo {
  reason: 'stopped' | 'maxDuration' | 'silence' | 'closed';
}

export class EndpointRecording {
  readonly result: Promise<RecordResult>;
  readonly #recorder: WavRecorder;
  readonly #options: RecordOptions;
  readonly #mix = new Int16Array(FRAME_SAMPLES);
  readonly #onDone: () => void;
  #resolve!: (r: RecordResult) => void;
  #reject!: (e: Error) => void;
  #frames = 0;
  #silentFrames = 0;
  #stopped = false;

  private constructor(recorder: WavRecorder, options: RecordOptions, onDone: () => void) {
    this.#recorder = recorder;
    this.#options = options;
    this.#onDone = onDone;
    this.result = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    if (options.signal?.aborted) this.stop('stopped');
    else options.signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  static async start(options: RecordOptions, logger: Logger, onDone: () => void): Promise<EndpointRecording> {
    const recorder = await WavRecorder.open({ path: options.path, channels: options.channels ?? 1, logger });
    return new EndpointRecording(recorder, options, onDone);
  }

  /** Called on the media tick with this tick's frames. */
  write(inbound: Int16Array, outbound: Int16Array): void {
    if (this.#stopped) return;
    const o = this.#options;
    if (o.channels === 2) {
      this.#recorder.write(inbound, outbound);
    } else if (o.track === 'inbound') {
      this.#recorder.write(inbound);
    } else if (o.track === 'outbound') {
      this.#recorder.write(outbound);
    } else {
      for (let i = 0; i < FRAME_SAMPLES; i++) {
        const v = (inbound[i] ?? 0) + (outbound[i] ?? 0);
        this.#mix[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      }
      this.#recorder.write(this.#mix);
    }
    this.#frames++;
    if (o.maxDurationMs !== undefined && this.#frames * 20 >= o.maxDurationMs) {
      this.stop('maxDuration');
      return;
    }
    if (o.silenceTimeoutMs !== undefined) {
      const threshold = o.silenceThreshold ?? 500;
      let peak = 0;
      for (let i = 0; i < FRAME_SAMPLES; i++) {
        const a = Math.abs(inbound[i] ?? 0);
        if (a > peak) peak = a;
      }
      this.#silentFrames = peak < threshold ? this.#silentFrames + 1 : 0;
      if (this.#silentFrames * 20 >= o.silenceTimeoutMs) this.stop('silence');
    }
  }

  /** Stop and finalize the file; the result settles when it is on disk. */
  stop(reason: RecordResult['reason']): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#options.signal?.removeEventListener('abort', this.#onAbort);
    this.#onDone();
    this.#recorder.close().then(
      (info) => this.#resolve({ ...info, reason }),
      (error: unknown) => this.#reject(error as Error),
    );
  }

  readonly #onAbort = (): void => this.stop('stopped');
}
