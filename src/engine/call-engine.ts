import { BlockList, isIP } from 'node:net';
import { lookupRate } from '../billing/rate-table.js';
import type { Wallet } from '../billing/wallet.js';
import { CallLeg } from '../legs/call-leg.js';
import { userOf } from '../legs/uri-user.js';
import type { MediaBackend } from '../media/call-media.js';
import { sandboxCallHeader, type SandboxCarrier } from '../sandbox/sandbox-carrier.js';
import type { IncomingCall } from '../sip/ua/incoming-call.js';
import type { Registrar } from '../sip/ua/registrar.js';
import type { SipUserAgent } from '../sip/ua/sip-user-agent.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import { parseE164 } from '../shared/phone-number.js';
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
import { Dialer } from './dialer.js';
import type { EngineServices } from './engine-services.js';
import { SpendGuard } from './spend-guard.js';
import { StreamRunner } from './stream-runner.js';
import { VoicemailRecorder } from './voicemail-recorder.js';

export interface CallEngineOptions {
  store: Store;
  wallet: Wallet;
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
}

/** An outbound call accepted by the API, to be placed now. */
export interface Origination {
  record: CallRecord;
  /** Fetched on answer: action_url / voice_callback_url, or the from number's routing_url. */
  answerUrl: string;
  fallbackUrl: string | null;
  ringTimeoutSeconds: number;
  timeLimitSeconds: number | undefined;
  record_: boolean;
}

/**
 * The call engine: takes INVITEs from trunks and the sandbox, places
 * outbound calls, keeps the registry of live calls for live control, and
 * stops them on shutdown.
 */
export class CallEngine {
  readonly #o: CallEngineOptions;
  readonly #live = new Map<string, CallSession>();
  readonly #services: EngineServices;
  readonly #dialer: Dialer;
  readonly #log: Logger;
  readonly conferences: ConferenceService;
  #accepting = true;

