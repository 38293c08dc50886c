/**
 * Streaming WAV recorder (8 kHz 16-bit, mono or stereo). The media tick
 * calls `write` with each 20 ms frame; samples are copied into preallocated
 * chunks and full chunks are written to disk asynchronously, so the tick
 * never waits on I/O. The header goes out first with a provisional (huge)
 * data size, so a file cut off by a crash is still readable, and is patched
 * with the real sizes by `close`, which is idempotent and safe in any state.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { Logger } from '../shared/log.js';
import { silentLogger } from '../shared/log.js';
import { wavHeader } from './sources/wav.js';

/** Options for `WavRecorder.open`. */
export interface RecorderOptions {
  path: string;
  /** 1 = mono, 2 = stereo (left and right frames). Default 1. */
  channels?: 1 | 2;
  /** Default 8000. */
  sampleRate?: number;
  /** Audio buffered before each disk write. Default 1000 ms. */
  chunkMs?: number;
  logger?: Logger;
}

/** What a finished recording holds. */
export interface RecordingInfo {
  path: string;
  channels: 1 | 2;
  sampleRate: number;
  /** Audio length in ms. */
  durationMs: number;
  /** Bytes of the whole file. */
  bytes: number;
}

const HEADER_BYTES = 44;

export class WavRecorder {
  readonly path: string;
  readonly channels: 1 | 2;
  readonly sampleRate: number;
  readonly #file: FileHandle;
  readonly #logger: Logger;
  readonly #chunkBytes: number;
  readonly #free: Buffer[] = [];
  #chunk: Buffer;
  #chunkUsed = 0;
  #position = HEADER_BYTES;
  #dataBytes = 0;
  #writes: Promise<void> = Promise.resolve();
  #error: Error | undefined;
  #closing: Promise<RecordingInfo> | undefined;

  private constructor(file: FileHandle, options: RecorderOptions) {
    this.#file = file;
    this.path = options.path;
    this.channels = options.channels ?? 1;
    this.sampleRate = options.sampleRate ?? 8000;
    this.#logger = options.logger ?? silentLogger;
    const frameBytes = 2 * this.channels * (this.sampleRate / 50);
    this.#chunkBytes = Math.max(1, Math.round((options.chunkMs ?? 1000) / 20)) * frameBytes;
    this.#chunk = Buffer.alloc(this.#chunkBytes);
    this.#free.push(Buffer.alloc(this.#chunkBytes));
  }

  /** Create the file and write the provisional header. */
  static async open(options: RecorderOptions): Promise<WavRecorder> {
    const file = await open(options.path, 'w');
    try {
      await file.write(wavHeader(options.sampleRate ?? 8000, options.channels ?? 1), 0, HEADER_BYTES, 0);
    } catch (error) {
      await file.close();
      throw error;
    }
    return new WavRecorder(file, options);
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Audio written so far, ms. */
  get durationMs(): number {
    return Math.round(((this.#dataBytes + this.#chunkUsed) / (2 * this.channels * this.sampleRate)) * 1000);
  }

  /** Append one frame (and, for stereo, the right channel's frame). Never waits; no-op after close. */
  write(left: Int16Array, right?: Int16Array): void {
    if (this.#closing || this.#error) return;
    const n = left.length;
    for (let i = 0; i < n; i++) {
      if (this.#chunkUsed + 2 * this.channels > this.#chunkBytes) this.#flush();
      this.#chunk.writeInt16LE(left[i] ?? 0, this.#chunkUsed);
      this.#chunkUsed += 2;
      if (this.channels === 2) {
        this.#chunk.writeInt16LE(right?.[i] ?? 0, this.#chunkUsed);
        this.#chunkUsed += 2;
      }
    }
  }

  /** Flush, patch the header with the real sizes and close the file. Idempotent. */
  close(): Promise<RecordingInfo> {
    this.#closing ??= this.#finish();
    return this.#closing;
  }

  #flush(): void {
    if (this.#chunkUsed === 0) return;
    const chunk = this.#chunk;
    const length = this.#chunkUsed;
    const position = this.#position;
    this.#position += length;
    this.#dataBytes += length;
    // Two chunks normally suffice; a slow disk costs one extra allocation, never a wait.
    this.#chunk = this.#free.pop() ?? Buffer.alloc(this.#chunkBytes);
    this.#chunkUsed = 0;
    this.#writes = this.#writes.then(async () => {
      if (this.#error) return;
      try {
        await this.#file.write(chunk, 0, length, position);
      } catch (error) {
        this.#error = error as Error;
        this.#logger.error({ err: error, path: this.path }, 'recording write failed');
      } finally {
        this.#free.push(chunk);
      }
    });
  }

  async #finish(): Promise<RecordingInfo> {
    this.#flush();
    await this.#writes;
    try {
      if (!this.#error) await this.#file.write(wavHeader(this.sampleRate, this.channels, this.#dataBytes), 0, HEADER_BYTES, 0);
    } catch (error) {
      this.#error ??= error as Error;
    } finally {
      await this.#file.close().catch(() => undefined);
    }
    if (this.#error) throw this.#error;
    return {
      path: this.path,
      channels: this.channels,
      sampleRate: this.sampleRate,
      durationMs: Math.round((this.#dataBytes / (2 * this.channels * this.sampleRate)) * 1000),
      bytes: HEADER_BYTES + this.#dataBytes,
    };
  }
}
