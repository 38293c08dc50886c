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
 *
 * Sent on arrival (SPEC §19): while the stream is all the caller hears, a
 * whole frame goes out the moment it arrives (`endpoint.sendNow`, taking
 * the next tick's place) instead of waiting for the tick and the cushion,
 * so the platform adds what a relay would. The leg's send clock then runs
 * at the stream's phase: a tick with nothing queued sends no packet
 * (`holdSend`) — the stream's next frame is expected any moment — for up
 * to three ticks; after that the talk-spurt is over and the tick sends
 * silence again (and the next frame starts a new talk-spurt, marker bit
 * set). Up to two packets go as audio arrives between two ticks (one that
 * came early beside the one before it, or a waiting frame beside the new
 * one), so a backlog left by bunched arrivals or a stall drains with the
 * next arrivals instead of delaying the rest of the talk-spurt; a tick that
 * no packet sent ahead stands in for sends one if audio waits, so a burst
 * (a TTS clip) plays at real time. The sender's jitter
 * reaches the caller's jitter buffer as it would through a relay; a sender
 * a few percent slow or fast gets no silent packets. With a prompt, a tone,
 * a bridge or a conference on the leg `sendNow` refuses and frames go on
 * the tick, with the adaptive cushion, as before.
 *
 * Binary audio comes at its own rate (`bidirectionalAudio.sampleRate`, an
 * integer multiple of 8 kHz) and is decoded and resampled into scratch
 * buffers reused for every message, so a real-time sender costs no
 * allocation on our side. `playAudio` interrupts what is queued unless
 * `queuePlay` is true, and answers `playDone` once the clip has played.
 */
import type { Logger } from '../../shared/log.js';
import { resampleAsync } from '../codecs/resample.js';
import type { MediaEndpoint } from '../endpoint.js';
import { FRAME_SAMPLES } from '../sources/audio-source.js';
import { StreamDownsampler } from './fir-resampler.js';
import { PlayoutQueue, type MarkEvent } from './playout-queue.js';
import { decodePlayAudio, Pcm16Assembler, type ServerCommand, type StreamReturnRate, type StreamSampleRate } from './stream-protocol.js';

export type PlayAudioCommand = Extract<ServerCommand, { type: 'playAudio' }>;

/** Ticks a direct stream may go without a frame before its talk-spurt counts as over (60 ms). */
const HOLD_TICKS = 3;
/** Most packets sent on arrival between two ticks: one that came early beside the one before it, or a backlog draining. */
const MAX_PER_TICK = 2;

type Item = { kind: 'pcm'; pcm: Int16Array } | { kind: 'mark'; name: string } | { kind: 'clearMarks' } | { kind: 'play'; command: PlayAudioCommand };

/** What the server may send back (jambonz `bidirectionalAudio`). */
export interface ReturnAudio {
  /** False: nothing from the server is played (binary frames and playAudio are ignored). */
  enabled: boolean;
  /** False: binary frames are ignored, only playAudio clips play. */
  streaming: boolean;
  /** Rate of the binary frames. */
  sampleRate: StreamReturnRate;
}

/** Options for `DownlinkPlayer`. */
export interface DownlinkPlayerOptions {
  /** The stream's rate: playAudio's raw clips default to it. */
  rate: StreamSampleRate;
  /** Default: enabled, streaming, at `rate`. */
  returnAudio?: ReturnAudio;
  /** The smallest playout cushion (it adapts upward with the sender's jitter). Default 20 ms. */
  prebufferMs?: number;
  /** Default 30000 ms. */
  maxPlaybackMs?: number;
  logger: Logger;
  onMark: (name: string, event: MarkEvent) => void;
  onPlayDone: (id: string | undefined) => void;
}


export class DownlinkPlayer {
  readonly #endpoint: MediaEndpoint;
  readonly #rate: StreamSampleRate;
  readonly #logger: Logger;
  readonly #onMark: (name: string, event: MarkEvent) => void;
  readonly #queue: PlayoutQueue;
  readonly #downsampler: StreamDownsampler;
  readonly #assembler = new Pcm16Assembler();
  readonly #returnAudio: ReturnAudio;
  /** Resampled binary audio, reused for every message (grown if a larger one comes). */
  #down = new Int16Array(960);
  #ignoredLogged = false;
  /** The frame handed to `inject()` this tick, kept to verify in the send phase that it was played. */
  readonly #frame = new Int16Array(FRAME_SAMPLES);
  #offered = 0;
  /** Ticks held (no packet) since the last frame went out on arrival. */
  #held = 0;
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
    this.#returnAudio = options.returnAudio ?? { enabled: true, streaming: true, sampleRate: options.rate };
    this.#downsampler = new StreamDownsampler(this.#returnAudio.sampleRate / 8000);
    this.#queue = new PlayoutQueue({
      capacitySamples: Math.round(((options.maxPlaybackMs ?? 30_000) * 8000) / 1000),
      minCushionSamples: Math.round(((options.prebufferMs ?? 20) * 8000) / 1000),
      onMark: options.onMark,
      onPlayDone: options.onPlayDone,
    });
  }

  /** The current playout cushion in ms. */
  get cushionMs(): number {
    return this.#queue.cushion / 8;
  }

  /** 8 kHz samples dropped as stale delay after stalls. */
  get trimmed(): number {
    return this.#queue.trimmed;
  }

  /** 8 kHz samples dropped because the queue was full. */
  get overflowed(): number {
    return this.#queue.overflowed;
  }

  /** A binary message: 16-bit LE mono PCM at the return rate, any length. */
  binary(bytes: Uint8Array): void {
    if (!this.#returnAudio.enabled || !this.#returnAudio.streaming) return this.#ignored('binary audio');
    const pcm = this.#assembler.push(bytes);
    if (pcm.length === 0) return;
    const length = this.#downsampler.outputLength(pcm.length);
    if (length > this.#down.length) this.#down = new Int16Array(length * 2);
    const n = this.#downsampler.process(pcm, this.#down);
    const out = this.#down.subarray(0, n);
    // Straight into the ring; only while a clip decodes does it wait in the backlog (as a copy).
    if (this.#busy) this.#backlog.push({ kind: 'pcm', pcm: out.slice() });
    else {
      this.#queue.push(out);
      this.#sendArrived();
    }
  }

  /** Off the tick: send what arrived now, while the stream is all the caller hears. Allocates nothing. */
  #sendArrived(): void {
    while (this.#endpoint.sentSinceTick < MAX_PER_TICK && this.#queue.frameNow(this.#frame)) {
      if (!this.#endpoint.sendNow(this.#frame)) {
        this.#queue.leaveDirect();
        return;
      }
      this.#queue.commitNow();
      this.#held = 0;
    }
  }

  mark(name: string): void {
    this.#enqueue({ kind: 'mark', name });
  }

  /** jambonz `clearMarks`: every mark sent so far is answered 'cleared'; the audio plays on. */
  clearMarks(): void {
    this.#enqueue({ kind: 'clearMarks' });
  }

  /** A clip: interrupts what is queued unless `queuePlay`; `playDone` follows once it has played. */
  playAudio(command: PlayAudioCommand): void {
    if (!this.#returnAudio.enabled) return this.#ignored('playAudio');
    if (!command.queuePlay) this.kill();
    this.#enqueue({ kind: 'play', command });
  }

  #ignored(what: string): void {
    if (this.#ignoredLogged) return;
    this.#ignoredLogged = true;
    this.#logger.info({ returnAudio: this.#returnAudio }, `audio stream: ${what} from the server ignored (bidirectionalAudio)`);
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
    this.#offered = 0;
    if (this.#queue.direct) {
      if (this.#endpoint.sentAhead > 0) {
        // This tick's packet already went, on arrival.
        this.#held = 0;
        this.#queue.idleTick();
        return;
      }
      if (this.#queue.frameNow(this.#frame)) {
        // Audio waits and nothing stands in for this tick (a burst): one frame, at real time.
        if (this.#endpoint.sendNow(this.#frame)) {
          this.#queue.commitNow();
          this.#queue.idleTick();
          this.#held = 0;
          return;
        }
        this.#queue.leaveDirect();
      } else if (this.#queue.size < FRAME_SAMPLES) {
        if (this.#held < HOLD_TICKS) {
          this.#held++;
          this.#queue.idleTick();
          this.#endpoint.holdSend();
          return;
        }
        this.#queue.leaveDirect(); // the talk-spurt is over: the tick plays again (silence, or a short last piece)
      }
    }
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
    if (item.kind === 'pcm') {
      this.#queue.push(item.pcm);
      return this.#sendArrived();
    }
    if (item.kind === 'mark') return this.#queue.mark(item.name);
    if (item.kind === 'clearMarks') return this.#queue.clearMarks();
    this.#busy = true;
    const generation = this.#generation;
    const { id } = item.command;
    void this.#decode(item.command)
      .then((pcm) => {
        if (generation !== this.#generation) return;
        this.#queue.push(pcm);
        this.#queue.done(id);
        this.#sendArrived();
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
