/**
 * `AudioStreamSession`: one `stream` action's live audio fork (SPEC §8). It
 * connects to the customer's WebSocket as a client speaking the
 * `audio.drachtio.org` listen protocol (or `audio.jambonz.org`), sends the
 * metadata frame, then one binary frame per 20 ms tick of the chosen
 * track(s), and plays what the server sends back to the caller.
 *
 *   idle ──start()──► connecting ──open + subprotocol──► streaming
 *    │                    │                                  │
 *    │ close()            │ refused, unreachable, timeout,   │ server closed, disconnect, abort,
 *    │                    │ abort, close(), endpoint closed  │ close(), endpoint closed, socket error
 *    │                    ▼                                  │
 *    │                 closing ◄─────────────────────────────┘  we close the socket (1000) or drop it
 *    │                    │ socket closed, or closeTimeoutMs
 *    └──────────────────► closed ◄── straight here when the socket is already closed
 *
 * Caller → socket: for `inbound_track`, each RTP packet as it arrives
 * (`forkArrivals`, before the leg's jitter buffer), put in order by
 * `ArrivalReorder`; for the other tracks, which mix in what the caller
 * hears, one tap on the endpoint (`fork('both')`) on the media tick.
 * `UplinkFramer` resamples into a preallocated buffer and `ws.send`
 * copies it while masking, so our side allocates nothing per frame (`ws`'s
 * framing does, a little). When the socket cannot keep up (`bufferedAmount`
 * above `maxBufferedMs` of audio) frames are dropped and counted: memory
 * stays bounded and the stream stays live.
 *
 * Socket → caller: `DownlinkPlayer` queues the server's audio and feeds the
 * endpoint one frame per tick from the same tap (see there for how marks
 * learn what has been played).
 *
 * Knows nothing of SIP, webhooks or the database: the `stream` action maps
 * `started` / `stopped` / `error` to status callbacks.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { checkHop, FetchRefusedError, isFetchRefused, lookupFor, type FetchPolicy } from '../../shared/fetch-policy.js';
import type { Logger } from '../../shared/log.js';
import { silentLogger } from '../../shared/log.js';
import { TypedEmitter } from '../../shared/typed-emitter.js';
import type { DtmfEvent } from '../dtmf/digits.js';
import type { MediaEndpoint } from '../endpoint.js';
import { ArrivalReorder } from './arrival-reorder.js';
import { DownlinkPlayer, type ReturnAudio } from './downlink-player.js';
import type { MarkEvent } from './playout-queue.js';
import {
  buildStreamMetadata,
  generateMask,
  parseServerCommand,
  STREAM_SUBPROTOCOLS,
  type StreamCallInfo,
  type StreamSampleRate,
  type StreamSubprotocol,
  type StreamTrack,
} from './stream-protocol.js';
import { UplinkFramer } from './uplink-framer.js';

export type AudioStreamState = 'idle' | 'connecting' | 'streaming' | 'closing' | 'closed';

const TRANSITIONS: Record<AudioStreamState, readonly AudioStreamState[]> = {
  idle: ['connecting', 'closed'],
  connecting: ['streaming', 'closing', 'closed'],
  streaming: ['closing', 'closed'],
  closing: ['closed'],
  closed: [],
};

/** Who ended the stream: the customer's server, the platform (abort, hang-up, close()), or a failure. */
export type StreamClosedBy = 'server' | 'platform' | 'error';

