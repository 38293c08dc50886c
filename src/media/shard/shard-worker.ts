/**
 * A media shard: one `MediaEngine` on a worker thread, with its own slice of
 * the RTP port range, its own 20 ms clock and its own sockets, so every
 * packet of its legs is received, processed and sent on this thread's core.
 * The main thread (`ShardedMediaEngine`) drives it with `ShardCommand`s and
 * hears its legs' events; nothing per frame crosses.
 *
 * Loaded as compiled JavaScript (`shard-worker.js` beside
 * `sharded-media-engine.js`): a worker thread cannot run the TypeScript
 * sources.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import type { MediaEndpoint } from '../endpoint.js';
import { MediaEngine } from '../engine.js';
import { AudioStreamSession } from '../fork/audio-stream.js';
import { Mixer, type MixerLeg, type MixerMember } from '../mixer.js';
import { recordMixer } from '../mixer-recording.js';
import { PcmSource } from '../sources/audio-source.js';
import { tone } from '../sources/tones.js';
import { MediaEndpointClosedError } from '../media-errors.js';
import { FrameRing } from './frame-ring.js';
import { RemoteMixerLeg } from './remote-mixer-leg.js';
import { toShardError } from './shard-errors.js';
import type { ShardCommand, ShardDiagnostics, ShardMessage, ShardOptions, ShardRequest } from './shard-protocol.js';

const port = parentPort;
if (!port) throw new Error('shard-worker must run on a worker thread');
const options = workerData as ShardOptions;

// The main thread's options as given: what they leave out takes `mediaDefaults` here, as in process.
const { index: _index, ...engineOptions } = options;
const engine = new MediaEngine(engineOptions);
const endpoints = new Map<string, MediaEndpoint>();
/** Bridges by id: both legs here (a `Bridge`), or this shard's side of one across shards. */
const bridges = new Map<string, { close(): void }>();
let elu = performance.eventLoopUtilization();
/** Conference rooms on this shard, with their members by the main thread's member id. */
const mixers = new Map<string, { mixer: Mixer<MixerLeg>; members: Map<string, { member: MixerMember<MixerLeg>; remote?: RemoteMixerLeg }> }>();
/** Running prompts, collections and recordings by request id, for `abort`. */
const running = new Map<number, AbortController>();

const post = (message: ShardMessage): void => port.postMessage(message);

function endpointOf(id: string): MediaEndpoint {
  const endpoint = endpoints.get(id);
  // Closed here (or never made): to the caller, a closed leg, as in process.
  if (!endpoint) throw new MediaEndpointClosedError(id, `no media endpoint ${id} on shard ${options.index} (closed)`);
  return endpoint;
}

async function create(id: string): Promise<{ port: number }> {
  if (endpoints.has(id)) throw new Error(`media endpoint ${id} exists on shard ${options.index}`);
  const endpoint = await engine.createEndpoint({ id });
  endpoints.set(id, endpoint);
  endpoint.on('dtmf', (dtmf) => post({ type: 'event', endpoint: id, event: 'dtmf', dtmf }));
  endpoint.on('rtpTimeout', () => post({ type: 'event', endpoint: id, event: 'rtpTimeout' }));
  endpoint.on('latched', ({ address, port: p }) => post({ type: 'event', endpoint: id, event: 'latched', address, port: p }));
  endpoint.on('closed', () => {
    endpoints.delete(id);
    post({ type: 'event', endpoint: id, event: 'closed', stats: endpoint.currentStats() });
  });
  return { port: endpoint.session.port };
}

function diagnostics(): ShardDiagnostics {
  const jitter = { lost: 0, late: 0, discarded: 0, overflow: 0, shrunk: 0 };
  for (const endpoint of endpoints.values()) {
    const s = endpoint.session.jitter.stats;
    jitter.lost += s.lost;
    jitter.late += s.late;
    jitter.discarded += s.discarded;
    jitter.overflow += s.overflow;
    jitter.shrunk += s.shrunk;
  }
  const now = performance.eventLoopUtilization();
  const utilization = performance.eventLoopUtilization(now, elu).utilization;
  elu = now;
  return { endpoints: endpoints.size, jitter, eventLoopUtilization: utilization, clockSkipped: engine.clock.skipped };
}

