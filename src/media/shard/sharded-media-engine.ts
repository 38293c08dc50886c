/**
 * `ShardedMediaEngine`: the media engine spread over worker threads, one
 * `MediaEngine` per worker ("shard"), so RTP for more calls than one event
 * loop can carry uses every core (docs/media.md, "Capacity, and media on
 * worker threads"). Each shard owns a disjoint slice of the port range; a
 * leg lives on one shard for its whole life, and legs that must hear each
 * other (the two legs of a bridge) are placed on the same shard with
 * `createEndpoint({ near })`.
 *
 * Built so far: create, `setRemote`, direction, RTP timeout, bridge, DTMF
 * out, `say`, `playUrl`, tones and prepared PCM, `collectDigits`, `record`
 * (each with its `AbortSignal`), `dtmf`/`rtpTimeout`/`latched`/`closed`
 * events, stats, close, bridges between legs of different shards (audio
 * crosses in `FrameRing`s, one tick of added delay), conference mixers
 * whose members may be on any shard, and audio streams (the `stream`
 * action's WebSocket runs on the leg's shard) and room recordings. Not
 * offered: raw taps (`fork` with a per-frame callback) and `inject`, which
 * would put a message on every frame; see the doc. Each shard synthesizes
 * and fetches prompts itself (its own TTS worker and URL cache). A shard that dies ends its legs
 * (each emits `closed`); the other shards' calls go on.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { fetchPolicyOf } from '../../shared/fetch-policy.js';
import type { Logger } from '../../shared/log.js';
import { silentLogger } from '../../shared/log.js';
import { TypedEmitter } from '../../shared/typed-emitter.js';
import { codecByName } from '../codecs/codec.js';
import { localOffer } from '../codecs/negotiate.js';
import { MachineDetector, type MachineDetectionResult } from '../amd/machine-detector.js';
import type { MachineDetectionOptions } from '../amd/machine-listener.js';
import type { CollectDigitsOptions, CollectDigitsResult } from '../endpoint-digits.js';
import type { RecordOptions, RecordResult } from '../endpoint-recording.js';
import type { EndpointStats, LocalMedia, MediaEndpointEvents, PlayResult, PlayUrlOptions, RemoteMedia } from '../endpoint-types.js';
import type { MediaEngineOptions } from '../engine.js';
import { mediaDefaults } from '../media-defaults.js';
import type { ToneName } from '../sources/tones.js';
import { FrameRing } from './frame-ring.js';
import type { AudioStreamEvents, AudioStreamResult } from '../fork/audio-stream.js';
import type { RecordingInfo } from '../recorder.js';
import { MediaEndpointClosedError, MediaWorkerExitedError } from '../media-errors.js';
import { fromShardError } from './shard-errors.js';
import type { ShardCommand, ShardDiagnostics, ShardMessage, ShardOptions, ShardStreamOptions } from './shard-protocol.js';

/**
 * Options for `ShardedMediaEngine`: each shard's `MediaEngine` gets the same
 * options as an in-process one (with the same defaults, `mediaDefaults`),
 * and an even slice of the RTP port range. What cannot cross to a worker
 * (a TTS provider, a shared clock) is left out.
 */
export interface ShardedMediaEngineOptions
  extends Pick<MediaEngineOptions, 'advertisedAddress' | 'bindAddress' | 'portMin' | 'portMax' | 'codecs' | 'telephoneEventPayloadType' | 'rtpTimeoutMs' | 'symmetricRtp' | 'jitter' | 'ttsCacheDir' | 'webrtcPorts'> {
  /** Limits and cache for <Play> URLs, on each shard (and for wait audio on the main thread). Default `mediaDefaults.urlAudio`. */
  urlAudio?: Omit<NonNullable<MediaEngineOptions['urlAudio']>, 'logger'>;
  /** Worker threads, one `MediaEngine` each. Default `os.availableParallelism()` (one per core). */
  workers?: number;
  /** The compiled worker script. Default `shard-worker.js` beside this file (tests running TypeScript pass a compiled one). */
  workerUrl?: URL;
  /** Main-thread logger (shards log nothing of their own). Default: silent. */
  logger?: Logger;
}

