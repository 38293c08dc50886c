/**
 * `MediaEndpoint`: the media side of one call leg, and the only object the
 * call engine drives. It owns one RTP session (and its port pair) and runs on
 * the engine's 20 ms clock:
 *
 *  receive phase: pull one frame from the jitter buffer, decode it (or
 *                 conceal a loss), run in-band DTMF detection, feed taps.
 *  send phase:    pick what the caller hears (DTMF tones > played source >
 *                 injected PCM > bridge/conference feed > silence), feed
 *                 taps and recorders, encode and send (or send RFC 4733
 *                 event packets while a digit is being sent).
 *  off the tick:  `sendNow` lets an audio stream send its frame as it
 *                 arrives when the stream is all the caller hears; that
 *                 packet stands in for the next tick's (see there).
 *
 * All per-frame buffers are allocated once here. Everything asynchronous
 * (synthesis, fetching, decoding, disk) happens outside the tick.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../shared/log.js';
import { TypedEmitter } from '../shared/typed-emitter.js';
import { Bridge } from './bridge.js';
import { codecByName, PCMU, type Codec } from './codecs/codec.js';
import { localOffer } from './codecs/negotiate.js';
import type { DtmfEvent } from './dtmf/digits.js';
import { InbandDtmfDetector } from './dtmf/inband-detector.js';
import { Rfc4733Receiver, Rfc4733Sender } from './dtmf/rfc4733.js';
import { DigitCollector, type CollectDigitsOptions, type CollectDigitsResult } from './endpoint-digits.js';
import { EndpointRecording, type RecordOptions, type RecordResult } from './endpoint-recording.js';
import { listenForMachine, type MachineDetectionOptions } from './amd/machine-listener.js';
import type { MachineDetectionResult } from './amd/machine-detector.js';
import type { EndpointContext, EndpointState, EndpointStats, LocalMedia, MediaEndpointEvents, PlayResult, PlayUrlOptions, RemoteMedia, Track } from './endpoint-types.js';
import { InboundFramer } from './rtp/inbound-framer.js';
import { RTP_HEADER_SIZE } from './rtp/rtp-packet.js';
import { RtpSession } from './rtp/rtp-session.js';
import { copyPayload, FRAME_SAMPLES, PcmSource, type AudioSource } from './sources/audio-source.js';
import { PcmQueue } from './sources/pcm-queue.js';
import { IncrementalSource, splitSentences } from './sources/speech-source.js';
import { dtmfTones, tone, type ToneName } from './sources/tones.js';
import { FeedSlot } from './feed-slot.js';
import { MediaEndpointClosedError } from './media-errors.js';

export type { CollectDigitsOptions, CollectDigitsResult, RecordOptions, RecordResult };
export type { EndpointContext, EndpointState, EndpointStats, LocalMedia, MediaEndpointEvents, PlayResult, PlayUrlOptions, RemoteMedia, Track } from './endpoint-types.js';

/** Peak (int16) below which a frame counts as quiet: the recorder's silence threshold. */
const QUIET_PEAK = 500;

interface Playback {
  source: AudioSource;
  finish: (result: PlayResult) => void;
}

type TapFn = (frame: Int16Array, track: 'inbound' | 'outbound') => void;

export class MediaEndpoint extends TypedEmitter<MediaEndpointEvents> {
  readonly id: string;
  readonly session: RtpSession;
  /** The caller's audio of the current tick (decoded, concealed or silence). Read-only for others. */
  readonly inboundFrame = new Int16Array(FRAME_SAMPLES);
  /** What we sent this tick. Read-only for others. */
  readonly outboundFrame = new Int16Array(FRAME_SAMPLES);
  /** True when `inboundFrame` holds received (or concealed) audio this tick. */
  inboundActive = false;