/** Run an abortable operation of request `id`. */
async function abortable<T>(id: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  running.set(id, controller);
  try {
    return await work(controller.signal);
  } finally {
    running.delete(id);
  }
}

/**
 * This shard's side of a bridge across shards: after every leg has taken its
 * inbound frame (the clock's mix phase), the leg's caller audio goes into
 * `out`; the leg hears what the other shard put in `in`.
 */
function crossBridge(bridgeId: string, endpoint: MediaEndpoint, outBuffer: SharedArrayBuffer, inBuffer: SharedArrayBuffer): void {
  const out = new FrameRing({ buffer: outBuffer });
  const input = new FrameRing({ buffer: inBuffer });
  let closed = false;
  const unsubscribe = engine.clock.add('mix', () => {
    if (endpoint.inboundActive) out.push(endpoint.inboundFrame);
  });
  const link = {
    close(): void {
      if (closed) return;
      closed = true;
      unsubscribe();
      detach();
      bridges.delete(bridgeId);
      post({ type: 'event', bridge: bridgeId, event: 'bridgeClosed' });
    },
  };
  const detach = endpoint.attachFeed({ read: (frame) => input.pop(frame) }, () => link.close());
  bridges.set(bridgeId, link);
}

function roomOf(id: string): NonNullable<ReturnType<typeof mixers.get>> {
  const room = mixers.get(id);
  if (!room) throw new Error(`no mixer ${id} on shard ${options.index}`);
  return room;
}

function mixerCreate(id: string): void {
  const mixer = new Mixer<MixerLeg>(engine.clock);
  const room = { mixer, members: new Map<string, { member: MixerMember<MixerLeg>; remote?: RemoteMixerLeg }>() };
  mixers.set(id, room);
  mixer.on('memberLeft', (leg) => {
    for (const [memberId, entry] of room.members) {
      if (entry.member.endpoint !== leg) continue;
      room.members.delete(memberId);
      entry.remote?.close();
      post({ type: 'event', mixer: id, member: memberId, event: 'memberLeft' });
    }
  });
}

function mixerAdd(command: Extract<ShardCommand, { op: 'mixerAdd' }>): void {
  const room = roomOf(command.mixer);
  const remote = command.link ? new RemoteMixerLeg(engine.clock, command.link.fromLeg, command.link.toLeg) : undefined;
  const leg: MixerLeg = remote ?? endpointOf(command.endpoint ?? '');
  const member = room.mixer.add(leg, { muted: command.muted ?? false, hold: command.hold ?? false });
  room.members.set(command.member, { member, ...(remote ? { remote } : {}) });
}