/** Options for `AudioStreamSession`. */
export interface AudioStreamOptions {
  /**
   * The customer's `ws:` or `wss:` URL. Connected to within `policy`: the
   * URL is checked, the address after DNS too, and redirects are not
   * followed (a 3xx answer fails the stream).
   */
  url: string;
  /** The fetch policy of the workspace the stream is for (plain data; it crosses to media workers). */
  policy: FetchPolicy;
  /** `streamName` in the metadata frame. Default 'stream'. */
  name?: string;
  /** Which audio to send. Default 'inbound_track'. */
  track?: StreamTrack;
  /** With 'both_tracks': sum the two into one channel (jambonz `mixType: "mixed"`). Default false (stereo). */
  mixed?: boolean;
  /** What the server may send back (jambonz `bidirectionalAudio`). Default: enabled, streaming, at `outputSamplingRate`. */
  returnAudio?: ReturnAudio;
  /** Send the caller's DTMF as text (jambonz `passDtmf`). Default true. */
  passDtmf?: boolean;
  /** HTTP Basic credentials sent on the upgrade request (jambonz `wsAuth`). */
  wsAuth?: { username: string; password: string };
  /** Rate of the PCM in both directions. Default 8000. */
  outputSamplingRate?: StreamSampleRate;
  /** The call, for the metadata frame. */
  call: StreamCallInfo;
  /** The customer's metadata pairs, merged into the metadata frame. Default none. */
  metadata?: Readonly<Record<string, string>>;
  /** Aborting ends the stream (closedBy 'platform', socket closed with 1000). */
  signal?: AbortSignal;
  /** Give up connecting (TCP + TLS + upgrade) after this long. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** Wait this long for the server to answer our close frame, then drop the socket. Default 2000 ms. */
  closeTimeoutMs?: number;
  /** Drop outgoing frames while more than this much audio waits in the socket's send buffer. Default 500 ms. */
  maxBufferedMs?: number;
  /** The smallest playout cushion: playback starts once this much is queued; it grows with the sender's jitter. Default 20 ms. */
  prebufferMs?: number;
  /** Most audio from the server waiting to be played; the excess is dropped. Default 30000 ms. */
  maxPlaybackMs?: number;
  logger?: Logger;
}

export interface AudioStreamCounters {
  /** Binary frames sent to the server. */
  framesSent: number;
  /** Binary messages received from the server. */
  framesReceived: number;
  /** Frames not sent because the socket was too slow. */
  framesDropped: number;
}

export interface AudioStreamStopped extends AudioStreamCounters {
  closedBy: StreamClosedBy;
  /** Human-readable: 'server closed the socket (1000)', 'disconnect', 'aborted', 'endpoint closed', … */
  reason: string;
}

/** What `start()` / `close()` resolve with. */
export interface AudioStreamResult extends AudioStreamStopped {
  /** False when the stream never got going (refused, unreachable, aborted while connecting). */
  started: boolean;
  protocol: StreamSubprotocol | undefined;
  /** Set when closedBy is 'error'. */
  error: string | undefined;
  /** The fetch policy refused the URL or the address it resolved to (`error` says why); nothing was connected. */
  refused: boolean;
  /** 8 kHz samples from the server dropped because the playback queue was full. */
  playbackOverflowSamples: number;
}

export type AudioStreamEvents = {
  /** The socket is open, the subprotocol accepted and the metadata frame sent. */
  started: [{ protocol: StreamSubprotocol }];
  /** A started stream ended (not emitted if it never started). */
  stopped: [AudioStreamStopped];
  /** Connecting failed, or the socket failed while streaming (then `stopped` follows). */
  error: [{ reason: string }];
};

const REFUSED_PROTOCOLS = `server accepted neither ${STREAM_SUBPROTOCOLS.join(' nor ')}`;

/** A single message from the server is capped (drachtio bridges send small frames; playAudio clips fit). */
const MAX_PAYLOAD = 8 * 1024 * 1024;

export class AudioStreamSession extends TypedEmitter<AudioStreamEvents> {
  readonly #endpoint: MediaEndpoint;
  readonly #options: AudioStreamOptions;
  readonly #logger: Logger;
  readonly #track: StreamTrack;
  readonly #rate: StreamSampleRate;
  readonly #uplink: UplinkFramer;
  readonly #maxBuffered: number;
  readonly #downlink: DownlinkPlayer;
  #state: AudioStreamState = 'idle';
  #ws: WebSocket | undefined;
  #protocol: StreamSubprotocol | undefined;
  #started = false;
  #stop: { closedBy: StreamClosedBy; reason: string; error: string | undefined } | undefined;
  #counters: AudioStreamCounters = { framesSent: 0, framesReceived: 0, framesDropped: 0 };
  #unfork: (() => void) | undefined;
  /** Caller → socket on packet arrival (one track only); undefined: on the tick. */
  #reorder: ArrivalReorder | undefined;
  #unarrive: (() => void) | undefined;
  #connectTimer: NodeJS.Timeout | undefined;
  #closeTimer: NodeJS.Timeout | undefined;
  #done: Promise<AudioStreamResult> | undefined;
  #resolve: ((result: AudioStreamResult) => void) | undefined;
  /** Why the handshake failed, when we know better than `ws`'s error message. */
  #refusal: string | undefined;
  /** The fetch policy refused the URL or its address. */
  #refused = false;

