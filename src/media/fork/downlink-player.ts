/**
 * Socket → caller: turns what the customer's server sends (binary PCM at the
 * stream's rate, playAudio clips, marks, killAudio) into audio the caller
 * hears, in order.
 *
 * PCM is resampled to 8 kHz into our own `PlayoutQueue`, which hands the
 * endpoint exactly one frame per tick through `inject()` (`offer`, in the
 * receive phase of the tick, so it plays on that same tick) and checks in the
 * send phase that the endpoint really played it (`confirm`). That is how
 * marks know when the audio before them was heard — the endpoint exposes no
 * "played" counter — and why the endpoint's own inject queue never holds
 * more than one frame (so `killAudio` is immediate).
 *
 * "Played" means the endpoint's outbound frame of that tick equals ours
 * sample for sample; when something of higher priority (a prompt, an in-band
 * DTMF tone) was sent instead, the frame is offered again on the next tick,
 * so nothing is lost or repeated. (A frame of pure silence during a silent
 * prompt would count as played — harmless.)
 */
import type { Logger } from '../../shared/log.js';
import { resampleAsync } from '../codecs/resample.js';
import type { MediaEndpoint } from '../endpoint.js';
import { FRAME_SAMPLES } from '../sources/audio-source.js';
import { StreamDownsampler } from './fir-resampler.js';
import { PlayoutQueue, type MarkEvent } from './playout-queue.js';
import { decodePlayAudio, Pcm16Assembler, type ServerCommand, type StreamSampleRate } from './stream-protocol.js';

export type PlayAudioCommand = Extract<ServerCommand, { type: 'playAudio' }>;

type Item = { kind: 'pcm'; pcm: Int16Array } | { kind: 'mark'; name: string } | { kind: 'play'; command: PlayAudioCommand };

/** Options for `DownlinkPlayer`. */
export interface DownlinkPlayerOptions {
  rate: StreamSampleRate;
  /** Default 40 ms. */
  prebufferMs?: number;
  /** Default 30000 ms. */
  maxPlaybackMs?: number;
  logger: Logger;
  onMark: (name: string, event: MarkEvent) => void;
}

export class DownlinkPlayer {
  readonly #endpoint: MediaEndpoint;
  readonly #rate: StreamSampleRate;
  readonly #logger: Logger;
  readonly #onMark: (name: string, event: MarkEvent) => void;
  readonly #queue: PlayoutQueue;
  readonly #downsampler: StreamDownsampler;
  readonly #assembler = new Pcm16Assembler();
  /** The frame handed to `inject()` this tick, kept to verify in the send phase that it was played. */
  readonly #frame = new Int16Array(FRAME_SAMPLES);
  #offered = 0;
  // playAudio clips are decoded off the tick asynchronously; what arrives meanwhile waits here, in order.
  #busy = false;
  #backlog: Item[] = [];
  /** Bumped by kill/stop so a clip still being decoded is discarded when it lands. */
  #generation = 0;

  constructor(endpoint: MediaEndpoint, options: DownlinkPlayerOptions) {
    this.#endpoint = endpoint;
    this.#rate = options.rate;
    this.#logger = options.logger;
    this.#onMark = options.onMark;
    this.#downsampler = new StreamDownsampler((options.rate / 8000) as 1 | 2 | 3);
    this.#queue = new PlayoutQueue({
      capacitySamples: Math.round(((options.maxPlaybackMs ?? 30_000) * 8000) / 1000),
      prebufferSamples: Math.round(((options.prebufferMs ?? 40) * 8000) / 1000),
      onMark: options.onMark,
    });
  }

  /** 8 kHz samples dropped because the queue was full. */
  get overflowed(): number {
    return this.#queue.overflowed;
  }

  /** A binary message: 16-bit LE mono PCM at the stream's rate, any length. */
  binary(bytes: Uint8Array): void {
    const pcm = this.#assembler.push(bytes);
    if (pcm.length === 0) return;
    const out = new Int16Array(this.#downsampler.outputLength(pcm.length));
    const n = this.#downsampler.process(pcm, out);
    this.#enqueue({ kind: 'pcm', pcm: out.subarray(0, n) });
  }

  mark(name: string): void {
    this.#enqueue({ kind: 'mark', name });
  }

  playAudio(command: PlayAudioCommand): void {
    this.#enqueue({ kind: 'play', command });
  }

  /** Barge-in: drop everything not yet played, including clips still decoding; pending marks come back 'cleared'. */
  kill(): void {
    const backlog = this.#reset();
    this.#queue.clear();
    for (const item of backlog) if (item.kind === 'mark') this.#onMark(item.name, 'cleared');
  }

  /** The stream ended: drop everything silently, so nothing leaks into the next action. */
  stop(): void {
    this.#reset();
    this.#queue.clear();
  }

  /** Receive phase of the tick: give the endpoint this tick's frame. Allocates nothing. */
  offer(): void {
    const n = this.#queue.peek(this.#frame);
    this.#offered = n;
    if (n === 0) return;
    this.#endpoint.clearInjected(); // a frame not played last tick (a prompt had priority) is offered again
    this.#endpoint.inject(this.#frame);
  }

  /** Send phase: `sent` is what the caller got this tick; if it is our frame, it has been played. */
  confirm(sent: Int16Array): void {
    if (this.#offered === 0) return;
    if (sameFrame(sent, this.#frame)) this.#queue.commit(this.#offered);
    this.#offered = 0;
  }

  #reset(): Item[] {
    this.#generation++;
    this.#busy = false;
    const backlog = this.#backlog;
    this.#backlog = [];
    this.#endpoint.clearInjected();
    this.#offered = 0;
    return backlog;
  }

  #enqueue(item: Item): void {
    if (this.#busy) this.#backlog.push(item);
    else this.#apply(item);
  }

  #apply(item: Item): void {
    if (item.kind === 'pcm') return this.#queue.push(item.pcm);
    if (item.kind === 'mark') return this.#queue.mark(item.name);
    this.#busy = true;
    const generation = this.#generation;
    void this.#decode(item.command)
      .then((pcm) => {
        if (generation === this.#generation) this.#queue.push(pcm);
      })
      .catch((error: unknown) => this.#logger.warn({ err: error }, 'audio stream: playAudio clip could not be decoded; ignored'))
      .finally(() => {
        if (generation !== this.#generation) return; // kill/stop already reset the backlog
        this.#busy = false;
        while (!this.#busy && this.#backlog.length > 0) {
          const next = this.#backlog.shift();
          if (next) this.#apply(next);
        }
      });
  }

  async #decode(command: PlayAudioCommand): Promise<Int16Array> {
    const { pcm, sampleRate } = decodePlayAudio(command, this.#rate);
    // Sliced (asynchronous) so a long clip cannot stall the media clock of every other call.
    return resampleAsync(pcm, sampleRate, 8000);
  }
}

function sameFrame(a: Int16Array, b: Int16Array): boolean {
  for (let i = 0; i < FRAME_SAMPLES; i++) if (a[i] !== b[i]) return false;
  return true;
}