/** Options for `ShardedMediaEngine.createEndpoint`. */
export interface CreateShardEndpointOptions {
  /** Id for logs and messages. Default: a UUID. */
  id?: string;
  /** Put the leg on this leg's shard (to bridge them). Default: the shard with the fewest legs. */
  near?: ShardEndpoint;
}

interface Shard {
  index: number;
  worker: Worker;
  pending: Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>;
  endpoints: Map<string, ShardEndpoint>;
  bridges: Map<string, ShardBridge>;
  mixers: Map<string, ShardMixer>;
  /** Legs asked for and not yet created: counted as load, so legs asked for at once spread over the shards. */
  creating: number;
  alive: boolean;
}

type ShardEndpointEvents = Pick<MediaEndpointEvents, 'dtmf' | 'rtpTimeout' | 'latched' | 'closed'>;

/** A leg on a shard: the main thread's handle on a `MediaEndpoint` in a worker. */
export class ShardEndpoint extends TypedEmitter<ShardEndpointEvents> {
  readonly id: string;
  /** The shard (worker index) the leg lives on. */
  readonly shard: number;
  /** Local RTP port (RTCP on port + 1). */
  readonly port: number;
  readonly #engine: ShardedMediaEngine;
  #state: 'open' | 'closed' = 'open';
  #closing: Promise<void> | undefined;
  /** The figures the shard reported at close. */
  #finalStats: EndpointStats | undefined;

  constructor(engine: ShardedMediaEngine, id: string, shard: number, port: number) {
    super();
    this.#engine = engine;
    this.id = id;
    this.shard = shard;
    this.port = port;
  }

  get state(): 'open' | 'closed' {
    return this.#state;
  }

  /** Address, ports and formats for our SDP. */
  localDescription(): LocalMedia {
    return this.#engine.localDescriptionFor(this.port);
  }

  /** Set (or change) the far end; throws at once on an unknown codec, like `MediaEndpoint.setRemote`. */
  setRemote(remote: RemoteMedia): void {
    this.#assertOpen();
    const known = remote.codec ? codecByName(remote.codec) : remote.payloadType === 0 || remote.payloadType === 8;
    if (!known) throw new Error(`unknown codec for payload type ${remote.payloadType}`);
    this.#send({ op: 'setRemote', endpoint: this.id, remote });
  }

  setDirection(direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive'): void {
    this.#assertOpen();
    this.#send({ op: 'setDirection', endpoint: this.id, direction });
  }

  setRtpTimeout(ms: number): void {
    this.#assertOpen();
    this.#send({ op: 'setRtpTimeout', endpoint: this.id, ms });
  }

  /** Send DTMF: RFC 4733 events when negotiated, else in-band tones. Resolves when sent. */
  async sendDtmf(digits: string): Promise<void> {
    this.#assertOpen();
    await this.#engine.request(this.shard, { op: 'sendDtmf', endpoint: this.id, digits });
  }

