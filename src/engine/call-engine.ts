import { Wallet } from '../billing/wallet.js';
import { CallLeg, type LegProblem } from '../legs/call-leg.js';
import { userOf } from '../legs/uri-user.js';
import type { MediaBackend } from '../media/call-media.js';
import { sandboxCallHeader, type SandboxCarrier } from '../sandbox/sandbox-carrier.js';
import type { IncomingCall } from '../sip/ua/incoming-call.js';
import type { Registrar } from '../sip/ua/registrar.js';
import type { SipUserAgent } from '../sip/ua/sip-user-agent.js';
import type { Clock } from '../shared/clock.js';
import { AppError } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import type { TimelineSink } from '../shared/timeline.js';
import { normaliseDialledNumber } from '../shared/phone-number.js';
import { workspaceSipDomain } from '../shared/sip-domain.js';
import { serializeUri } from '../sip/message/uri.js';
import type { CallRecord } from '../store/repos/call-repo.js';
import type { Store } from '../store/store.js';
import type { EventPublisher } from '../webhooks/event-publisher.js';
import { workspaceSecrets } from '../webhooks/signing-secrets.js';
import type { VoiceCallbackFetcher } from '../webhooks/voice-callback-fetcher.js';
import type { VoiceAction } from '../actions/schema.js';
import { CallBilling } from './call-billing.js';
import { CallRecords } from './call-records.js';
import { ConferenceService } from './conference-service.js';
import type { CallSession } from './call-session.js';
import { CallSession as Session } from './call-session.js';
import { DestinationRouter } from './destination-router.js';
import { InboundTrunks } from './inbound-trunks.js';
import { OwnNumberHop } from './own-number-hop.js';
import type { TrunkSupervisor } from './trunk-supervisor.js';
import type { Trunk } from '../store/repos/trunk-repo.js';
import { Dialer } from './dialer.js';
import type { EngineServices } from './engine-services.js';
import { SoftphoneCalls } from './softphone-calls.js';
import { RoomHomes } from './room-homes.js';
import { InternalLegs, internalRoomHeader } from './internal-legs.js';
import { SpendGuard } from './spend-guard.js';
import { StreamRunner } from './stream-runner.js';
import { CallRecorder } from './call-recorder.js';
import { detectAnsweringMachine } from './machine-detection.js';
import type { MachineDetectionMode } from '../shared/answered-by.js';

export interface CallEngineOptions {
  store: Store;
  events: EventPublisher;
  fetcher: VoiceCallbackFetcher;
  /** Call media: in-process (`LocalMediaBackend`) or on worker threads (`ShardedMediaBackend`). */
  media: MediaBackend;
  ua: SipUserAgent;
  sandbox: SandboxCarrier | undefined;
  clock: Clock;
  logger: Logger;
  dataDir: string;
  publicUrl: () => string;
  /** Registered softphones, for dialling sip:user@<workspace domain>. */
  registrar: Registrar;
  sipDomain: string;
  /** Where calls' timeline entries go (SPEC §14). Default: nowhere. */
  timeline?: TimelineSink;
  /** Trunk registrations and OPTIONS health: down trunks are skipped, registered trunks' calls accepted. */
  trunks?: Pick<TrunkSupervisor, 'isDown' | 'registeredTrunkAt'>;
  /** Where our SIP (UDP) is reached from this machine: legs to the workspace's own numbers are sent there (`OwnNumberHop`). */
  selfAddress: { host: string; port: number };
  /** Set when several nodes form one platform (SPEC §16): this node's id; conference rooms then span nodes. */
  cluster?: { nodeId: string };
}

/**
 * The number an INVITE from a trunk calls: the Request-URI's user, except
 * when the carrier sends the call to the Contact we registered (its user is
 * the trunk's username): then the To header's user names the number.
 */
function dialledUser(incoming: IncomingCall, trunk: Trunk | undefined): string {
  const requestUser = userOf(incoming.request.uri) ?? '';
  if (trunk?.register && trunk.username !== null && requestUser === trunk.username) return userOf(incoming.request.to.uri) ?? '';
  return requestUser;
}

/** An outbound call accepted by the API, to be placed now. */
export interface Origination {
  /** The call's record, written (with its first minute reserved) by `admitOutbound`. */
  call: CallRecord;
  /** Fetched on answer: action_url / voice_callback_url, or the from number's routing_url. */
  answerUrl: string;
  fallbackUrl: string | null;
  ringTimeoutSeconds: number;
  timeLimitSeconds: number | undefined;
  /** `record: true` on POST /v1/calls: the whole call is recorded from the answer. */
  recordCall: boolean;
  /** `machine_detection` (SPEC §17): listen to who answered before fetching the answer URL. */
  machineDetection?: { mode: MachineDetectionMode; timeoutSeconds: number } | undefined;
}

