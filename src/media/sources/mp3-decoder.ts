/**
 * MPEG audio (MP3, also MP1/MP2) decoding with `mpg123-decoder` on a worker
 * thread. The worker mixes down to mono int16 at the file's rate; the caller
 * resamples.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { Logger } from '../../shared/log.js';
import { WorkerHost } from '../worker-host.js';
import type { DecodedAudio } from './wav.js';

const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
let decoderPromise;
function decoder() {
  decoderPromise ??= import(workerData.moduleUrl).then(async (mod) => {
    const d = new mod.MPEGDecoder();
    await d.ready;
    return d;
  });
  return decoderPromise;
}
parentPort.on('message', async (msg) => {
  try {
    const d = await decoder();
    await d.reset();
    const out = d.decode(msg.bytes);
    const channels = out.channelData.length;
    const n = Math.min(out.samplesDecoded, msg.maxSamples);
    if (channels === 0 || n === 0) throw new Error('no MPEG audio frames decoded');
    const pcm = new Int16Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let c = 0; c < channels; c++) s += out.channelData[c][i];
      s = (s / channels) * 32767;
      pcm[i] = s > 32767 ? 32767 : s < -32768 ? -32768 : Math.round(s);
    }
    parentPort.postMessage({ id: msg.id, ok: true, result: { pcm, sampleRate: out.sampleRate } }, [pcm.buffer]);
  } catch (error) {
    parentPort.postMessage({ id: msg.id, ok: false, error: String(error && error.message || error) });
  }
});
`;

interface Mp3Job {
  bytes: Uint8Array;
  maxSamples: number;
}

/** Looks like MPEG audio: an ID3v2 tag or a frame sync word at the start. */
export function isMpegAudio(data: Uint8Array): boolean {
  if (data.length >= 3 && data[0] === 0x49 && data[1] === 0x44 && data[2] === 0x33) return true;
  return data.length >= 2 && data[0] === 0xff && ((data[1] ?? 0) & 0xe0) === 0xe0;
}

export class Mp3Decoder {
  readonly #host: WorkerHost<Mp3Job, DecodedAudio>;

  constructor(logger?: Logger) {
    const moduleUrl = pathToFileURL(createRequire(import.meta.url).resolve('mpg123-decoder')).href;
    this.#host = new WorkerHost('mpg123', WORKER_CODE, { moduleUrl }, logger);
  }

  /** Decode a whole file. `maxSeconds` bounds memory (at 48 kHz). Default 600. */
  decode(bytes: Uint8Array, signal?: AbortSignal, maxSeconds = 600): Promise<DecodedAudio> {
    // Copy so the caller's buffer is not detached by the transfer.
    const copy = bytes.slice();
    return this.#host.request({ bytes: copy, maxSamples: maxSeconds * 48000 }, signal, [copy.buffer]);
  }

  close(): Promise<void> {
    return this.#host.close();
  }
}
