import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { isIP, type AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApiServer, type ApiServerOptions } from './api/server.js';
import { consolePlugin } from './console/console-plugin.js';
import type { ApiContext } from './api/api-context.js';
import { LiveCallRouter } from './api/live/live-call-router.js';
import { performLive } from './api/live/live-operations.js';
import { NodeBus } from './cluster/node-bus.js';
import { Wallet } from './billing/wallet.js';
import type { Config } from './config/config.js';
import { CallEngine } from './engine/call-engine.js';
import { CallLiveness } from './engine/call-liveness.js';
import { recoverCalls } from './engine/call-recovery.js';
import { NodeHeartbeat } from './engine/node-heartbeat.js';
import { TrunkSupervisor } from './engine/trunk-supervisor.js';
import type { RegistrationTiming } from './engine/trunk-registration.js';
import { WorkspaceRegistrar } from './engine/workspace-registrar.js';
import { runFirstStart, type FirstStartCredentials } from './first-start.js';
import type { MediaBackend } from './media/call-media.js';
import { MediaEngine } from './media/engine.js';
import { LocalMediaBackend } from './media/local-media-backend.js';
import { ShardedMediaBackend } from './media/shard/sharded-media-backend.js';
import { SandboxCarrier } from './sandbox/sandbox-carrier.js';
import { AdvertisedHost, isWildcard } from './shared/advertised-host.js';
import { systemClock, type Clock } from './shared/clock.js';
import { fetchPolicyOf } from './shared/fetch-policy.js';
import { createLogger, type Logger } from './shared/log.js';
import { SipUserAgent, type ListenOptions } from './sip/ua/sip-user-agent.js';
import { WsTransport } from './sip/transport/ws-transport.js';
import { softphonePage } from './webrtc/softphone-page.js';
import { SourceBans } from './sip/ua/source-bans.js';
import { Store } from './store/store.js';
import { TimelineWriter } from './store/timeline-writer.js';
import { WebhookDeliverer } from './webhooks/deliverer.js';
import { EventPublisher } from './webhooks/event-publisher.js';
import { SafeHttpClient } from './webhooks/safe-http-client.js';
import { VoiceCallbackFetcher } from './webhooks/voice-callback-fetcher.js';

export interface Platform {
  config: Config;
  store: Store;
  /** Puts events in the outbox (with the repos of the transaction that causes them). */
  events: EventPublisher;
  engine: CallEngine;
  /** Calls' timelines (SPEC §14), written in batches. */
  timeline: TimelineWriter;
  /** Call media: in process, or on `config.mediaWorkers` worker threads. */
  media: MediaBackend;
  /** The REST API server (listening). */
  api: FastifyInstance;
  /** The built-in telephone network, when it runs. */
  sandbox: SandboxCarrier | undefined;
  /** The HTTP address actually bound (port 0 picks one). */
  httpUrl: string;
  publicUrl: string;
  /** The SIP address actually bound (UDP and TCP). */
  sipAddress: { host: string; port: number };
  /** The SIP over TLS address actually bound, when TLS is on (`--tls-cert`, `--tls-key`). */
  sipTlsAddress: { host: string; port: number } | undefined;
  /** Set on the first start only. */
  credentials: FirstStartCredentials | undefined;
  /** Stops everything; idempotent. `graceMs` lets running calls finish first. */
  close(graceMs?: number): Promise<void>;
  /** Settles once the platform has stopped, whoever stopped it (SIGTERM, or a drain request through the API, SPEC §16). */
  stopped: Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  clock?: Clock;
  /** An already open store (embedding, tests on a PostgreSQL schema); it is closed with the platform. */
  store?: Store;
  /** Options of the REST API server (body limit, rate limit). */
  api?: ApiServerOptions;
  /** The compiled media worker script, for `mediaWorkers` > 0 when running from TypeScript sources (tests). Default: the one beside the built code. */
  mediaWorkerUrl?: URL;
  /** How often live calls are marked alive and this node heart-beats in the store (what a restart after a crash bills up to; peers call a node dead after 15 s). Default 5 000 ms. */
  livenessIntervalMs?: number;
  /** Back-off of failed trunk registrations. Default 30 s doubling to 10 min. */
  trunkRegistrationTiming?: Partial<RegistrationTiming>;
}

/** Closes what was opened, last first; one failure does not stop the rest. */
class Closer {
  readonly #steps: Array<{ name: string; run: () => Promise<void> }> = [];
  constructor(private readonly logger: Logger) {}
  add(name: string, run: () => Promise<void>): void {
    this.#steps.push({ name, run });
  }
  async closeAll(): Promise<void> {
    for (const step of this.#steps.splice(0).reverse()) {
      try {
        await step.run();
      } catch (error) {
        this.logger.error({ err: error, component: step.name }, 'error while stopping');
      }
    }
  }
}

