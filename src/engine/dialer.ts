import type { DialAction } from '../actions/schema.js';
import type { DialResult } from '../actions/action-context.js';
import { CallLeg, SrtpRefusedError } from '../legs/call-leg.js';
import { WebRtcPortsExhaustedError } from '../media/webrtc/webrtc-gateway.js';
import type { MediaBackend } from '../media/call-media.js';
import type { SipUserAgent } from '../sip/ua/sip-user-agent.js';
import { isCallErrorCode, isHangupCause, type CallErrorCode, type HangupCause } from '../shared/call-codes.js';
import { isAppError } from '../shared/errors.js';
import { Wallet } from '../billing/wallet.js';
import type { Store } from '../store/store.js';
import type { CallRecord } from '../store/repos/call-repo.js';
import type { LiveCall } from './live-call.js';
import type { DestinationRouter } from './destination-router.js';
import { DialProgress } from './dial-progress.js';
import { dialTargetOf } from './trunk-presentation.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import type { CallRecords } from './call-records.js';
import type { CallRecorder } from './call-recorder.js';
import { BlindTransfer } from './blind-transfer.js';
import type { OwnNumberHop } from './own-number-hop.js';
import { TransferableBridge } from './transferable-bridge.js';
import type { LegPlacer, OutboundLegRequest, Placed } from './leg-placer.js';

/** What the dialer uses of the engine's services. */
export interface DialerServices {
  clock: Clock;
  log: Logger;
  records: CallRecords;
  recorder: Pick<CallRecorder, 'recordBridge'>;
}


/** Why a leg was not placed: recorded both as its error and as its hang-up cause. */
type LegRefusal = CallErrorCode & HangupCause;

function isLegRefusal(code: string): code is LegRefusal {
  return isCallErrorCode(code) && isHangupCause(code);
}


/**
 * Places outbound legs: for `dial` (bridged to the caller, first answer wins)
 * and for POST /v1/calls (each leg runs its own actions on answer). Every leg
 * is its own call record, checked against the destination allow-list and the
 * wallet before its INVITE goes out.
 */
export class Dialer implements LegPlacer {
  /** REFER from either party of a dial's bridge (SPEC §13). */
  readonly transfer: BlindTransfer;

  constructor(
    private readonly ua: SipUserAgent,
    private readonly media: MediaBackend,
    readonly router: DestinationRouter,
    private readonly store: Store,
    private readonly services: () => DialerServices,
    /** Makes the session of a new leg (the engine's: `LiveCall`) and tracks it as live. */
    private readonly startSession: (record: CallRecord, leg: CallLeg) => LiveCall,
    sipDomain: string,
    ownNumberHop: OwnNumberHop,
  ) {
    this.transfer = new BlindTransfer(this, store, sipDomain, ownNumberHop);
  }

