import { Wallet } from '../billing/wallet.js';
import { CallLeg } from '../legs/call-leg.js';
import type { MediaBackend } from '../media/call-media.js';
import type { IncomingCall } from '../sip/ua/incoming-call.js';
import type { Clock } from '../shared/clock.js';
import { isHangupCause } from '../shared/call-codes.js';
import { isAppError } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import type { ClaimedNumber } from '../store/repos/number-repo.js';
import type { CallRecord } from '../store/repos/call-repo.js';
import type { Store } from '../store/store.js';
import type { CallSession } from './call-session.js';
import type { CallRecords } from './call-records.js';
import { sipStatusOfCause } from '../legs/sip-status-of-cause.js';
import { dialledTarget } from './dialled-target.js';
import type { Dialer } from './dialer.js';
import { SoftphoneAuthenticator, type SoftphoneCaller } from './softphone-authenticator.js';

export interface SoftphoneCallsOptions {
  store: Store;
  media: MediaBackend;
  clock: Clock;
  log: Logger;
  records: CallRecords;
  dialer: Dialer;
  sipDomain: string;
  /** A wrong digest answer from `address` (SPEC §13: sources that keep guessing are banned). */
  authFailed(address: string): void;
  /** Makes the engine's session of the agent's leg and tracks it as live. */
  startSession(record: CallRecord, leg: CallLeg, callerId: string): CallSession;
}

/** How long a softphone's direct call rings its target before it gives up (480). */
const directRingSeconds = 60;

/** Where an authenticated softphone call goes (SPEC §13), in the order the rules are tried. */
type SoftphoneRoute =
  | { kind: 'callback'; url: string }
  | { kind: 'own-number'; claim: ClaimedNumber }
  | { kind: 'direct'; target: string };

/**
 * Calls placed by agents' softphones (SPEC §13). The INVITE to a workspace
 * domain is authenticated (407, against that workspace's credentials), then
 * routed: to the user's `routing_url`, else the workspace's
 * `softphone_routing_url`, as a voice callback of an inbound call; without
 * either, directly like a PBX — an E.164 number out through the trunks or
 * the sandbox (under `allowed_destinations`, billed at the destination rate,
 * caller ID = the user's `caller_id` or the workspace's first number),
 * another user of the domain on all their devices, or a number of the
 * workspace to its `routing_url`.
 *
 * The agent's leg is a call record with direction `inbound` (it arrives at
 * the platform, as the callback's `Direction` says), `from` = the agent's
 * `sip:` address and `to` = what was dialled; it is a SIP leg, billed at the
 * SIP rate. A direct call's other leg is its child (`parent_call_id`),
 * billed at its own rate. Every refusal happens before anything is written,
 * with the SIP status that says why: 402 no funds, 403 not allowed, 404 no
 * such destination, 480 a user not registered.
 */
export class SoftphoneCalls {
  readonly #auth: SoftphoneAuthenticator;

  constructor(private readonly o: SoftphoneCallsOptions) {
    this.#auth = new SoftphoneAuthenticator(o.store, o.sipDomain, o.authFailed);
  }

  /** Whether the INVITE is a softphone's (addressed to a workspace domain): then `handle` takes it. */
  claims(incoming: IncomingCall): boolean {
    return this.#auth.isForWorkspaceDomain(incoming);
  }

  async handle(incoming: IncomingCall): Promise<void> {
    const auth = await this.#auth.authenticate(incoming);
    if (!auth.ok) return incoming.reject(auth.status, auth.reason, auth.headers);
    const caller = auth.caller;
    const log = this.o.log.child({ workspaceId: caller.workspaceId, agent: caller.aor });
    const to = await dialledTarget(this.o.store, this.o.sipDomain, incoming.request.uri);
    if (!to) return incoming.reject(404, 'Not Found (dial a number or sip:user)');
    const route = await this.#route(caller, to);
    const refusal = route.kind === 'direct' ? await this.#checkDirect(caller, route.target) : undefined;
    if (refusal) {
      log.info({ to, status: refusal.status }, 'softphone call refused');
      return incoming.reject(refusal.status, refusal.reason);
    }
    const callerId = await this.#callerId(caller);
    const claim = route.kind === 'own-number' ? route.claim : undefined;
    const draft = this.o.records.draft({
      workspaceId: caller.workspaceId, direction: 'inbound', from: caller.aor, to, numberId: claim?.id ?? null, statusUrl: claim?.statusUrl ?? null, metadata: {},
    });
    // The agent's leg holds its first minute (at the SIP rate) before anything rings, atomically with the funds check (SPEC §10).
    try {
      await this.o.store.transaction((repos) => new Wallet(repos).reserveFirstMinute({
        workspaceId: caller.workspaceId, callId: draft.record.id, destination: caller.aor, now: this.o.clock.now(),
      }));
    } catch (error) {
      if (!isAppError(error) || (error.code !== 'insufficient_funds' && error.code !== 'no_rate')) throw error;
      const { status, reason } = sipStatusOfCause(error.code);
      log.info({ to, code: error.code }, 'softphone call refused');
      return incoming.reject(status, reason);
    }
    const made = await CallLeg.fromIncoming(incoming, this.o.media, log.child({ callId: draft.record.id }));
    if ('problem' in made) {
      await this.o.records.insert(draft);
      await this.o.dialer.fail(draft.record, made.cause ?? 'sdp_not_acceptable', made.problem);
      return;
    }
    const session = this.o.startSession(draft.record, made, callerId);
    await session.moveThrough(['initiated', 'ringing'], {}, (repos) => repos.calls.insert(draft));
    log.info({ callId: session.callId, to, route: route.kind }, 'softphone call');
    if (route.kind === 'direct') return this.#connect(session, route.target);
    session.leg.ring();
    if (route.kind === 'callback') return session.run(route.url, null);
    if (!route.claim.routingUrl) {
      await this.o.records.error(session.callId, 'no_routing_url', `${to} has no routing_url; set one with PATCH /v1/numbers/${route.claim.id}`);
      await session.hangupFrom('system', 'no_routing_url');
      return;
    }
    await session.run(route.claim.routingUrl, route.claim.fallbackUrl);
  }