/**
 * The composition root: config → store → billing → webhooks → media/SIP →
 * sandbox → engine → api. Builds every room, wires them together, and
 * answers a handle that stops them in reverse order.
 */
export async function startPlatform(config: Config, options: StartOptions = {}): Promise<Platform> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const clock = options.clock ?? systemClock;
  const closer = new Closer(logger);
  const components: Record<string, boolean> = { store: false, sip: false, media: false, api: false };
  // From close() on (SIGTERM): /healthz answers 503 draining, and the engine refuses new calls.
  let draining = false;
  try {
    // Before anything is written (the first start's credentials): a bad --external-address stops the start here.
    const externalMedia = await mediaAddressOf(config.externalAddress);
    const store = options.store ?? await Store.open({ url: config.databaseUrl, nodeId: config.nodeId });
    closer.add('store', () => store.close());
    components['store'] = true;
    // Several nodes (SPEC §16): the link to the peers, before anything else starts, so an unreachable NATS stops the start here.
    const bus = config.natsUrl ? await NodeBus.connect({ url: config.natsUrl, nodeId: config.nodeId, logger: logger.child({ component: 'cluster' }) }) : undefined;
    if (bus) closer.add('nats', () => bus.close());
    // Call timelines are written in batches off the call path; closed (flushed) just before the store.
    const timeline = new TimelineWriter(store.timeline, { clock, logger: logger.child({ component: 'timeline' }), retentionDays: config.timelineRetentionDays });
    closer.add('timeline', () => timeline.close());
    timeline.startPurging();
    const credentials = await runFirstStart(store, config, clock);
    const wallet = new Wallet(store);

    const http = new SafeHttpClient();
    closer.add('http', () => http.close());
    const deliverer = new WebhookDeliverer(store, http, { schedule: config.webhookRetrySchedule, clock, logger: logger.child({ component: 'webhooks' }) });
    closer.add('webhooks', () => deliverer.close());
    const events = new EventPublisher(config.webhookRetrySchedule[0] ?? 0, deliverer.wake);
    const voiceCallbacks = new VoiceCallbackFetcher(http, { now: () => clock.now() });
    // Calls an earlier run left live (SIGKILL, power loss) end now, before SIP and the API take new ones (SPEC §18).
    // Only this node's calls (SPEC §16): another node's are its own, or, when it died, ended by the reaper of a live peer.
    await recoverCalls({ store, events, clock, logger, timeline });
    // Deliveries left pending by an earlier run (even one killed with SIGKILL) resume now, with the recovered calls' call.hangup.
    deliverer.start();

    // Which address each peer is given in Via, Contact and SDP (SPEC §13): the external one, or the local one for
    // peers on loopback and --local-networks (the sandbox's phones among them: a NAT rarely hairpins).
    const advertised = new AdvertisedHost({
      bind: config.host, external: config.externalAddress, localNetworks: config.localNetworks,
      externalMedia,
    });
    // The sandbox carrier lives on this machine and reaches SIP over loopback (or the bound address).
    const sandboxHost = isWildcard(config.host) ? '127.0.0.1' : config.host;
    const sandboxOn = config.sandbox === 'auto' ? (await store.trunks.list()).length === 0 : config.sandbox;
    const mediaLogger = logger.child({ component: 'media' });
    const engineOptions = { advertisedAddress: advertised.external, bindAddress: config.host, rtpTimeoutMs: config.rtpTimeoutSeconds * 1000, webrtcPorts: config.webrtcPorts };
    let media: MediaBackend;
    // The sandbox's phones always run in process (they need per-frame taps); with media workers they get their own engine.
    let phonesMedia: MediaEngine | undefined;
    if (config.mediaWorkers > 0) {
      const split = splitPorts(config.rtpPorts, sandboxOn);
      media = new ShardedMediaBackend({
        ...engineOptions, workers: config.mediaWorkers, portMin: split.workers.min, portMax: split.workers.max, logger: mediaLogger,
        ...(options.mediaWorkerUrl ? { workerUrl: options.mediaWorkerUrl } : {}),
      });
      if (split.phones) {
        const phones = new MediaEngine({ ...engineOptions, portMin: split.phones.min, portMax: split.phones.max, logger: logger.child({ component: 'sandbox-media' }) });
        phonesMedia = phones;
        closer.add('sandbox-media', () => phones.close());
      }
    } else {
      phonesMedia = new MediaEngine({ ...engineOptions, portMin: config.rtpPorts.min, portMax: config.rtpPorts.max, logger: mediaLogger });
      media = new LocalMediaBackend(phonesMedia);
    }
    closer.add('media', () => media.close());
    components['media'] = true;
    logger.info({ mediaWorkers: config.mediaWorkers }, config.mediaWorkers > 0 ? 'call media on worker threads' : 'call media on the main thread');
    // Softphones register as user@<workspace>.<sip-domain> with the workspace's SIP credentials.
    // Their bindings are kept in the store: those still live come back before SIP listens (SPEC §13).
    // Sources that guess passwords are banned (SPEC §13): the registrar reports failures, the user agent refuses them.
    const bans = new SourceBans({ now: () => clock.now().getTime(), logger: logger.child({ component: 'sip' }) });
    const registrar = new WorkspaceRegistrar(store, config.sipDomain, {
      now: () => clock.now().getTime(), logger: logger.child({ component: 'registrar' }), authFailed: (source) => bans.failed(source.address),
    });
    await registrar.load();
    const tls = config.tlsCert && config.tlsKey
      ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey), ...(config.tlsCa ? { ca: readFileSync(config.tlsCa) } : {}) }
      : undefined;
    const listen: ListenOptions[] = [{ protocol: 'udp', host: config.host, port: config.sipPort }, { protocol: 'tcp', host: config.host, port: config.sipPort }];
    if (tls) listen.push({ protocol: 'tls', host: config.host, port: config.sipTlsPort });
    // SIP over WebSocket (RFC 7118) for browsers, on the HTTP port once it listens (SPEC §15).
    const sipWebSocket = new WsTransport({ logger: logger.child({ component: 'sip' }) });
    const ua = new SipUserAgent({
      listen, transports: [sipWebSocket], tls, bans, advertisedHost: advertised, logger: logger.child({ component: 'sip' }), registrar,
      sdesOverInsecureTransport: config.sdesOverInsecureTransport,
    });
    await ua.start();
    closer.add('sip', () => ua.close());
    components['sip'] = true;
    const sipAddress = ua.localAddress('udp');
    const sipTlsAddress = tls ? ua.localAddress('tls') : undefined;

    let sandbox: SandboxCarrier | undefined;
    if (sandboxOn) {
      sandbox = new SandboxCarrier({
        media: phonesMedia!, platform: { host: sandboxHost, port: sipAddress.port }, host: sandboxHost, logger: logger.child({ component: 'sandbox' }),
        // The engine is built below (it routes to the sandbox); phones only ask it once calls flow.
        ownerOfCall: (callId) => engine.workspaceOfLiveCall(callId),
        policyOf: async (workspaceId) => fetchPolicyOf(await store.settings.get(workspaceId)),
      });
      await sandbox.start();
      closer.add('sandbox', () => sandbox!.close());
    }

    // Trunks register with their carriers and are pinged from now on; they un-register before SIP closes.
    const trunks = new TrunkSupervisor({ store, ua, clock, logger, ...(options.trunkRegistrationTiming ? { registrationTiming: options.trunkRegistrationTiming } : {}) });
    await trunks.reload();
    closer.add('trunks', () => trunks.close());

    let publicUrl = config.publicUrl;
    const engine = new CallEngine({
      store, events, fetcher: voiceCallbacks, media, ua, sandbox, clock, logger, dataDir: config.dataDir, publicUrl: () => publicUrl,
      registrar, sipDomain: config.sipDomain, trunks, timeline, selfAddress: { host: sandboxHost, port: sipAddress.port },
      ...(bus ? { cluster: { nodeId: config.nodeId } } : {}),
    });
    const liveCalls = new LiveCallRouter({ store, nodeId: config.nodeId, bus, perform: (request) => performLive(ctx, request), logger: logger.child({ component: 'cluster' }) });
    const ctx: ApiContext = {
      store, timeline, wallet, clock, logger, engine, sandbox, liveCalls, trunks, sipDomain: config.sipDomain, sipAddress, sipBans: bans,
      get publicUrl() { return publicUrl; },
      allowPrivateCallbacksByDefault: config.environment === 'development',
      wakeDeliverer: deliverer.wake,
      readiness: () => ({ ready: !draining && Object.values(components).every(Boolean), draining, components: { ...components } }),
    };
    // The web console and the browser softphone are served by the same server; the console reaches the platform only through the API (src/console/console-api.ts).
    const api: FastifyInstance = await buildApiServer(ctx, { ...options.api, extensions: [consolePlugin(), softphonePage, ...(options.api?.extensions ?? [])] });
    closer.add('api', async () => {
      components['api'] = false;
      // Upgraded WebSocket connections would keep the HTTP server from closing.
      await sipWebSocket.close();
      await api.close();
    });
    // Peers' requests about this node's live calls are answered from now on (and no longer once the bus closes).
    await bus?.serve((request) => performLive(ctx, request));
    await api.listen({ port: config.httpPort, host: config.host });
    sipWebSocket.attach(api.server);
    const address = api.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const httpUrl = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;
    // With port 0 the default public URL names the port actually bound.
    if (config.httpPort === 0 && config.publicUrl.endsWith(':0')) publicUrl = httpUrl;
    components['api'] = true;

    // This node in the `nodes` table (SPEC §16), beaten in the same tick that marks its calls alive; a drain asked for
    // through any node's API is noticed there and runs as SIGTERM would. Peers' addresses must be reachable: a wildcard
    // bind names the external address (or the host name) instead.
    const reachableHost = isWildcard(config.host) ? (config.externalAddress ?? os.hostname()) : config.host;
    const heartbeat = new NodeHeartbeat({
      store, events, clock, logger: logger.child({ component: 'nodes' }), timeline,
      sipAddress: `${reachableHost.includes(':') ? `[${reachableHost}]` : reachableHost}:${sipAddress.port}`,
      httpUrl: isWildcard(config.host) ? publicUrl : httpUrl,
      liveCalls: () => engine.liveCount, draining: () => draining,
      // Its outcome is heard through `stopped` (the CLI exits when it settles).
      drainRequested: () => { platform.close(config.shutdownGraceSeconds * 1000).catch(() => {}); },
    });
    await heartbeat.register();
    const liveness = new CallLiveness(store, () => engine.liveCallIds(), {
      clock, logger: logger.child({ component: 'engine' }), node: heartbeat, ...(options.livenessIntervalMs ? { intervalMs: options.livenessIntervalMs } : {}),
    });
    liveness.start();
    closer.add('liveness', () => liveness.close());
    logger.info({ httpUrl, publicUrl, sip: sipAddress, sipTls: sipTlsAddress, externalAddress: advertised.external, database: store.dialect, sandbox: sandboxOn }, 'sautikit started');

    let closed: Promise<void> | undefined;
    let settleStopped: { resolve: () => void; reject: (error: unknown) => void } = { resolve: () => {}, reject: () => {} };
    const stopped = new Promise<void>((resolve, reject) => { settleStopped = { resolve, reject }; });
    // Whoever closes the platform hears its error from close(); `stopped` is for those who only wait.
    stopped.catch(() => {});
    const platform: Platform = {
      config, store, events, engine, timeline, media, api, sandbox, httpUrl, credentials, sipAddress, sipTlsAddress, stopped,
      get publicUrl() { return publicUrl; },
      close: (graceMs = 0) => {
        closed ??= (async () => {
          draining = true;
          // OPTIONS probes now answer 503 (a load balancer stops sending calls here) and new calls are refused at once;
          // running ones get the grace period, then are hung up and billed. The next heartbeat writes `draining`.
          ua.drain();
          await engine.shutdown(graceMs);
          await closer.closeAll();
          logger.info('sautikit stopped');
        })().then(settleStopped.resolve, (error: unknown) => {
          settleStopped.reject(error);
          throw error;
        });
        return closed;
      },
    };
    return platform;
  } catch (error) {
    await closer.closeAll();
    throw error;
  }
}

/**
 * `--external-address` as an IP for SDP: a host name is resolved once, at
 * start (many carriers refuse a name in `c=`); one that does not resolve
 * stops the start with an error naming the option.
 */
async function mediaAddressOf(external: string | undefined): Promise<string | undefined> {
  if (external === undefined || isIP(external) !== 0) return external;
  try {
    return (await lookup(external)).address;
  } catch (error) {
    throw new Error(`--external-address '${external}' does not resolve: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
}

/**
 * With media workers and the sandbox, the sandbox's phones take the top
 * quarter of the RTP range (at least two pairs) and the workers the rest.
 */
function splitPorts(range: { min: number; max: number }, sandbox: boolean): { workers: { min: number; max: number }; phones?: { min: number; max: number } } {
  if (!sandbox) return { workers: range };
  const pairs = Math.floor((range.max - range.min + 1) / 2);
  const phonePairs = Math.max(2, Math.floor(pairs / 4));
  const phonesMin = range.min + (pairs - phonePairs) * 2;
  return { workers: { min: range.min, max: phonesMin - 1 }, phones: { min: phonesMin, max: range.max } };
}