  /** Creates the leg's record and sends its INVITE; a refused leg ends failed with the cause. */
  async place(request: OutboundLegRequest, existing?: CallRecord): Promise<Placed> {
    const services = this.services();
    const record = existing ?? await services.records.create({
      workspaceId: request.workspaceId, direction: 'outbound', from: request.from, to: request.to, parentCallId: request.parentCallId,
      numberId: request.numberId ?? null, statusUrl: request.statusUrl ?? null, actionUrl: request.actionUrl ?? null,
      clientRequestId: request.clientRequestId ?? null, metadata: request.metadata ?? {},
    });
    const refuse = (cause: LegRefusal, message: string): Promise<Placed> => this.fail(record, cause, message);
    const settings = await this.store.settings.get(request.workspaceId);
    if (!request.routes && !this.router.allowed(request.workspaceId, request.to, settings.allowedDestinations)) {
      return refuse('destination_not_allowed', `${request.to} does not match allowed_destinations`);
    }
    // A call admitted by the API holds its first minute already; a dialled leg is admitted here, atomically.
    if (!existing) {
      try {
        await this.store.transaction((repos) => new Wallet(repos).reserveFirstMinute({
          workspaceId: request.workspaceId, callId: record.id, destination: request.to, now: services.clock.now(),
        }));
      } catch (error) {
        // The wallet refuses with insufficient_funds or no_rate: both are call codes too.
        if (isAppError(error) && isLegRefusal(error.code)) return refuse(error.code, error.message);
        throw error;
      }
    }
    // Every trunk of the prefix, in order: the leg fails over from one to the next (SPEC §13).
    const routes = request.routes ?? await this.router.routes(request.workspaceId, request.to);
    if (routes.length === 0) return refuse('no_route', /^sips?:/i.test(request.to) ? `${request.to} is not registered or not reachable` : `no trunk or sandbox reaches ${request.to}`);
    const log = services.log.child({ callId: record.id });
    const target = dialTargetOf(routes, request.from, this.ua.localAddress('udp').host, [['X-Sautikit-Call-Id', record.id]]);
    let leg: CallLeg;
    try {
      leg = await CallLeg.dial(this.ua, this.media, target, log, request.near);
    } catch (error) {
      if (error instanceof SrtpRefusedError) return refuse('sdp_not_acceptable', error.message);
      if (error instanceof WebRtcPortsExhaustedError) return refuse('webrtc_ports_exhausted', error.message);
      throw error;
    }
    const session = this.startSession(record, leg);
    // The phone may ring before the 'initiated' record is written (a slower store): listen now, record in order.
    const initiated = session.moveTo('initiated');
    leg.once('ringing', () => void initiated.then(() => session.moveTo('ringing')));
    await initiated;
    return { session };
  }

  /** Ends a leg that could not be placed: the error and the `failed` record, its reservation released. */
  async fail(record: CallRecord, cause: LegRefusal, message: string): Promise<Placed> {
    const services = this.services();
    await services.records.error(record.id, cause, message);
    const now = services.clock.now();
    const failed = await services.records.inTransaction(async (repos) => {
      await repos.reservations.release(record.id, now);
      return services.records.transitionIn(repos, record.id, 'failed', { hangup_cause: cause, hangup_by: 'system', ended_at: now.toISOString(), duration_seconds: 0 });
    });
    return { failed, cause };
  }

  /**
   * The `dial` action: ring every target, bridge the first to answer, wait for the bridge to end.
   * The caller may be unanswered yet (a softphone's direct call, SPEC §13): it then hears the
   * targets' 180 instead of our ringback, and is answered when a target answers.
   * The parent's timeline names the legs placed (each its own call, with its own timeline) and the outcome.
   */
  async dial(parent: LiveCall, action: DialAction, signal: AbortSignal): Promise<DialResult> {
    const result = await this.#dial(parent, action, signal);
    parent.note('dial', { event: 'ended', status: result.status, call_id: result.callId ?? null, duration_seconds: result.durationSeconds });
    return result;
  }

  async #dial(parent: LiveCall, action: DialAction, signal: AbortSignal): Promise<DialResult> {
    const call = parent.cdr;
    const callerId = action.callerId ?? parent.callerId ?? (call.direction === 'inbound' ? call.to : call.from);
    // A caller ID the app chose must be the workspace's own (SPEC §13): no number spoofing through dial.
    if (action.callerId !== undefined && !(await this.router.callerIdAllowed(call.workspaceId, action.callerId))) {
      await this.services().records.error(call.id, 'caller_id_not_allowed', `callerId ${action.callerId} is not a number of this workspace (see GET /v1/numbers) nor a sip: URI of its domain`);
      return { status: 'failed', callId: undefined, durationSeconds: 0 };
    }
    const placed = await Promise.all(action.targets.map((target) => this.place({
      workspaceId: call.workspaceId, from: callerId, to: target.value, parentCallId: call.id, metadata: {}, near: parent.leg.media,
    })));
    parent.note('dial', {
      event: 'placed',
      legs: placed.map((p, i) => ('session' in p
        ? { call_id: p.session.callId, to: action.targets[i]!.value, status: p.session.status }
        : { call_id: p.failed.id, to: action.targets[i]!.value, status: p.failed.status, cause: p.cause })),
    });
    const ringing = placed.flatMap((p) => ('session' in p ? [p.session] : []));
    if (ringing.length === 0) return { status: 'failed', callId: undefined, durationSeconds: 0, cause: placed.find((p) => 'cause' in p)?.cause };