  constructor(endpoint: MediaEndpoint, options: AudioStreamOptions) {
    super();
    this.#endpoint = endpoint;
    this.#options = options;
    this.#track = options.track ?? 'inbound_track';
    this.#rate = options.outputSamplingRate ?? 8000;
    this.#logger = (options.logger ?? silentLogger).child({ stream: options.name ?? 'stream' });
    this.#uplink = new UplinkFramer(this.#track, this.#rate, options.mixed ?? false);
    this.#maxBuffered = Math.max(1, Math.round((options.maxBufferedMs ?? 500) / 20)) * this.#uplink.frameBytes;
    this.#downlink = new DownlinkPlayer(endpoint, {
      rate: this.#rate,
      returnAudio: options.returnAudio,
      prebufferMs: options.prebufferMs,
      maxPlaybackMs: options.maxPlaybackMs,
      logger: this.#logger,
      // Once the stream is ending, marks are not answered any more (the socket is closing).
      onMark: (name, event) => {
        if (!this.#stop) this.#sendMark(name, event);
      },
      onPlayDone: (id) => {
        if (!this.#stop) this.#sendText({ type: 'playDone', data: id === undefined ? {} : { id } });
      },
    });
  }

  get state(): AudioStreamState {
    return this.#state;
  }

  /** The subprotocol the server chose, once streaming. */
  get protocol(): StreamSubprotocol | undefined {
    return this.#protocol;
  }

  /** Bytes waiting in the socket's send buffer (bounded by `maxBufferedMs`). */
  get bufferedAmount(): number {
    return this.#ws?.bufferedAmount ?? 0;
  }