  async #route(caller: SoftphoneCaller, to: string): Promise<SoftphoneRoute> {
    const url = caller.credential.routingUrl ?? (await this.o.store.settings.get(caller.workspaceId)).softphoneRoutingUrl;
    if (url) return { kind: 'callback', url };
    const claim = to.startsWith('+') ? await this.o.store.numbers.get(caller.workspaceId, to) : undefined;
    return claim ? { kind: 'own-number', claim } : { kind: 'direct', target: to };
  }

  /** Why a direct call cannot go, decided before anything is written: the allow-list, the route, the funds. */
  async #checkDirect(caller: SoftphoneCaller, target: string): Promise<{ status: number; reason: string } | undefined> {
    const { workspaceId } = caller;
    const settings = await this.o.store.settings.get(workspaceId);
    if (!this.o.dialer.router.allowed(workspaceId, target, settings.allowedDestinations)) return sipStatusOfCause('destination_not_allowed');
    if (!(await this.o.dialer.router.route(workspaceId, target))) {
      // A user of the domain who exists but has no device registered is unavailable, not unknown.
      const user = target.startsWith('sip:') ? /^sip:([^@]+)@/.exec(target)?.[1] : undefined;
      const known = user !== undefined && (await this.o.store.sipCredentials.find(workspaceId, user)) !== undefined;
      return known ? { status: 480, reason: 'Temporarily Unavailable (not registered)' } : sipStatusOfCause('no_route');
    }
    try {
      await this.o.store.transaction((repos) => new Wallet(repos).checkFundsFor(workspaceId, target, 'to', this.o.clock.now()));
    } catch (error) {
      if (isAppError(error) && (error.code === 'insufficient_funds' || error.code === 'no_rate')) return sipStatusOfCause(error.code);
      throw error;
    }
    return undefined;
  }

  /** The user's `caller_id` while the workspace still owns it, else the workspace's first number, else the user's own address. */
  async #callerId(caller: SoftphoneCaller): Promise<string> {
    const own = caller.credential.callerId;
    if (own && (await this.o.store.numbers.get(caller.workspaceId, own))) return own;
    const [first] = await this.o.store.numbers.list(caller.workspaceId);
    return first?.number ?? caller.aor;
  }

  /** A direct call: the target rings (the agent hears its 180), the agent's leg is answered when it answers and the two are bridged. */
  async #connect(session: CallSession, target: string): Promise<void> {
    const left = new AbortController();
    session.leg.once('ended', () => left.abort());
    const target_ = target.startsWith('sip:') ? { kind: 'sip' as const, value: target } : { kind: 'number' as const, value: target };
    const result = await this.o.dialer.dial(session, {
      kind: 'dial', targets: [target_], callerId: undefined, timeoutSeconds: directRingSeconds, timeLimitSeconds: undefined,
      action: undefined, record: false, hangupOnStar: false,
    }, left.signal);
    if (session.leg.answered || session.leg.endInfo) {
      await session.hangupFrom('system', 'normal_clearing');
      return;
    }
    // Not answered: the agent's phone is told why (486 busy, 480 no answer, 402/403/404 when the leg was refused).
    const cause = result.cause !== undefined && isHangupCause(result.cause) ? result.cause
      : result.status === 'busy' ? 'busy' : result.status === 'no-answer' ? 'no_answer' : 'failed';
    await session.hangupFrom('system', cause);
  }
}