async function run(command: ShardCommand, id: number): Promise<unknown> {
  switch (command.op) {
    case 'mixerCreate':
      mixerCreate(command.mixer);
      return undefined;
    case 'mixerAdd':
      mixerAdd(command);
      return undefined;
    case 'mixerUpdate': {
      const entry = roomOf(command.mixer).members.get(command.member);
      if (command.muted !== undefined) entry?.member.setMuted(command.muted);
      if (command.hold !== undefined) entry?.member.setHold(command.hold);
      return undefined;
    }
    case 'mixerRemove':
      mixers.get(command.mixer)?.members.get(command.member)?.member.remove();
      return undefined;
    case 'mixerPlayTone': {
      const source = tone(command.tone, command.loop === undefined ? {} : { loop: command.loop });
      return abortable(id, (signal) => roomOf(command.mixer).mixer.play(source, { signal }));
    }
    case 'mixerPlayPcm': {
      const loop = command.loop ?? 1;
      return abortable(id, (signal) => roomOf(command.mixer).mixer.play(new PcmSource(command.pcm, { loop: loop !== 1, times: loop }), { signal }));
    }
    case 'mixerRecord':
      return abortable(id, (signal) => recordMixer(roomOf(command.mixer).mixer, command.path, signal));
    case 'mixerClose':
      mixers.get(command.mixer)?.mixer.close();
      mixers.delete(command.mixer);
      return undefined;
    case 'say': {
      const { text, voice, language, loop } = command;
      return abortable(id, (signal) => endpointOf(command.endpoint).say(text, { voice, language, loop, signal }));
    }
    case 'playUrl':
      return abortable(id, (signal) => endpointOf(command.endpoint).playUrl(command.url, { policy: command.policy, loop: command.loop, signal }));
    case 'playTone': {
      const source = tone(command.tone, command.loop === undefined ? {} : { loop: command.loop });
      return abortable(id, (signal) => endpointOf(command.endpoint).play(source, { signal }));
    }
    case 'playPcm': {
      const loop = command.loop ?? 1;
      return abortable(id, (signal) => endpointOf(command.endpoint).play(new PcmSource(command.pcm, { loop: loop !== 1, times: loop }), { signal }));
    }
    case 'collectDigits':
      return abortable(id, (signal) => endpointOf(command.endpoint).collectDigits({ ...command.options, signal }));
    case 'record':
      return abortable(id, (signal) => endpointOf(command.endpoint).record({ ...command.options, signal }));
    case 'detectMachine':
      return abortable(id, (signal) => endpointOf(command.endpoint).detectMachine({ ...command.options, signal }));
    case 'stream':
      return abortable(id, (signal) => {
        const stream = new AudioStreamSession(endpointOf(command.endpoint), { ...command.options, signal });
        stream.on('started', (data) => post({ type: 'event', request: id, event: 'stream', kind: 'started', data }));
        stream.on('stopped', (data) => post({ type: 'event', request: id, event: 'stream', kind: 'stopped', data }));
        stream.on('error', (data) => post({ type: 'event', request: id, event: 'stream', kind: 'error', data }));
        return stream.start();
      });
    case 'abort':
      running.get(command.request)?.abort();
      return undefined;
    case 'create':
      return create(command.endpoint);
    case 'setRemote':
      endpointOf(command.endpoint).setRemote(command.remote);
      return undefined;
    case 'setDirection':
      endpointOf(command.endpoint).setDirection(command.direction);
      return undefined;
    case 'setRtpTimeout':
      endpointOf(command.endpoint).setRtpTimeout(command.ms);
      return undefined;
    case 'bridge': {
      const bridge = engine.bridge(endpointOf(command.a), endpointOf(command.b));
      bridges.set(command.bridge, bridge);
      bridge.once('closed', () => {
        bridges.delete(command.bridge);
        post({ type: 'event', bridge: command.bridge, event: 'bridgeClosed' });
      });
      return undefined;
    }
    case 'crossBridge':
      crossBridge(command.bridge, endpointOf(command.endpoint), command.out, command.in);
      return undefined;
    case 'unbridge':
      bridges.get(command.bridge)?.close();
      return undefined;
    case 'sendDtmf':
      return endpointOf(command.endpoint).sendDtmf(command.digits);
    case 'stats':
      return endpointOf(command.endpoint).currentStats();
    case 'close':
      // Closing twice, or a leg already gone, is not an error (close is idempotent everywhere).
      return endpoints.get(command.endpoint)?.close();
    case 'diagnostics':
      return diagnostics();
    case 'shutdown':
      await engine.close();
      return undefined;
  }
}

port.on('message', (request: ShardRequest) => {
  run(request, request.id).then(
    (value) => post({ type: 'reply', id: request.id, ok: true, value }),
    (error: unknown) => post({ type: 'reply', id: request.id, ok: false, error: toShardError(error) }),
  );
});