  counters(): AudioStreamCounters {
    return { ...this.#counters };
  }

  /** Connect and stream. Resolves when the stream has ended, for whatever reason; never rejects. Idempotent. */
  start(): Promise<AudioStreamResult> {
    if (this.#done) return this.#done;
    this.#done = new Promise((resolve) => (this.#resolve = resolve));
    this.#transition('connecting');
    const { signal, url } = this.#options;
    const parsed = URL.canParse(url) ? new URL(url) : undefined;
    if (signal?.aborted) this.#end('platform', 'aborted');
    else if (this.#endpoint.state !== 'open') this.#end('platform', 'endpoint closed');
    else if (parsed?.protocol !== 'ws:' && parsed?.protocol !== 'wss:') this.#end('error', 'the stream url must be a ws: or wss: URL', true);
    else this.#checkPolicy(parsed);
    if (this.#stop || !parsed) return this.#done;
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.#endpoint.on('closed', this.#onEndpointClosed);
    const timeoutMs = this.#options.connectTimeoutMs ?? 5000;
    // The address the name resolves to is checked too (a literal address was checked with the URL).
    const lookup = lookupFor(this.#options.policy);
    const ws = new WebSocket(parsed, [...STREAM_SUBPROTOCOLS], {
      handshakeTimeout: timeoutMs + 1000, // a backstop: our own timer below fires first, with the clearer reason
      perMessageDeflate: false, // PCM does not compress; zlib would cost CPU on every frame
      maxPayload: MAX_PAYLOAD,
      followRedirects: false, // a redirect would be a hop the policy has not checked
      generateMask,
      ...(lookup ? { lookup } : {}),
      ...(this.#options.wsAuth ? { headers: { authorization: basicAuth(this.#options.wsAuth) } } : {}),
    });
    this.#ws = ws;
    // handshakeTimeout covers the HTTP exchange; this covers a silent TCP/TLS connect as well.
    this.#connectTimer = setTimeout(() => this.#end('error', `no connection within ${timeoutMs} ms`, true), timeoutMs);
    ws.on('upgrade', this.#onUpgrade);
    ws.on('unexpected-response', this.#onUnexpectedResponse);
    ws.on('open', this.#onOpen);
    ws.on('message', this.#onMessage);
    ws.on('error', this.#onSocketError);
    ws.on('close', this.#onSocketClose);
    return this.#done;
  }

  /** The URL's check under the fetch policy (SPEC §18); a refusal ends the stream before any connection. */
  #checkPolicy(url: URL): void {
    try {
      checkHop(url, this.#options.policy, 'stream url');
    } catch (error) {
      if (!(error instanceof FetchRefusedError)) throw error;
      this.#refused = true;
      this.#end('error', error.message, true);
    }
  }

  /** End the stream from our side (closedBy 'platform'). Idempotent; resolves like `start()`. */
  close(): Promise<AudioStreamResult> {
    if (!this.#done) {
      this.#done = new Promise((resolve) => (this.#resolve = resolve));
    }
    this.#end('platform', 'closed');
    return this.#done;
  }

  #transition(to: AudioStreamState): void {
    if (!TRANSITIONS[this.#state].includes(to)) throw new Error(`audio stream: illegal transition ${this.#state} -> ${to}`);
    this.#state = to;
  }

  readonly #onAbort = (): void => this.#end('platform', 'aborted');
  readonly #onEndpointClosed = (): void => this.#end('platform', 'endpoint closed');

  /** The 101 answer: note a subprotocol we did not offer (or none) before `ws` aborts with its own error. */
  readonly #onUpgrade = (response: IncomingMessage): void => {
    const chosen = response.headers['sec-websocket-protocol'];
    if (!STREAM_SUBPROTOCOLS.some((p) => p === chosen)) this.#refusal = REFUSED_PROTOCOLS;
  };

  /** Any answer but 101: listening here replaces `ws`'s generic error, so we abort ourselves. */
  readonly #onUnexpectedResponse = (_request: ClientRequest, response: IncomingMessage): void => {
    this.#end('error', `server refused the WebSocket upgrade (HTTP ${response.statusCode ?? '?'})`, true);
  };

  readonly #onOpen = (): void => {
    const ws = this.#ws;
    if (this.#state !== 'connecting' || !ws) return;
    clearTimeout(this.#connectTimer);
    const protocol = STREAM_SUBPROTOCOLS.find((p) => p === ws.protocol);
    if (!protocol) {
      // `ws` already refuses a missing or unoffered subprotocol; this guards against a future default change.
      this.#end('error', REFUSED_PROTOCOLS, true);
      return;
    }
    if (this.#endpoint.state !== 'open') {
      this.#end('platform', 'endpoint closed');
      return;
    }
    this.#protocol = protocol;
    const metadata = buildStreamMetadata(
      this.#options.call,
      { name: this.#options.name ?? 'stream', track: this.#track, sampleRate: this.#rate, mixed: this.#options.mixed ?? false },
      this.#options.metadata,
    );
    ws.send(JSON.stringify(metadata));
    this.#transition('streaming');
    this.#started = true;
    if (this.#track === 'inbound_track') {
      // The caller's packets go on as they arrive, not on the next tick after the leg's jitter buffer.
      const reorder = new ArrivalReorder(this.#onArrivalFrame);
      this.#unarrive = this.#endpoint.forkArrivals((pcm, length, seq) => reorder.packet(pcm, length, seq, performance.now()));
      if (this.#unarrive) this.#reorder = reorder;
    }
    this.#unfork = this.#endpoint.fork('both', this.#onTap);
    if (this.#options.passDtmf ?? true) this.#endpoint.on('dtmf', this.#onDtmf);
    this.#logger.debug({ protocol }, 'audio stream started');
    this.emit('started', { protocol });
  };

  /** The 20 ms path: no allocation, no waiting. */
  readonly #onTap = (frame: Int16Array, track: 'inbound' | 'outbound'): void => {
    if (track === 'inbound') {
      if (this.#reorder) this.#reorder.tick(performance.now());
      else if (this.#uplink.inbound(frame)) this.#sendFrame();
      // The receive phase runs before the endpoint picks what to send, so this frame plays on this very tick.
      this.#downlink.offer();
      return;
    }
    this.#downlink.confirm(frame);
    if (this.#uplink.outbound(frame)) this.#sendFrame();
  };

  /** A 20 ms frame of the caller, in order, as soon as its packet arrived. */
  readonly #onArrivalFrame = (frame: Int16Array): void => {
    if (this.#uplink.inbound(frame)) this.#sendFrame();
  };

  #sendFrame(): void {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount + this.#uplink.frameBytes > this.#maxBuffered) {
      this.#counters.framesDropped++;
      return;
    }
    ws.send(this.#uplink.frame); // copied while masking (and our masks are never all-zero)
    this.#counters.framesSent++;
  }

  /** `duration` is in milliseconds (SPEC §19). */
  readonly #onDtmf = (event: DtmfEvent): void => {
    this.#sendText({ event: 'dtmf', dtmf: event.digit, duration: event.durationMs ?? 0 });
  };

  #sendMark(name: string, event: MarkEvent): void {
    this.#sendText({ type: 'mark', data: { name, event } });
  }

  #sendText(message: object): void {
    const ws = this.#ws;
    if (this.#state !== 'streaming' || !ws || ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify(message));
  }

  readonly #onMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
    if (this.#state !== 'streaming') return;
    if (isBinary) {
      this.#counters.framesReceived++;
      this.#downlink.binary(Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data);
      return;
    }
    const text = (Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8');
    const command = parseServerCommand(text);
    if (typeof command === 'string') {
      this.#logger.warn({ problem: command, message: text.slice(0, 200) }, 'audio stream: ignored a text message from the server');
      return;
    }
    switch (command.type) {
      case 'killAudio':
        this.#downlink.kill();
        return;
      case 'disconnect':
        this.#end('server', 'disconnect');
        return;
      case 'mark':
        this.#downlink.mark(command.name);
        return;
      case 'clearMarks':
        this.#downlink.clearMarks();
        return;
      case 'playAudio':
        this.#downlink.playAudio(command);
        return;
    }
  };

  readonly #onSocketError = (error: Error): void => {
    if (this.#stop) return; // e.g. the "closed before established" error of our own terminate()
    if (isFetchRefused(error)) {
      this.#refused = true;
      this.#end('error', error.message, true);
      return;
    }
    const code = (error as NodeJS.ErrnoException).code;
    const reason = this.#state === 'connecting' ? (this.#refusal ?? `cannot connect: ${code ?? error.message}`) : `socket error: ${code ?? error.message}`;
    this.#end('error', reason, true);
  };

  readonly #onSocketClose = (code: number, reason: Buffer): void => {
    if (!this.#stop) {
      if (this.#state === 'connecting') this.#end('error', `the server closed the connection while connecting (${code})`, true);
      else if (code === 1006) this.#end('error', 'connection lost (closed without a close frame)', true);
      else {
        const text = reason.toString('utf8');
        this.#end('server', `server closed the socket (${code}${text ? `: ${text}` : ''})`);
      }
    }
    this.#finalize();
  };

  /**
   * The one way out: record why (first reason wins), let go of the media
   * at once, then close the socket; `#finalize` runs when it is closed.
   */
  #end(closedBy: StreamClosedBy, reason: string, isError = false): void {
    if (this.#stop || this.#state === 'closed') return;
    this.#stop = { closedBy, reason, error: isError ? reason : undefined };
    this.#detach();
    const ws = this.#ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) {
      this.#finalize();
      return;
    }
    this.#transition('closing');
    this.#closeTimer = setTimeout(() => {
      ws.terminate();
      this.#finalize();
    }, this.#options.closeTimeoutMs ?? 2000);
    if (ws.readyState === WebSocket.OPEN) ws.close(1000, closedBy === 'server' ? 'disconnect' : 'stream ended');
    else if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
  }

  #detach(): void {
    clearTimeout(this.#connectTimer);
    this.#unfork?.();
    this.#unfork = undefined;
    this.#unarrive?.();
    this.#unarrive = undefined;
    this.#reorder = undefined;
    this.#endpoint.off('dtmf', this.#onDtmf);
    this.#endpoint.off('closed', this.#onEndpointClosed);
    this.#options.signal?.removeEventListener('abort', this.#onAbort);
    // Audio the server sent but the caller has not heard must not leak into the next action.
    this.#downlink.stop();
  }

  #finalize(): void {
    if (this.#state === 'closed') return;
    clearTimeout(this.#closeTimer);
    clearTimeout(this.#connectTimer);
    const ws = this.#ws;
    if (ws) {
      ws.off('upgrade', this.#onUpgrade);
      ws.off('unexpected-response', this.#onUnexpectedResponse);
      ws.off('open', this.#onOpen);
      ws.off('message', this.#onMessage);
      ws.off('close', this.#onSocketClose);
      ws.off('error', this.#onSocketError);
      ws.on('error', ignore); // `ws` throws on an 'error' nobody listens to
    }
    this.#transition('closed');
    const stop = this.#stop ?? { closedBy: 'platform' as const, reason: 'closed', error: undefined };
    const counters = this.counters();
    const result: AudioStreamResult = {
      ...counters,
      closedBy: stop.closedBy,
      reason: stop.reason,
      started: this.#started,
      protocol: this.#protocol,
      error: stop.error,
      refused: this.#refused,
      playbackOverflowSamples: this.#downlink.overflowed,
    };
    this.#logger.debug({ ...result }, 'audio stream ended');
    if (stop.error !== undefined) this.emit('error', { reason: stop.error });
    if (this.#started) this.emit('stopped', { ...counters, closedBy: stop.closedBy, reason: stop.reason });
    this.#resolve?.(result);
  }
}

function ignore(): void {}

/** RFC 7617: `Basic base64(user-id ":" password)`, UTF-8. */
function basicAuth({ username, password }: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}