    const early = !parent.leg.answered;
    // An unanswered caller (an agent's softphone dialling out) hears its own phone ring from our 180; an answered
    // one hears our ringback, or a target's early media (183 with SDP) when its carrier sends some.
    if (early) for (const leg of ringing) leg.leg.once('ringing', () => parent.leg.ring());
    const progress = early ? undefined : new DialProgress(parent.leg.media, this.media, signal);
    progress?.start(ringing);
    const winner = await this.firstAnswer(ringing, action.timeoutSeconds * 1000, signal);
    await progress?.stop();
    for (const other of ringing) if (other !== winner) await other.hangupFrom('system', winner ? 'answered_elsewhere' : signal.aborted ? 'canceled' : 'no_answer');
    if (!winner) {
      const statuses = ringing.map((s) => s.status);
      const status = signal.aborted ? 'canceled' : statuses.every((s) => s === 'busy') ? 'busy' : statuses.some((s) => s === 'no-answer') ? 'no-answer' : 'failed';
      return { status, callId: undefined, durationSeconds: 0 };
    }
    if (early) {
      parent.leg.answer();
      await parent.answered();
    }
    await winner.answered();
    parent.note('dial', { event: 'answered', call_id: winner.callId, to: winner.cdr.to });
    const bridge = await TransferableBridge.start(this.media, this.transfer, callerId, parent, winner);
    const recording = action.record ? this.services().recorder.recordBridge(parent, winner) : undefined;
    const stop = () => bridge.stop();
    signal.addEventListener('abort', stop, { once: true });
    const limit = action.timeLimitSeconds ? setTimeout(stop, action.timeLimitSeconds * 1000) : undefined;
    const onStar = (digit: string) => {
      if (digit === '*' && action.hangupOnStar) stop();
    };
    parent.leg.on('dtmf', onStar);
    // Either side may have left while the bridge was being made (a softphone's CANCEL races the answer).
    if (signal.aborted || parent.leg.endInfo || winner.leg.endInfo) stop();
    await bridge.whenDone();
    if (limit) clearTimeout(limit);
    parent.leg.off('dtmf', onStar);
    signal.removeEventListener('abort', stop);
    bridge.close();
    await recording?.stop();
    const far = bridge.far;
    // The dialled leg is hung up by the platform when the caller left, the time limit passed or * was pressed
    // (unless the caller transferred it elsewhere with a REFER: it lives on without this dial).
    if (!bridge.handedOff) await far.hangupFrom('system', action.timeLimitSeconds && !far.leg.endInfo && !signal.aborted ? 'time_limit' : 'normal_clearing');
    return { status: 'completed', callId: far.callId, durationSeconds: far.cdr.durationSeconds ?? 0 };
  }

  /** The first leg to answer, or undefined when none did within the timeout (or the caller left). */
  firstAnswer(sessions: LiveCall[], timeoutMs: number, signal: AbortSignal): Promise<LiveCall | undefined> {
    return new Promise((resolve) => {
      let pending = sessions.length;
      let done = false;
      const finish = (winner: LiveCall | undefined) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(winner);
      };
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      const onAbort = () => finish(undefined);
      signal.addEventListener('abort', onAbort, { once: true });
      for (const session of sessions) {
        if (session.leg.answered) return finish(session);
        session.leg.once('answered', () => finish(session));
        session.leg.once('ended', () => {
          pending -= 1;
          if (pending === 0) finish(undefined);
        });
      }
    });
  }
}