  /** Quality figures, from the shard; on a closed leg, those at close (`MediaWorkerExitedError` when its shard died first). */
  async stats(): Promise<EndpointStats> {
    if (this.#finalStats) return this.#finalStats;
    try {
      return (await this.#engine.request(this.shard, { op: 'stats', endpoint: this.id })) as EndpointStats;
    } catch (error) {
      // Closed while asking: the closed event, which comes first, brought the final figures.
      if (this.#finalStats) return this.#finalStats;
      throw error;
    }
  }

  /** Speak `text` (synthesized on the leg's shard). Resolves like `MediaEndpoint.say`. */
  say(text: string, options: { voice?: string; language?: string; loop?: number; signal?: AbortSignal } = {}): Promise<PlayResult> {
    const { signal, ...rest } = options;
    return this.#operation({ op: 'say', endpoint: this.id, text, ...rest }, signal, 'closed' as PlayResult);
  }

  /** Fetch (within `options.policy`, on the leg's shard) and play a WAV or MP3 URL. */
  playUrl(url: string, options: PlayUrlOptions): Promise<PlayResult> {
    const policy = fetchPolicyOf(options.policy); // only the policy's own fields cross the thread
    return this.#operation({ op: 'playUrl', endpoint: this.id, url, policy, ...(options.loop === undefined ? {} : { loop: options.loop }) }, options.signal, 'closed' as PlayResult);
  }

  /** Play a call-progress tone (`tone(name)` on the shard). */
  playTone(name: ToneName, options: { loop?: boolean; signal?: AbortSignal } = {}): Promise<PlayResult> {
    return this.#operation({ op: 'playTone', endpoint: this.id, tone: name, ...(options.loop === undefined ? {} : { loop: options.loop }) }, options.signal, 'closed' as PlayResult);
  }

  /** Play 8 kHz PCM (copied to the shard). `loop`: times to play, 0 = until aborted; default 1. */
  playPcm(pcm: Int16Array, options: { loop?: number; signal?: AbortSignal } = {}): Promise<PlayResult> {
    return this.#operation({ op: 'playPcm', endpoint: this.id, pcm, ...(options.loop === undefined ? {} : { loop: options.loop }) }, options.signal, 'closed' as PlayResult);
  }

  /** Collect digits (Twilio <Gather> semantics), on the shard. */
  collectDigits(options: CollectDigitsOptions = {}): Promise<CollectDigitsResult> {
    const { signal, ...rest } = options;
    return this.#operation({ op: 'collectDigits', endpoint: this.id, options: rest }, signal, { digits: '', reason: 'closed' } as CollectDigitsResult);
  }

  /** Answering machine detection, on the shard: only the decision crosses back. */
  detectMachine(options: MachineDetectionOptions): Promise<MachineDetectionResult> {
    const { signal, ...rest } = options;
    return this.#operation({ op: 'detectMachine', endpoint: this.id, options: rest }, signal, new MachineDetector(rest).stop('closed'));
  }

  /** Record to a WAV file (written by the shard) until `signal` aborts, a limit is hit or the leg closes. */
  async record(options: RecordOptions): Promise<RecordResult> {
    this.#assertOpen();
    const { signal, ...rest } = options;
    return (await this.#engine.request(this.shard, { op: 'record', endpoint: this.id, options: rest }, signal)) as RecordResult;
  }

  /**
   * Stream the leg's audio to a WebSocket and play what comes back (the
   * `stream` action); the socket lives on the leg's shard. `result` settles
   * when the stream ends; `signal` ends it.
   */
  stream(options: ShardStreamOptions & { signal?: AbortSignal }): ShardStream {
    const { signal, ...rest } = options;
    const stream = new ShardStream();
    if (this.#state !== 'open') {
      stream.result = Promise.reject(new MediaEndpointClosedError(this.id));
      return stream;
    }
    let request = 0;
    stream.result = this.#engine.request(this.shard, { op: 'stream', endpoint: this.id, options: rest }, signal, (id) => {
      request = id;
      this.#engine.trackStream(id, stream);
    }) as Promise<AudioStreamResult>;
    // The reply comes after the stream's last event (messages keep their order), so it can stop relaying then.
    const forget = (): void => this.#engine.untrackStream(request);
    stream.result.then(forget, forget);
    return stream;
  }

  /** Bridge with `other` (same shard: create it with `near`). */
  bridge(other: ShardEndpoint): Promise<ShardBridge> {
    return this.#engine.bridge(this, other);
  }

  /** Close the leg and release its ports. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#engine
      .request(this.shard, { op: 'close', endpoint: this.id })
      .catch(() => undefined)
      .then(() => this.markClosed());
    return this.#closing;
  }

  /** @internal The shard reported the leg closed (with its final `stats`), or died (without). */
  markClosed(stats?: EndpointStats): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#finalStats = stats;
    this.emit('closed');
  }

  /** A long-running command; on a closed (or dead) leg it resolves `closed` like the in-process endpoint. */
  async #operation<T>(command: ShardCommand, signal: AbortSignal | undefined, closed: T): Promise<T> {
    if (this.#state !== 'open') return closed;
    try {
      return (await this.#engine.request(this.shard, command, signal)) as T;
    } catch (error) {
      if (this.#state !== 'open') return closed;
      throw error;
    }
  }

  #send(command: ShardCommand): void {
    // Fire and forget like the in-process setters; a failure (leg gone) is logged by the engine.
    this.#engine.request(this.shard, command).catch((error: unknown) => this.#engine.logFailure(this.id, command.op, error));
  }

  #assertOpen(): void {
    if (this.#state !== 'open') throw new MediaEndpointClosedError(this.id);
  }
}

/** An audio stream running on a shard: the `AudioStreamSession` events, relayed. */
export class ShardStream extends TypedEmitter<AudioStreamEvents> {
  /** Settles when the stream ends, like `AudioStreamSession.start()`. */
  result!: Promise<AudioStreamResult>;
}

/** Two bridged legs (on one shard, or across two). Closing either leg, or this, unbridges. */
export class ShardBridge extends TypedEmitter<{ closed: [] }> {
  readonly id: string;
  /** The shards holding the two legs (the same one twice for a bridge within a shard). */
  readonly shards: readonly [number, number];
  readonly #engine: ShardedMediaEngine;
  #closed = false;

  constructor(engine: ShardedMediaEngine, id: string, shards: readonly [number, number]) {
    super();
    this.#engine = engine;
    this.id = id;
    this.shards = shards;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** True when the legs are on different shards (audio crosses through shared memory). */
  get crossesShards(): boolean {
    return this.shards[0] !== this.shards[1];
  }

  /** Unbridge (both sides). Idempotent. */
  close(): void {
    if (this.#closed) return;
    for (const shard of new Set(this.shards)) this.#engine.request(shard, { op: 'unbridge', bridge: this.id }).catch(() => undefined);
    this.markClosed();
  }

  /** @internal */
  markClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.emit('closed');
  }
}

/** A member of a `ShardMixer`. */
export class ShardMixerMember {
  readonly endpoint: ShardEndpoint;
  /** @internal The link id when the leg is on another shard than the room. */
  readonly link: string | undefined;
  readonly #mixer: ShardMixer;
  readonly #id: string;

  constructor(mixer: ShardMixer, id: string, endpoint: ShardEndpoint, link: string | undefined) {
    this.#mixer = mixer;
    this.#id = id;
    this.endpoint = endpoint;
    this.link = link;
  }

  setMuted(muted: boolean): void {
    this.#mixer.update(this.#id, { muted });
  }

  setHold(hold: boolean): void {
    this.#mixer.update(this.#id, { hold });
  }

  /** Leave the conference (the leg stays up). */
  remove(): void {
    this.#mixer.removeMember(this.#id);
  }
}

/**
 * A conference mixer on one shard. Members on the same shard mix directly;
 * a member on another shard joins through a pair of `FrameRing`s (one tick of
 * delay each way). Put legs you know will meet on the room's shard with
 * `createEndpoint({ near })` to spare that.
 */
export class ShardMixer extends TypedEmitter<{ memberLeft: [ShardEndpoint]; closed: [] }> {
  readonly id: string;
  readonly shard: number;
  readonly #engine: ShardedMediaEngine;
  readonly #members = new Map<string, ShardMixerMember>();
  #nextMember = 1;
  #closed = false;

  constructor(engine: ShardedMediaEngine, id: string, shard: number) {
    super();
    this.#engine = engine;
    this.id = id;
    this.shard = shard;
  }

  get size(): number {
    return this.#members.size;
  }

  /** Add a leg (any shard); it hears the room instead of any bridge it was in. */
  async add(endpoint: ShardEndpoint, options: { muted?: boolean; hold?: boolean } = {}): Promise<ShardMixerMember> {
    if (this.#closed) throw new Error('mixer is closed');
    const memberId = `${this.id}-m${this.#nextMember++}`;
    if (endpoint.shard === this.shard) {
      const member = new ShardMixerMember(this, memberId, endpoint, undefined);
      this.#members.set(memberId, member);
      await this.#engine.request(this.shard, { op: 'mixerAdd', mixer: this.id, member: memberId, endpoint: endpoint.id, ...options });
      return member;
    }
    const toRoom = new FrameRing();
    const fromRoom = new FrameRing();
    const link = `${memberId}-link`;
    const member = new ShardMixerMember(this, memberId, endpoint, link);
    this.#members.set(memberId, member);
    // The leg's side is the same as one side of a bridge across shards; when the leg closes, the link ends and the member leaves.
    this.#engine.trackLink(endpoint.shard, link, () => this.removeMember(memberId));
    await Promise.all([
      this.#engine.request(endpoint.shard, { op: 'crossBridge', bridge: link, endpoint: endpoint.id, out: toRoom.buffer, in: fromRoom.buffer }),
      this.#engine.request(this.shard, { op: 'mixerAdd', mixer: this.id, member: memberId, link: { fromLeg: toRoom.buffer, toLeg: fromRoom.buffer }, ...options }),
    ]);
    return member;
  }

  /** Play a call-progress tone to the whole room (not to members on hold). */
  playTone(name: ToneName, options: { loop?: boolean; signal?: AbortSignal } = {}): Promise<PlayResult> {
    if (this.#closed) return Promise.resolve('closed');
    return this.#engine.request(this.shard, { op: 'mixerPlayTone', mixer: this.id, tone: name, ...(options.loop === undefined ? {} : { loop: options.loop }) }, options.signal) as Promise<PlayResult>;
  }

  /** Play 8 kHz PCM to the whole room. `loop`: times, 0 = until aborted; default 1. */
  playPcm(pcm: Int16Array, options: { loop?: number; signal?: AbortSignal } = {}): Promise<PlayResult> {
    if (this.#closed) return Promise.resolve('closed');
    return this.#engine.request(this.shard, { op: 'mixerPlayPcm', mixer: this.id, pcm, ...(options.loop === undefined ? {} : { loop: options.loop }) }, options.signal) as Promise<PlayResult>;
  }

  /**
   * Record the whole room (everything audible, announcements included) to a
   * WAV file written by the room's shard, until `signal` aborts or the room
   * closes; resolves with what was written.
   */
  record(path: string, options: { signal?: AbortSignal } = {}): Promise<RecordingInfo> {
    if (this.#closed) return Promise.reject(new Error('mixer is closed'));
    return this.#engine.request(this.shard, { op: 'mixerRecord', mixer: this.id, path }, options.signal) as Promise<RecordingInfo>;
  }

  /** Remove every member and stop. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#engine.request(this.shard, { op: 'mixerClose', mixer: this.id }).catch(() => undefined);
    this.markClosed();
  }

  /** @internal */
  update(memberId: string, change: { muted?: boolean; hold?: boolean }): void {
    if (!this.#members.has(memberId)) return;
    this.#engine.request(this.shard, { op: 'mixerUpdate', mixer: this.id, member: memberId, ...change }).catch(() => undefined);
  }

  /** @internal The member left (removed here, its leg closed, or the room shard said so). Idempotent. */
  removeMember(memberId: string): void {
    const member = this.#members.get(memberId);
    if (!member) return;
    this.#members.delete(memberId);
    this.#engine.request(this.shard, { op: 'mixerRemove', mixer: this.id, member: memberId }).catch(() => undefined);
    if (member.link) this.#engine.endLink(member.endpoint.shard, member.link);
    this.emit('memberLeft', member.endpoint);
  }

  /** @internal */
  markClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const id of [...this.#members.keys()]) this.removeMember(id);
    this.emit('closed');
  }
}

export class ShardedMediaEngine {
  readonly #options: ShardedMediaEngineOptions;
  readonly #logger: Logger;
  readonly #shards: Shard[] = [];
  /** Member links of rooms across shards, by link id: what to do when the leg's side ends. */
  readonly #links = new Map<string, { shard: number; onEnd: () => void }>();
  /** Running audio streams by request id. */
  readonly #streams = new Map<number, ShardStream>();
  #nextId = 1;
  #closed = false;

  constructor(options: ShardedMediaEngineOptions = {}) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    const workers = Math.max(1, options.workers ?? os.availableParallelism());
    const portMin = options.portMin ?? mediaDefaults.portMin;
    const min = portMin + (portMin % 2);
    const max = options.portMax ?? mediaDefaults.portMax;
    // Even-sized slices of whole RTP/RTCP pairs, one per shard.
    const pairs = Math.floor((max - min + 1) / 2);
    const perShard = Math.floor(pairs / workers);
    if (perShard < 1) throw new RangeError(`port range ${min}-${max} is too small for ${workers} media shards`);
    const url = options.workerUrl ?? new URL('./shard-worker.js', import.meta.url);
    // Only plain options cross (workerData); what they leave out takes `mediaDefaults` on the shard.
    const { workers: _workers, workerUrl: _url, logger: _logger, ...engineOptions } = options;
    for (let index = 0; index < workers; index++) {
      const shardOptions: ShardOptions = { ...engineOptions, index, portMin: min + index * perShard * 2, portMax: min + (index + 1) * perShard * 2 - 1 };
      const shard: Shard = { index, worker: new Worker(url, { workerData: shardOptions }), pending: new Map(), endpoints: new Map(), bridges: new Map(), mixers: new Map(), creating: 0, alive: true };
      shard.worker.on('message', (message: ShardMessage) => this.#onMessage(shard, message));
      shard.worker.on('error', (error) => this.#logger.error({ err: error, shard: index }, 'media shard failed'));
      shard.worker.on('exit', (code) => this.#onExit(shard, code));
      this.#shards.push(shard);
    }
  }

  /** Number of shards (worker threads). */
  get shardCount(): number {
    return this.#shards.length;
  }

  /** Open legs per shard. */
  get endpointsPerShard(): number[] {
    return this.#shards.map((s) => s.endpoints.size);
  }

  /** Create a leg on the shard of `near`, or on the least-loaded live shard. */
  async createEndpoint(options: CreateShardEndpointOptions = {}): Promise<ShardEndpoint> {
    if (this.#closed) throw new Error('media engine is closed');
    const shard = options.near ? this.#shards[options.near.shard] : this.#leastLoaded();
    if (!shard?.alive) throw new Error('no live media shard');
    const id = options.id ?? randomUUID();
    shard.creating += 1;
    let port: number;
    try {
      ({ port } = (await this.request(shard.index, { op: 'create', endpoint: id })) as { port: number });
    } finally {
      shard.creating -= 1;
    }
    const endpoint = new ShardEndpoint(this, id, shard.index, port);
    shard.endpoints.set(id, endpoint);
    endpoint.once('closed', () => shard.endpoints.delete(id));
    return endpoint;
  }

  /**
   * Bridge two legs. On one shard the bridge is the in-process `Bridge`; on
   * two, each direction crosses through a `FrameRing` in shared memory (one
   * tick of added delay, no message per frame). Creating the second leg
   * with `{ near: first }` keeps a bridge on one shard.
   */
  async bridge(a: ShardEndpoint, b: ShardEndpoint): Promise<ShardBridge> {
    if (a === b) throw new Error('cannot bridge a leg to itself');
    const id = `bridge-${this.#nextId++}`;
    const bridge = new ShardBridge(this, id, [a.shard, b.shard]);
    for (const index of new Set(bridge.shards)) {
      const shard = this.#shards[index]!;
      shard.bridges.set(id, bridge);
      bridge.once('closed', () => shard.bridges.delete(id));
    }
    if (a.shard === b.shard) {
      await this.request(a.shard, { op: 'bridge', bridge: id, a: a.id, b: b.id });
      return bridge;
    }
    const aToB = new FrameRing();
    const bToA = new FrameRing();
    try {
      await Promise.all([
        this.request(a.shard, { op: 'crossBridge', bridge: id, endpoint: a.id, out: aToB.buffer, in: bToA.buffer }),
        this.request(b.shard, { op: 'crossBridge', bridge: id, endpoint: b.id, out: bToA.buffer, in: aToB.buffer }),
      ]);
    } catch (error) {
      bridge.close();
      throw error;
    }
    return bridge;
  }

  /** A conference mixer on the shard of `near` (a leg), or on the least-loaded shard. */
  async createMixer(options: { near?: ShardEndpoint } = {}): Promise<ShardMixer> {
    if (this.#closed) throw new Error('media engine is closed');
    const shard = options.near ? this.#shards[options.near.shard] : this.#leastLoaded();
    if (!shard?.alive) throw new Error('no live media shard');
    const mixer = new ShardMixer(this, `mixer-${this.#nextId++}`, shard.index);
    shard.mixers.set(mixer.id, mixer);
    mixer.once('closed', () => shard.mixers.delete(mixer.id));
    await this.request(shard.index, { op: 'mixerCreate', mixer: mixer.id });
    return mixer;
  }

  /** @internal Call `onEnd` when the link (one side of a cross-shard pair) ends on `shard`. */
  trackLink(shard: number, link: string, onEnd: () => void): void {
    this.#links.set(link, { shard, onEnd });
  }

  /** @internal End a link from the main thread's side. */
  endLink(shard: number, link: string): void {
    if (!this.#links.delete(link)) return;
    this.request(shard, { op: 'unbridge', bridge: link }).catch(() => undefined);
  }

  /** Jitter-buffer counters and event-loop load of every shard. */
  diagnostics(): Promise<ShardDiagnostics[]> {
    return Promise.all(this.#shards.map((s) => (s.alive ? (this.request(s.index, { op: 'diagnostics' }) as Promise<ShardDiagnostics>) : Promise.resolve({ endpoints: 0, jitter: { lost: 0, late: 0, discarded: 0, overflow: 0, shrunk: 0 }, eventLoopUtilization: 0, clockSkipped: 0 }))));
  }

  /** Close every leg and stop the workers. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(
      this.#shards.map(async (shard) => {
        if (shard.alive) await this.request(shard.index, { op: 'shutdown' }).catch(() => undefined);
        await shard.worker.terminate();
      }),
    );
  }

  /** @internal Stop one shard's worker as a crash would (tests). */
  async terminateShard(index: number): Promise<void> {
    await this.#shards[index]?.worker.terminate();
  }

  /**
   * @internal A request to a shard; resolves with its reply. `signal` asks
   * the shard to end the operation early (its reply then says how it ended).
   */
  request(index: number, command: ShardCommand, signal?: AbortSignal, onId?: (id: number) => void): Promise<unknown> {
    const shard = this.#shards[index];
    if (!shard?.alive) return Promise.reject(new MediaWorkerExitedError(index, `media shard ${index} is not running`));
    const id = this.#nextId++;
    onId?.(id);
    const onAbort = (): void => {
      if (shard.alive) shard.worker.postMessage({ op: 'abort', request: id, id: this.#nextId++ });
    };
    return new Promise((resolve, reject) => {
      const settle = (): void => signal?.removeEventListener('abort', onAbort);
      shard.pending.set(id, {
        resolve: (v) => {
          settle();
          resolve(v);
        },
        reject: (e) => {
          settle();
          reject(e);
        },
      });
      shard.worker.postMessage({ ...command, id });
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** @internal Relay a stream's events (by its request id) until its reply. */
  trackStream(request: number, stream: ShardStream): void {
    this.#streams.set(request, stream);
  }

  /** @internal */
  untrackStream(request: number): void {
    this.#streams.delete(request);
  }

  /** @internal */
  localDescriptionFor(port: number): LocalMedia {
    return {
      address: this.#options.advertisedAddress ?? mediaDefaults.advertisedAddress,
      port,
      rtcpPort: port + 1,
      audio: localOffer({ codecs: this.#options.codecs ?? mediaDefaults.codecs, telephoneEventPayloadType: this.#options.telephoneEventPayloadType ?? mediaDefaults.telephoneEventPayloadType }),
    };
  }

  /** @internal */
  logFailure(endpoint: string, op: string, error: unknown): void {
    this.#logger.warn({ err: error, endpoint, op }, 'media shard command failed');
  }

  #leastLoaded(): Shard | undefined {
    let best: Shard | undefined;
    for (const shard of this.#shards) if (shard.alive && (!best || shard.endpoints.size + shard.creating < best.endpoints.size + best.creating)) best = shard;
    return best;
  }

  #onMessage(shard: Shard, message: ShardMessage): void {
    if (message.type === 'reply') {
      const pending = shard.pending.get(message.id);
      if (!pending) return;
      shard.pending.delete(message.id);
      if (message.ok) pending.resolve(message.value);
      // The class the in-process backend throws, rebuilt: a refusal is a `FetchRefusedError` here too.
      else pending.reject(fromShardError(message.error));
      return;
    }
    if (message.event === 'bridgeClosed') {
      // One side ended (a leg closed, or unbridged): end the other side too.
      shard.bridges.get(message.bridge)?.close();
      const link = this.#links.get(message.bridge);
      if (link) {
        this.#links.delete(message.bridge);
        link.onEnd();
      }
      return;
    }
    if (message.event === 'stream') {
      const stream = this.#streams.get(message.request);
      if (!stream) return;
      if (message.kind === 'started') stream.emit('started', message.data);
      else if (message.kind === 'stopped') stream.emit('stopped', message.data);
      else stream.emit('error', message.data);
      return;
    }
    if (message.event === 'memberLeft') {
      // The room shard let a member go (its leg on that shard closed).
      shard.mixers.get(message.mixer)?.removeMember(message.member);
      return;
    }
    const endpoint = shard.endpoints.get(message.endpoint);
    if (!endpoint) return;
    switch (message.event) {
      case 'dtmf':
        endpoint.emit('dtmf', message.dtmf);
        break;
      case 'rtpTimeout':
        endpoint.emit('rtpTimeout');
        break;
      case 'latched':
        endpoint.emit('latched', { address: message.address, port: message.port });
        break;
      case 'closed':
        endpoint.markClosed(message.stats);
        break;
    }
  }

  /** A shard that exits (crash or terminate) ends its legs; the others go on. */
  #onExit(shard: Shard, code: number): void {
    shard.alive = false;
    if (!this.#closed) this.#logger.error({ shard: shard.index, code }, 'media shard exited; its calls lose media');
    for (const pending of shard.pending.values()) pending.reject(new MediaWorkerExitedError(shard.index));
    shard.pending.clear();
    // A bridge across shards also ends on the surviving side; rooms here end; members linked from here leave their rooms.
    for (const bridge of [...shard.bridges.values()]) bridge.close();
    for (const mixer of [...shard.mixers.values()]) mixer.markClosed();
    for (const [id, link] of [...this.#links]) {
      if (link.shard !== shard.index) continue;
      this.#links.delete(id);
      link.onEnd();
    }
    for (const endpoint of [...shard.endpoints.values()]) endpoint.markClosed();
  }
}