  constructor(options: CallEngineOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'engine' });
    const records = new CallRecords(options.store, options.events, options.clock);
    const router = new DestinationRouter(options.store, () => options.sandbox?.address, options.registrar, options.sipDomain);
    this.conferences = new ConferenceService(options.store, options.wallet, options.events, options.media, options.clock, this.#log, options.dataDir, options.publicUrl);
    this.#dialer = new Dialer(options.ua, options.media, router, options.store, options.wallet, () => this.#services, (s) => this.#track(s));
    this.#services = {
      clock: options.clock, log: this.#log, records, fetcher: options.fetcher,
      billing: new CallBilling(options.store, records, options.clock, options.events),
      spendGuard: new SpendGuard(options.store, options.clock),
      dialer: this.#dialer,
      conferences: this.conferences,
      streams: new StreamRunner(options.store, options.events, options.clock, options.media),
      recorder: new VoicemailRecorder(options.store, options.wallet, options.events, options.clock, options.dataDir, options.publicUrl),
      workspaceCredentials: async (workspaceId) => {
        const now = options.clock.now();
        return { secrets: (await workspaceSecrets(options.store, workspaceId, now)) ?? [], policy: await options.store.settings.get(workspaceId) };
      },
      workspacePolicy: (workspaceId) => options.store.settings.get(workspaceId),
    };
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

  #track(session: CallSession): void {
    this.#live.set(session.callId, session);
    void session.whenEnded().then(() => this.#live.delete(session.callId));
  }

  /** The BlockList of the trunks' inbound addresses, rebuilt when the (cached) trunk list changes. */
  #inbound: { trunks: readonly unknown[]; list: BlockList } | undefined;

  /** Sources whose INVITEs are calls from the telephone network: trunks' inbound addresses and the sandbox. */
  async #trustedSource(address: string, port: number): Promise<boolean> {
    const sandbox = this.#o.sandbox?.address;
    if (sandbox && sandbox.port === port && (address === sandbox.host || address === `::ffff:${sandbox.host}`)) return true;
    const trunks = await this.#o.store.trunks.listCached();
    const list = this.#inbound?.trunks === trunks ? this.#inbound.list : this.#inboundList(trunks);
    const bare = address.replace(/^::ffff:/, '');
    return list.check(bare, isIP(bare) === 6 ? 'ipv6' : 'ipv4');
  }

  #inboundList(trunks: readonly { inboundAddresses: string[] }[]): BlockList {
    const list = new BlockList();
    for (const trunk of trunks) {
      for (const entry of trunk.inboundAddresses) {
        const [net, bits] = entry.split('/');
        const type = isIP(net!) === 6 ? 'ipv6' : 'ipv4';
        if (bits === undefined) list.addAddress(net!, type);
        else list.addSubnet(net!, Number(bits), type);
      }
    }
    this.#inbound = { trunks, list };
    return list;
  }

  async #onInvite(incoming: IncomingCall): Promise<void> {
    if (!this.#accepting) return incoming.reject(503, 'Service Unavailable');
    if (!(await this.#trustedSource(incoming.remote.address, incoming.remote.port))) {
      this.#log.info({ source: incoming.remote }, 'INVITE from an unknown source refused');
      return incoming.reject(403, 'Forbidden');
    }
    const to = parseE164(userOf(incoming.request.uri) ?? '');
    const claim = to ? await this.#o.store.numbers.findClaimByNumber(to) : undefined;
    if (!to || !claim) return incoming.reject(404, 'Not Found');
    const rate = await lookupRate(this.#o.store.rates, 'inbound', to);
    const { balanceCents, reservedCents } = await this.#o.wallet.balance(claim.workspaceId);
    if (balanceCents - reservedCents < (rate?.ratePerMinuteCents ?? 0) || balanceCents <= 0) {
      this.#log.info({ workspaceId: claim.workspaceId, to }, 'inbound call refused: no funds');
      return incoming.reject(402, 'Payment Required');
    }
    const fromUser = userOf(incoming.from.uri) ?? 'anonymous';
    // The CDR is written with its first two states (below), in one transaction; its id is known now.
    const draft = this.#services.records.draft({
      workspaceId: claim.workspaceId, direction: 'inbound', from: parseE164(fromUser) ?? fromUser, to, numberId: claim.id,
      statusUrl: claim.statusUrl, metadata: {},
    });
    const record = draft.record;
    const sandboxCallId = incoming.request.headers.get(sandboxCallHeader);
    if (sandboxCallId) this.#o.sandbox?.call(sandboxCallId)?.link(record.id);
    const log = this.#log.child({ callId: record.id });
    const made = await CallLeg.fromIncoming(incoming, this.#o.media, log);
    const session = 'problem' in made ? undefined : new Session(record, made, this.#services);
    if (!session) {
      await this.#services.records.insert(draft);
      await this.#services.records.error(record.id, 'sdp_not_acceptable', (made as { problem: string }).problem);
      await this.#services.records.transition(record.id, 'failed', { hangup_cause: 'sdp_not_acceptable', hangup_by: 'system', ended_at: this.#o.clock.now().toISOString(), duration_seconds: 0 });
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

  /** Places an outbound call accepted by POST /v1/calls; it runs in the background. */
  originate(o: Origination): void {
    void this.#originate(o).catch((error: unknown) => this.#log.error({ err: error, callId: o.record.id }, 'origination failed'));
  }

  async #originate(o: Origination): Promise<void> {
    const placed = await this.#dialer.place({ workspaceId: o.record.workspaceId, from: o.record.from, to: o.record.to, parentCallId: null }, o.record);
    if (!('session' in placed)) return;
    const session = placed.session;
    const ring = setTimeout(() => void session.hangupFrom('system', 'no_answer'), o.ringTimeoutSeconds * 1000);
    const answered = await new Promise<boolean>((resolve) => {
      session.leg.once('answered', () => resolve(true));
      session.leg.once('ended', () => resolve(false));
    });
    clearTimeout(ring);
    if (!answered) return;
    await session.moveTo('in-progress');
    this.#services.spendGuard.watch(session);
    if (o.timeLimitSeconds) {
      const limit = setTimeout(() => void session.hangupFrom('system', 'time_limit'), o.timeLimitSeconds * 1000);
      session.onEnd(() => clearTimeout(limit));
    }
    if (o.record_) this.#services.recorder.recordWhole(session, session.callId, 1);
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