  readonly #ctx: EndpointContext;
  /** Made on first use (`#logger`): a pino child costs tens of µs and most endpoints never log. */
  #childLogger: Logger | undefined;
  readonly #framer = new InboundFramer();
  readonly #quietScratch = new Int16Array(FRAME_SAMPLES);
  readonly #receiver: Rfc4733Receiver;
  readonly #sender = new Rfc4733Sender();
  readonly #inband: InbandDtmfDetector;
  readonly #unsubscribe: (() => void)[];
  // Copy-on-write arrays, iterated by index on the tick (no iterator allocation).
  #taps: readonly { track: Track; fn: TapFn }[] = [];
  #recordings: readonly EndpointRecording[] = [];
  readonly #collectors = new Set<DigitCollector>();
  #state: EndpointState = 'open';
  #codec: Codec = PCMU;
  /** Decoded arriving packets for `forkArrivals` (grown once for packets over 40 ms). */
  #arrivalScratch = new Int16Array(320);
  #payloadType = 0;
  #telephoneEvent = -1;
  #timestamp = Math.floor(Math.random() * 0xffffffff);
  #rfc4733Seen = false;
  #rtpTimeoutMs: number;
  #sending = true;
  /** The RTP timeout runs only while both sides send (`sendrecv`): any hold pauses it. */
  #watchingRtp = true;
  #timedOut = false;
  #playback: Playback | undefined;
  #toneOverlay: Playback | undefined;
  #inject: PcmQueue | undefined;
  readonly #feed = new FeedSlot();
  /** Packets `sendNow` sent that ticks to come stand in for (each such tick sends none of its own). */
  #ahead = 0;
  /** Packets `sendNow` sent since the last send phase. */
  #sentSinceTick = 0;
  /**
   * The frames of the last two of those packets, for taps and recorders on
   * the ticks they stand in for. A leg that catches up a backlog (more than
   * two sent ahead) hands its taps only the last two: they never lag more.
   */
  readonly #aheadFirst = new Int16Array(FRAME_SAMPLES);
  readonly #aheadSecond = new Int16Array(FRAME_SAMPLES);
  /** The older of the two is `#aheadSecond`. */
  #aheadSwapped = false;
  /** `holdSend()` was called for this tick. */
  #holdTick = false;
  /** Ticks that sent no packet (`holdSend`) since the last packet. */
  #heldTicks = 0;
  /** The last packet went out on the tick: the next `sendNow` starts a talk-spurt. */
  #lastOnTick = true;
  #closing: Promise<void> | undefined;

  get #logger(): Logger {
    return (this.#childLogger ??= this.#ctx.logger.child({ mediaEndpoint: this.id }));
  }

  constructor(ctx: EndpointContext) {
    super();
    this.#ctx = ctx;
    this.id = ctx.id;
    this.#rtpTimeoutMs = ctx.rtpTimeoutMs;
    this.session = new RtpSession(ctx.lease, ctx.session);
    this.session.audioPayloadType = 0;
    this.#receiver = new Rfc4733Receiver((e) => this.#onDigit(e));
    this.#inband = new InbandDtmfDetector((e) => this.#onDigit(e));
    this.session.onTelephoneEvent = (payload, offset, length, timestamp) => {
      this.#rfc4733Seen = true;
      this.#receiver.receive(payload, offset, length, timestamp, performance.now());
    };
    this.session.onLatch = (address, port) => this.emit('latched', { address, port });
    this.session.jitter.quietPayload = this.#isQuietPayload;
    this.#unsubscribe = [ctx.clock.add('receive', this.#onReceive), ctx.clock.add('send', this.#onSend)];
  }

  get state(): EndpointState {
    return this.#state;
  }

  /** The codec currently sent and expected. */
  get codec(): Codec {
    return this.#codec;
  }