/**
 * The call engine: takes INVITEs from trunks, the sandbox and agents'
 * softphones (`SoftphoneCalls`), places
 * outbound calls, keeps the registry of live calls for live control, and
 * stops them on shutdown.
 */
export class CallEngine {
  readonly #o: CallEngineOptions;
  readonly #live = new Map<string, CallSession>();
  readonly #services: EngineServices;
  readonly #dialer: Dialer;
  readonly #softphones: SoftphoneCalls;
  readonly #log: Logger;
  readonly #inboundTrunks: InboundTrunks;
  readonly #ownNumberHop: OwnNumberHop;
  readonly conferences: ConferenceService;
  #accepting = true;

  constructor(options: CallEngineOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'engine' });
    const records = new CallRecords(options.store, options.events, options.clock, options.timeline, this.#log);
    const trunks = options.trunks;
    const router = new DestinationRouter(options.store, () => options.sandbox?.address, options.registrar, options.sipDomain, (id) => trunks?.isDown(id) ?? false);
    this.#inboundTrunks = new InboundTrunks(options.store, (address) => trunks?.registeredTrunkAt(address));
    this.#ownNumberHop = new OwnNumberHop(() => options.selfAddress);
    // The room service is a component of its own (component: conference), not a part of the engine's lines.
    const rooms = options.cluster && {
      homes: new RoomHomes({ store: options.store, nodeId: options.cluster.nodeId, clock: options.clock }),
      legs: new InternalLegs({ store: options.store, ua: options.ua, media: options.media, clock: options.clock }),
    };
    this.conferences = new ConferenceService(options.store, options.events, options.media, options.clock, options.logger, options.dataDir, options.publicUrl, options.timeline, rooms);
    this.#dialer = new Dialer(options.ua, options.media, router, options.store, () => this.#services, (record, leg) => {
      const session = new Session(record, leg, this.#services);
      this.#track(session);
      return session;
    }, options.sipDomain, this.#ownNumberHop);
    this.#services = {
      clock: options.clock, log: this.#log, records, fetcher: options.fetcher,
      billing: new CallBilling(options.store, records, options.clock, options.events),
      spendGuard: new SpendGuard(options.store, options.clock),
      dialer: this.#dialer,
      conferences: this.conferences,
      streams: new StreamRunner(options.store, options.events, options.clock, options.media),
      recorder: new CallRecorder(options.store, options.events, options.clock, options.dataDir, options.publicUrl),
      workspaceCredentials: async (workspaceId) => {
        const now = options.clock.now();
        return { secrets: (await workspaceSecrets(options.store, workspaceId, now)) ?? [], policy: await options.store.settings.get(workspaceId) };
      },
      workspacePolicy: (workspaceId) => options.store.settings.get(workspaceId),
    };
    this.#softphones = new SoftphoneCalls({
      store: options.store, media: options.media, clock: options.clock, log: this.#log, records, dialer: this.#dialer, sipDomain: options.sipDomain,
      authFailed: (address) => options.ua.bans.failed(address),
      startSession: (record, leg, callerId) => {
        const session = new Session(record, leg, this.#services, { callerId });
        this.#track(session);
        return session;
      },
    });
    options.ua.on('invite', (incoming) => void this.#onInvite(incoming).catch((error: unknown) => {
      this.#log.error({ err: error }, 'inbound call failed');
      incoming.reject(500, 'Server Internal Error');
    }));
  }

  /** Whether the workspace may call `destination`: its allow-list, or one of its own softphones. */
  destinationAllowed(workspaceId: string, destination: string, allowList: readonly string[]): boolean {
    return this.#dialer.router.allowed(workspaceId, destination, allowList);
  }

  /** The SIP domain softphones of the workspace register in. */
  sipDomainOf(workspaceId: string): string {
    return workspaceSipDomain(workspaceId, this.#o.sipDomain);
  }

  /** Live registrations of the workspace's softphones. */
  registrationsOf(workspaceId: string): Array<{ aor: string; contact: string; expiresAt: Date }> {
    const domain = this.sipDomainOf(workspaceId);
    return this.#o.registrar.aors().filter((aor) => aor.endsWith(`@${domain}`)).flatMap((aor) =>
      this.#o.registrar.lookup(aor).map((b) => ({ aor, contact: serializeUri(b.contact), expiresAt: new Date(b.expiresAt) })));
  }

  /** A live call of the workspace. */
  live(workspaceId: string, callId: string): CallSession | undefined {
    const session = this.#live.get(callId);
    return session && session.cdr.workspaceId === workspaceId ? session : undefined;
  }

  /** The workspace of a live call, whatever it is. */
  workspaceOfLiveCall(callId: string): string | undefined {
    return this.#live.get(callId)?.cdr.workspaceId;
  }

  get liveCount(): number {
    return this.#live.size;
  }

  /** The ids of the calls live in this process (`CallLiveness` beats for them). */
  liveCallIds(): IterableIterator<string> {
    return this.#live.keys();
  }

  #track(session: CallSession): void {
    this.#live.set(session.callId, session);
    void session.whenEnded().then(() => this.#live.delete(session.callId));
  }

  /**
   * Sources whose INVITEs are calls from the telephone network: the sandbox, or a trunk (SPEC §11, §13).
   * The sandbox is known by transport, address and port together: it speaks UDP only, so a TCP/TLS
   * connection from the same host and port number is someone else. `self`: a leg the platform sent
   * itself to one of a workspace's numbers (`OwnNumberHop`), taken like a carrier's call.
   */
  async #sourceOf(incoming: IncomingCall): Promise<'sandbox' | 'self' | Trunk | undefined> {
    if (this.#ownNumberHop.isOurs(incoming)) return 'self';
    const { address, port } = incoming.remote;
    const protocol = incoming.protocol;
    const sandbox = this.#o.sandbox?.address;
    if (sandbox && protocol === 'udp' && sandbox.port === port && (address === sandbox.host || address === `::ffff:${sandbox.host}`)) return 'sandbox';
    return this.#inboundTrunks.match(address);
  }

  async #onInvite(incoming: IncomingCall): Promise<void> {
    // Another node's participant of a room held here (SPEC §16): not a call, so taken while draining too, as the room lives on.
    if (incoming.request.headers.get(internalRoomHeader) !== undefined) return this.conferences.acceptInternalLeg(incoming);
    // SPEC §18: from SIGTERM on, new calls are refused (RFC 3261 §21.5.4: 503, with Retry-After for a later try).
    if (!this.#accepting) return incoming.reject(503, 'Service Unavailable (shutting down)', [['Retry-After', '30']]);
    // An INVITE to a workspace's SIP domain is an agent's softphone placing a call, from wherever it is (SPEC §13).
    if (this.#softphones.claims(incoming)) return this.#softphones.handle(incoming);
    const source = await this.#sourceOf(incoming);
    if (!source) {
      this.#log.info({ source: incoming.remote }, 'INVITE from an unknown source refused');
      return incoming.reject(403, 'Forbidden');
    }
    // Carriers send numbers in every format (0712…, 712…, 254712…, +254712…): one E.164 form, in the trunk's country, for the lookup and the record.
    const countryCode = typeof source === 'string' ? undefined : source.countryCode;
    const to = normaliseDialledNumber(dialledUser(incoming, typeof source === 'string' ? undefined : source), countryCode);
    const claim = to ? await this.#o.store.numbers.findClaimByNumber(to) : undefined;
    if (!to || !claim) return incoming.reject(404, 'Not Found');
    const fromUser = userOf(incoming.from.uri) ?? 'anonymous';
    // The CDR is written with its first two states (below), in one transaction; its id is known now.
    const draft = this.#services.records.draft({
      workspaceId: claim.workspaceId, direction: 'inbound', from: normaliseDialledNumber(fromUser, countryCode) ?? fromUser, to, numberId: claim.id,
      statusUrl: claim.statusUrl, metadata: {},
    });
    const record = draft.record;
    // The first minute is reserved before the call rings, atomically with the funds check (SPEC §10).
    try {
      await this.#o.store.transaction((repos) => new Wallet(repos).reserveFirstMinute({
        workspaceId: claim.workspaceId, callId: record.id, destination: to, inbound: true, now: this.#o.clock.now(),
      }));
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== 'insufficient_funds') throw error;
      this.#log.info({ workspaceId: claim.workspaceId, to }, 'inbound call refused: no funds');
      return incoming.reject(402, 'Payment Required');
    }
    const sandboxCallId = incoming.request.headers.get(sandboxCallHeader);
    if (sandboxCallId) this.#o.sandbox?.call(sandboxCallId)?.link(record.id);
    const log = this.#log.child({ callId: record.id });
    // A trunk with `srtp: mandatory` gets 488 for plain RTP offers (SPEC §13).
    const made = await CallLeg.fromIncoming(incoming, this.#o.media, log, { srtpRequired: typeof source === 'object' && source.srtp === 'mandatory' });
    const session = 'problem' in made ? undefined : new Session(record, made, this.#services, { log });
    if (!session) {
      await this.#services.records.insert(draft);
      const problem = made as LegProblem;
      await this.#dialer.fail(record, problem.cause ?? 'sdp_not_acceptable', problem.problem);
      return;
    }
    this.#track(session);
    // The CDR, both states, their call events and webhook events commit together: one transaction, not three.
    await session.moveThrough(['initiated', 'ringing'], {}, (repos) => repos.calls.insert(draft));
    session.leg.ring();
    if (!claim.routingUrl) {
      await this.#services.records.error(record.id, 'no_routing_url', `${to} has no routing_url; set one with PATCH /v1/numbers/${claim.id}`);
      await session.hangupFrom('system', 'no_routing_url');
      return;
    }
    await session.run(claim.routingUrl, claim.fallbackUrl);
  }

  /** Whether new calls are taken (false from the start of shutdown). */
  get accepting(): boolean {
    return this.#accepting;
  }

  /**
   * Admits the calls of one POST /v1/calls: their records and the
   * reservation of each one's first minute commit in one transaction, so
   * concurrent requests cannot start more calls than the wallet covers
   * (SPEC §10, §18). Throws `insufficient_funds`/`no_rate` naming the leg's
   * field (nothing is written then), and `shutting_down` once shutdown began.
   */
  async admitOutbound(input: {
    workspaceId: string; from: string; numberId: string; legs: ReadonlyArray<{ to: string; field: string }>;
    clientRequestId: string | null; metadata: Record<string, string>; actionUrl: string; statusUrl: string | null;
  }): Promise<CallRecord[]> {
    this.#refuseWhenShuttingDown();
    const now = this.#o.clock.now();
    return this.#o.store.transaction(async (repos) => {
      const wallet = new Wallet(repos);
      const calls: CallRecord[] = [];
      for (const leg of input.legs) {
        const call = await repos.calls.create({
          workspaceId: input.workspaceId, direction: 'outbound', from: input.from, to: leg.to, numberId: input.numberId,
          clientRequestId: input.clientRequestId, metadata: input.metadata, actionUrl: input.actionUrl, statusUrl: input.statusUrl, now,
        });
        await wallet.reserveFirstMinute({ workspaceId: input.workspaceId, callId: call.id, destination: leg.to, field: leg.field, now });
        calls.push(call);
      }
      return calls;
    });
  }

  #refuseWhenShuttingDown(): void {
    if (!this.#accepting) throw new AppError('shutting_down', 'the server is shutting down and takes no new calls; retry on another node or after the restart');
  }

  /** Places an outbound call accepted by POST /v1/calls; it runs in the background. */
  originate(o: Origination): void {
    void this.#originate(o).catch((error: unknown) => this.#log.error({ err: error, callId: o.call.id }, 'origination failed'));
  }

  async #originate(o: Origination): Promise<void> {
    // Shutdown began between the 201 and now: the call is not placed (its reservation goes back).
    if (!this.#accepting) {
      await this.#dialer.fail(o.call, 'shutting_down', 'the server began shutting down before the call was placed');
      return;
    }
    const placed = await this.#dialer.place({ workspaceId: o.call.workspaceId, from: o.call.from, to: o.call.to, parentCallId: null }, o.call);
    // The dialer sees the leg as a LiveCall; the engine made it (startSession) and runs its actions.
    const session = 'session' in placed ? this.#live.get(placed.session.callId) : undefined;
    if (!session) return;
    const ring = setTimeout(() => void session.hangupFrom('system', 'no_answer'), o.ringTimeoutSeconds * 1000);
    const answered = await new Promise<boolean>((resolve) => {
      // A phone that answers at once may have done so while the record was being written.
      if (session.leg.answered) return resolve(true);
      if (session.leg.endInfo) return resolve(false);
      session.leg.once('answered', () => resolve(true));
      session.leg.once('ended', () => resolve(false));
    });
    clearTimeout(ring);
    if (!answered) return;
    await session.answered();
    if (o.timeLimitSeconds) {
      const limit = setTimeout(() => void session.hangupFrom('system', 'time_limit'), o.timeLimitSeconds * 1000);
      session.onEnd(() => clearTimeout(limit));
    }
    if (o.recordCall) this.#services.recorder.recordWhole(session, session.callId, 1);
    if (o.machineDetection) {
      // The answer URL is fetched once the detector has decided (SPEC §17); a call that ended meanwhile is not.
      await detectAnsweringMachine(session, o.machineDetection);
      if (!session.leg.answered || session.leg.endInfo) return;
    }
    await session.run(o.answerUrl, o.fallbackUrl);
  }

  /** Live control (PATCH /v1/calls/{id}). */
  async hangup(session: CallSession): Promise<void> {
    await session.hangupFrom('api', 'api_hangup');
  }

  redirect(session: CallSession, url: string): Promise<boolean> {
    return session.redirect(url);
  }

  replace(session: CallSession, actions: VoiceAction[]): void {
    session.replaceActions(actions);
  }

  /**
   * Stops taking calls, lets running ones finish for `graceMs`, then hangs
   * up the rest (they are billed as usual).
   */
  async shutdown(graceMs: number): Promise<void> {
    this.#accepting = false;
    const deadline = Date.now() + graceMs;
    while (this.#live.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await Promise.all([...this.#live.values()].map((s) => s.hangupFrom('system', 'shutdown')));
    await this.conferences.close();
  }
}