  /**
   * When this tick's `inboundFrame` is one received packet decoded whole and
   * `codec` is this leg's: write that packet's payload into `out` at
   * `offset` and return its length (a bridge forwards it unchanged instead
   * of encoding the frame again). Else 0.
   */
  copyInboundPayload(codec: Codec, out: Uint8Array, offset: number): number {
    if (!this.inboundActive || !this.#framer.verbatim || codec !== this.#codec) return 0;
    const jitter = this.session.jitter;
    return copyPayload(jitter.payload, jitter.payloadLength, out, offset);
  }

  /** Quality figures (`CallMedia.stats`, the same shape on a worker thread); after close, the figures at close. */
  stats(): Promise<EndpointStats> {
    return Promise.resolve(this.currentStats());
  }

  /** `stats()` now, on this thread (a media worker answers with it; nothing else needs it synchronous). */
  currentStats(): EndpointStats {
    const s = this.session.stats;
    const jb = this.session.jitter.stats;
    const r = this.session.remoteReport;
    return {
      codec: this.#codec.name,
      packetsSent: s.packetsSent,
      packetsReceived: s.packetsReceived,
      packetsLost: jb.lost,
      packetsLate: jb.late,
      packetsDiscarded: jb.discarded + jb.shrunk,
      packetsForeign: s.droppedForeign,
      jitterMs: Math.round(this.session.jitterMs * 10) / 10,
      ...(r ? { remote: { fractionLost: r.fractionLost, cumulativeLost: r.cumulativeLost, jitter: r.jitter } } : {}),
    };
  }

  /** Address, ports and formats for our SDP. */
  localDescription(): LocalMedia {
    return {
      address: this.#ctx.advertisedAddress,
      port: this.session.port,
      rtcpPort: this.session.port + 1,
      audio: localOffer({ codecs: this.#ctx.codecs, telephoneEventPayloadType: this.#ctx.telephoneEventPayloadType }),
    };
  }

  /** Set (or change, on re-INVITE) the far end and the negotiated formats. */
  setRemote(remote: RemoteMedia): void {
    this.#assertOpen();
    const codec = remote.codec ? codecByName(remote.codec) : remote.payloadType === 0 ? codecByName('PCMU') : remote.payloadType === 8 ? codecByName('PCMA') : undefined;
    if (!codec) throw new Error(`unknown codec for payload type ${remote.payloadType}`);
    this.#codec = codec;
    this.#payloadType = remote.payloadType;
    this.#telephoneEvent = remote.telephoneEvent ?? -1;
    this.session.audioPayloadType = remote.payloadType;
    this.session.telephoneEventPayloadType = this.#telephoneEvent;
    this.session.setRemote({ address: remote.address, port: remote.port, ...(remote.rtcpPort !== undefined ? { rtcpPort: remote.rtcpPort } : {}) });
    this.session.setSrtp(remote.srtp);
    this.session.lastReceivedAt = performance.now();
    this.#timedOut = false;
  }

  /** Change the RTP inactivity timeout (0 disables it, e.g. while the far end holds). */
  setRtpTimeout(ms: number): void {
    this.#rtpTimeoutMs = ms;
    this.session.lastReceivedAt = performance.now();
    this.#timedOut = false;
  }

  /**
   * Apply the SDP direction of OUR side (RFC 3264 §6): 'recvonly' or
   * 'inactive' means we must not send, so packets stop while the tick and
   * timestamps keep running. Anything but 'sendrecv' is a hold (ours or the
   * far end's, RFC 3264 §8.4), and a held far end may well send nothing —
   * music on hold is its choice — so the RTP timeout pauses until 'sendrecv'
   * again (SPEC §13: a leg on hold is not hung up for media_timeout).
   */
  setDirection(direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive'): void {
    this.#sending = direction === 'sendrecv' || direction === 'sendonly';
    this.#watchingRtp = direction === 'sendrecv';
    this.session.lastReceivedAt = performance.now();
    this.#timedOut = false;
  }

  /**
   * Play a source to the caller until it ends or `signal` aborts. A new
   * `play` replaces the current one (which resolves 'replaced').
   */
  play(source: AudioSource, options: { signal?: AbortSignal } = {}): Promise<PlayResult> {
    if (this.#state !== 'open') return Promise.resolve('closed');
    if (options.signal?.aborted) return Promise.resolve('aborted');
    this.#playback?.finish('replaced');
    return new Promise<PlayResult>((resolve) => {
      const signal = options.signal;
      const onAbort = (): void => playback.finish('aborted');
      const playback: Playback = {
        source,
        finish: (result) => {
          if (this.#playback === playback) this.#playback = undefined;
          signal?.removeEventListener('abort', onAbort);
          source.close?.();
          resolve(result);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#playback = playback;
    });
  }

  /** Play a call-progress tone: `play(tone(name))` by name, as a leg on a worker thread takes it (`CallMedia`). */
  playTone(name: ToneName, options: { loop?: boolean; signal?: AbortSignal } = {}): Promise<PlayResult> {
    return this.play(tone(name, options.loop === undefined ? {} : { loop: options.loop }), { signal: options.signal });
  }

  /** Play 8 kHz PCM. `loop`: times to play, 0 = until aborted; default 1. */
  playPcm(pcm: Int16Array, options: { loop?: number; signal?: AbortSignal } = {}): Promise<PlayResult> {
    const loop = options.loop ?? 1;
    return this.play(new PcmSource(pcm, { loop: loop !== 1, times: loop }), { signal: options.signal });
  }

  /**
   * Speak `text` with the engine's TTS. `loop`: times to say it (0 = until
   * aborted; default 1). Resolves 'aborted' if aborted while synthesizing;
   * rejects if the first sentence cannot be synthesized.
   */
  async say(text: string, options: { voice?: string; language?: string; loop?: number; signal?: AbortSignal } = {}): Promise<PlayResult> {
    if (this.#state !== 'open') return 'closed';
    if (options.signal?.aborted) return 'aborted';
    // Sentence by sentence, so long text starts playing after the first sentence is synthesized.
    const tts = this.#ctx.tts();
    const parts = splitSentences(text).map((sentence) => tts.speak({ text: sentence, voice: options.voice, language: options.language, signal: options.signal }));
    // Failures of later parts are handled by the source (skipped); never leave them unhandled.
    for (const p of parts) p.catch(() => undefined);
    const first = await this.#prepare(() => parts[0] ?? Promise.resolve(new Int16Array(0)), options.signal);
    if (typeof first === 'string') return first;
    const source = new IncrementalSource(parts, {
      times: options.loop ?? 1,
      onPartError: (error, index) => {
        if (!options.signal?.aborted) this.#logger.warn({ err: error, index }, 'tts failed for part of the text; skipped');
      },
    });
    return this.play(source, { signal: options.signal });
  }

  /**
   * Fetch and play a WAV or MP3 URL within `policy` (the fetch policy of the
   * workspace it is played for). `loop`: times to play (0 = until aborted).
   * Rejects with `UrlAudioError` when the URL cannot be played, or
   * `FetchRefusedError` when the policy refuses it.
   */
  async playUrl(url: string, options: PlayUrlOptions): Promise<PlayResult> {
    const pcm = await this.#prepare(() => this.#ctx.urls.load(url, { policy: options.policy, ...(options.signal ? { signal: options.signal } : {}) }), options.signal);
    if (typeof pcm === 'string') return pcm;
    return this.play(new PcmSource(pcm, { loop: options.loop !== 1, times: options.loop ?? 1 }), { signal: options.signal });
  }

  /** Send DTMF: RFC 4733 events when negotiated, else in-band tones. */
  async sendDtmf(digits: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    this.#assertOpen();
    if (this.#telephoneEvent >= 0) {
      const onAbort = (): void => this.#sender.cancel();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        await this.#sender.enqueue(digits);
      } finally {
        options.signal?.removeEventListener('abort', onAbort);
      }
      return;
    }
    await new Promise<void>((resolve) => {
      const signal = options.signal;
      const onAbort = (): void => overlay.finish('aborted');
      const overlay: Playback = {
        source: dtmfTones(digits),
        finish: () => {
          if (this.#toneOverlay === overlay) this.#toneOverlay = undefined;
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      if (signal?.aborted) return resolve();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#toneOverlay?.finish('replaced');
      this.#toneOverlay = overlay;
    });
  }

  /** Collect digits (Twilio <Gather> semantics). Digits are those pressed after the call. */
  collectDigits(options: CollectDigitsOptions = {}): Promise<CollectDigitsResult> {
    if (this.#state !== 'open') return Promise.resolve({ digits: '', reason: 'closed' });
    const collector = new DigitCollector(options, () => this.#collectors.delete(collector));
    this.#collectors.add(collector);
    return collector.result;
  }

  /** Answering machine detection on the caller's audio (SPEC §17): resolves with the decision, also when aborted or closed. */
  detectMachine(options: MachineDetectionOptions): Promise<MachineDetectionResult> {
    return listenForMachine(this, options);
  }

  /** Record to a WAV file until `signal` aborts, a limit is hit or the leg closes. */
  async record(options: RecordOptions): Promise<RecordResult> {
    this.#assertOpen();
    const recording = await EndpointRecording.start(options, this.#logger, () => {
      this.#recordings = this.#recordings.filter((r) => r !== recording);
    });
    if (this.#state !== 'open') {
      recording.stop('closed');
    } else {
      this.#recordings = [...this.#recordings, recording];
    }
    return recording.result;
  }

  /**
   * Tap audio: `onFrame` gets each 20 ms frame of the track(s) on the media
   * tick (the buffer is reused: copy what you keep; do not block). Returns
   * the function that removes the tap.
   */
  fork(track: Track, onFrame: TapFn): () => void {
    const tap = { track, fn: onFrame };
    this.#taps = [...this.#taps, tap];
    return () => {
      this.#taps = this.#taps.filter((t) => t !== tap);
    };
  }

  /**
   * The caller's audio as each packet arrives, before the jitter buffer and
   * the tick: `onPacket` gets the decoded samples (the first `length` of a
   * reused buffer: copy what you keep) and the RTP sequence number, in
   * arrival order (reorder yourself). Allocates nothing per packet. For the
   * audio stream's low-latency uplink. One listener at a time: returns the
   * function that removes it, or undefined when another listener has it
   * (use `fork` then).
   */
  forkArrivals(onPacket: (pcm: Int16Array, length: number, sequence: number) => void): (() => void) | undefined {
    this.#assertOpen();
    const session = this.session;
    if (session.onAudio) return undefined;
    const handler = (sequence: number, msg: Uint8Array, offset: number, length: number): void => {
      const codec = this.#codec;
      // A payload byte decodes to at most one sample (G.711; L16 takes two), so `length` bounds it.
      if (length > this.#arrivalScratch.length) this.#arrivalScratch = new Int16Array(length); // once, for long packets
      const n = codec.decode(msg, offset, length, this.#arrivalScratch);
      onPacket(this.#arrivalScratch, n, sequence);
    };
    session.onAudio = handler;
    return () => {
      if (session.onAudio === handler) session.onAudio = undefined;
    };
  }

  /** Bridge this leg with `other` (each hears the other). Close the returned bridge to unbridge. */
  bridge(other: MediaEndpoint): Bridge {
    this.#assertOpen();
    return new Bridge(this, other);
  }

  /** Queue 8 kHz PCM to be played to the caller (below `play`, above bridge audio). */
  inject(pcm: Int16Array): void {
    if (this.#state !== 'open') return;
    this.#inject ??= new PcmQueue();
    this.#inject.push(pcm);
  }

  /** Packets `sendNow` sent that ticks to come stand in for (0 to 2). */
  get sentAhead(): number {
    return this.#ahead;
  }

  /** Packets `sendNow` sent since the last tick's send phase. */
  get sentSinceTick(): number {
    return this.#sentSinceTick;
  }

  /**
   * Send one 20 ms frame (8 kHz, exactly `FRAME_SAMPLES`) to the caller now,
   * not on the next tick: an audio stream's frame goes out as it arrives
   * (SPEC §19), like a relay, instead of waiting 0–20 ms for the tick. Only
   * while it is all the caller would hear: false (nothing sent) while a
   * prompt, tone or RFC 4733 digit plays, a bridge or conference feeds the
   * leg, injected audio waits, or the leg must not send. The frame takes
   * the next tick's place (that tick sends no packet of its own; taps and
   * recorders get this frame then). How many go between two ticks is the
   * caller's to pace (`sentSinceTick`). Sequence and timestamp run on
   * unbroken, +160 a packet. Allocates nothing.
   */
  sendNow(pcm: Int16Array): boolean {
    if (this.#state !== 'open' || !this.#sending || this.#playback || this.#toneOverlay || this.#sender.busy) return false;
    if (this.#feed.current || (this.#inject?.size ?? 0) > 0) return false;
    const older = this.#aheadSwapped ? this.#aheadSecond : this.#aheadFirst;
    const newer = this.#aheadSwapped ? this.#aheadFirst : this.#aheadSecond;
    if (this.#ahead === 2) {
      // Catching up: the oldest frame not yet handed to the taps is skipped for them (it was sent).
      older.set(pcm);
      this.#aheadSwapped = !this.#aheadSwapped;
      this.#ahead--;
    } else (this.#ahead === 0 ? older : newer).set(pcm);
    const buf = this.session.nextBuffer();
    const length = this.#codec.encode(pcm, buf, RTP_HEADER_SIZE);
    // Marker on the first packet of a talk-spurt (RFC 3551 §4.1; RFC 3550 §5.1): the far end may
    // re-sync its playout to this packet, which comes at the stream's moment, not the tick's.
    this.session.send(buf, length, this.#payloadType, this.#lastOnTick, this.#timestamp);
    this.#timestamp = (this.#timestamp + FRAME_SAMPLES) >>> 0;
    // The stream's own pace rules while it talks (as for a relay): ticks held meanwhile do not move the timestamp.
    this.#heldTicks = 0;
    this.#lastOnTick = false;
    this.#ahead++;
    this.#sentSinceTick++;
    this.session.maybeSendRtcp(performance.now());
    return true;
  }

  /**
   * This tick sends no packet if it would only be silence: an audio stream
   * waits for its next frame (to send on arrival) rather than fill the gap
   * with a silent packet. The timestamp counts the held ticks once packets
   * come from the tick again (RFC 3550 §5.1: it follows the sampling clock
   * across a pause).
   */
  holdSend(): void {
    this.#holdTick = true;
  }

  /** Drop injected audio not yet played (e.g. a media stream's "clear"). */
  clearInjected(): void {
    this.#inject?.clear();
  }

  /**
   * Set the background audio (what the caller hears when nothing is played):
   * used by bridges and conference mixers. Replaces a previous feed, calling
   * its detach function. Returns a function that removes this feed.
   */
  attachFeed(feed: AudioSource, onDetach?: () => void): () => void {
    this.#assertOpen();
    return this.#feed.attach(feed, onDetach);
  }

  /** Stop everything, release the ports. Idempotent; resolves when recordings are finalized. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#state = 'closed';
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#playback?.finish('closed');
    this.#toneOverlay?.finish('closed');
    this.#sender.dispose();
    for (const c of [...this.#collectors]) c.finish('closed');
    this.#feed.detach();
    this.#taps = [];
    this.session.close();
    this.#ctx.pool.release(this.#ctx.lease);
    const recordings = [...this.#recordings].map((r) => {
      r.stop('closed');
      return r.result.catch(() => undefined);
    });
    await Promise.all(recordings);
    this.#ctx.onClosed(this);
    this.emit('closed');
  }

  async #prepare<T>(work: () => Promise<T>, signal: AbortSignal | undefined): Promise<T | 'aborted' | 'closed'> {
    if (this.#state !== 'open') return 'closed';
    if (signal?.aborted) return 'aborted';
    try {
      const value = await work();
      return this.#state === 'open' ? value : 'closed';
    } catch (error) {
      if (signal?.aborted) return 'aborted';
      throw error;
    }
  }

  #assertOpen(): void {
    if (this.#state !== 'open') throw new MediaEndpointClosedError(this.id);
  }

  #onDigit(event: DtmfEvent): void {
    for (const c of this.#collectors) c.push(event.digit);
    this.emit('dtmf', event);
  }

  /** For the jitter buffer's delay drain: a payload whose first 20 ms peaks below QUIET_PEAK. */
  readonly #isQuietPayload = (payload: Uint8Array, length: number): boolean => {
    const pcm = this.#quietScratch;
    const n = this.#codec.decode(payload, 0, Math.min(length, this.#codec.payloadSize(FRAME_SAMPLES)), pcm);
    for (let i = 0; i < n; i++) {
      const v = pcm[i] ?? 0;
      if (v > QUIET_PEAK || v < -QUIET_PEAK) return false;
    }
    return true;
  };

  readonly #onReceive = (): void => {
    const frame = this.inboundFrame;
    this.inboundActive = this.#framer.next(this.session.jitter, this.#codec, frame);
    if (this.inboundActive && !this.#rfc4733Seen) this.#inband.process(frame);
    const now = performance.now();
    this.#receiver.flush(now);
    if (this.#rtpTimeoutMs > 0 && this.#watchingRtp && this.session.remote) {
      const silentFor = now - this.session.lastReceivedAt;
      if (silentFor >= this.#rtpTimeoutMs) {
        if (!this.#timedOut) {
          this.#timedOut = true;
          this.emit('rtpTimeout');
        }
      } else {
        this.#timedOut = false;
      }
    }
    const taps = this.#taps;
    for (let i = 0; i < taps.length; i++) {
      const tap = taps[i];
      if (tap && tap.track !== 'outbound') this.#runTap(tap, frame, 'inbound');
    }
  };

  readonly #onSend = (): void => {
    const out = this.outboundFrame;
    const early = this.#ahead > 0;
    this.#sentSinceTick = 0;
    let silent = false;
    let feed: AudioSource | undefined;
    if (early) {
      // Sent already (sendNow): this tick's packet.
      out.set(this.#aheadSwapped ? this.#aheadSecond : this.#aheadFirst);
      this.#aheadSwapped = !this.#aheadSwapped;
      this.#ahead--;
    } else if (!this.#readPlayback(this.#toneOverlay, out) && !this.#readPlayback(this.#playback, out)) {
      if (this.#inject?.read(out)) {
        // Injected audio: encoded below.
      } else if (this.#feed.current?.read(out)) {
        feed = this.#feed.current;
      } else {
        out.fill(0);
        silent = true;
      }
    }
    const held = this.#holdTick && silent && !this.#sender.busy;
    this.#holdTick = false;
    const taps = this.#taps;
    for (let i = 0; i < taps.length; i++) {
      const tap = taps[i];
      if (tap && tap.track !== 'inbound') this.#runTap(tap, out, 'outbound');
    }
    const recordings = this.#recordings;
    for (let i = 0; i < recordings.length; i++) recordings[i]?.write(this.inboundFrame, out);
    if (early || (held && this.#sending)) {
      if (held) this.#heldTicks++;
      this.session.maybeSendRtcp(performance.now());
      return;
    }
    if (!this.#sending) {
      this.#timestamp = (this.#timestamp + FRAME_SAMPLES) >>> 0;
      this.session.maybeSendRtcp(performance.now()); // RTCP continues on held streams
      return;
    }
    const buf = this.session.nextBuffer();
    const timestamp = (this.#timestamp + this.#heldTicks * FRAME_SAMPLES) >>> 0;
    this.#timestamp = (timestamp + FRAME_SAMPLES) >>> 0;
    this.#heldTicks = 0;
    this.#lastOnTick = true;
    if (this.#telephoneEvent >= 0 && this.#sender.busy && this.#sender.next(buf, RTP_HEADER_SIZE, timestamp) === 'event') {
      this.session.send(buf, 4, this.#telephoneEvent, this.#sender.marker, this.#sender.eventTimestamp);
    } else {
      // A bridged packet of our codec goes on as it came, a conference mix as the room's one encoding; else encode.
      const length = feed?.encodeInto?.(this.#codec, buf, RTP_HEADER_SIZE) || this.#codec.encode(out, buf, RTP_HEADER_SIZE);
      // Marker on the first packet of the stream (RFC 3551 §4.1: start of a talkspurt).
      this.session.send(buf, length, this.#payloadType, this.session.stats.packetsSent === 0, timestamp);
    }
    this.session.maybeSendRtcp(performance.now());
  };

  #readPlayback(playback: Playback | undefined, out: Int16Array): boolean {
    if (!playback) return false;
    try {
      if (playback.source.read(out)) return true;
      playback.finish('done');
    } catch (error) {
      // A broken source ends its own playback, not the leg's media.
      this.#logger.error({ err: error }, 'audio source failed');
      playback.finish('failed');
    }
    return false;
  }

  /** A tap that throws is removed so one faulty consumer cannot stall the leg's audio. */
  #runTap(tap: { track: Track; fn: TapFn }, frame: Int16Array, track: 'inbound' | 'outbound'): void {
    try {
      tap.fn(frame, track);
    } catch (error) {
      this.#logger.error({ err: error }, 'media tap threw; removed');
      this.#taps = this.#taps.filter((t) => t !== tap);
    }
  }
}
