import { isSipUri } from '../sip/message/uri.js';
import type { ReferRequest } from '../sip/ua/refer-request.js';
import type { Store } from '../store/store.js';
import { sipStatusOfCause } from '../legs/sip-status-of-cause.js';
import { dialledTarget } from './dialled-target.js';
import type { LegPlacer } from './leg-placer.js';
import type { LiveCall } from './live-call.js';
import type { OwnNumberHop } from './own-number-hop.js';

/** Who a call's far party is: the caller of an inbound call, the called party of an outbound one. */
function addressOf(call: LiveCall): string {
  return call.cdr.direction === 'inbound' ? call.cdr.from : call.cdr.to;
}

/** How long the Refer-To target may ring before the transfer fails (480). */
const transferRingMs = 30_000;

/**
 * The transferee side of a blind transfer (SPEC §13, RFC 3515): a REFER
 * from one party of a bridge asks for the OTHER party to be connected to
 * the Refer-To target. The target is routed by the rules of a softphone's
 * own calls: a number the workspace owns to that number's routing_url, as
 * an inbound call to it (`OwnNumberHop`); another E.164 number through the
 * trunks or the sandbox, or a user of the workspace's domain, under
 * `allowed_destinations`; the new leg is a call
 * record with `parent_call_id` = the other party's call, billed like any
 * dialled leg. Progress goes to the referrer as NOTIFY (message/sipfrag).
 */
export class BlindTransfer {
  constructor(
    private readonly dialer: LegPlacer,
    private readonly store: Store,
    private readonly sipDomain: string,
    private readonly ownNumberHop: OwnNumberHop,
  ) {}

  /**
   * Accepts the REFER and places the new leg from `other`; answers that leg
   * once it has answered (the caller re-bridges, then reports `200 OK` with
   * `refer.finish`), or undefined when the transfer failed (the failure has
   * been NOTIFYed). `signal`: the bridge ended meanwhile; the new leg is dropped.
   */
  async connect(refer: ReferRequest, other: LiveCall, callerId: string, signal: AbortSignal): Promise<LiveCall | undefined> {
    const workspaceId = other.cdr.workspaceId;
    const uri = refer.referTo;
    if (isSipUri(uri) && uri.headers.some(([name]) => name.toLowerCase() === 'replaces')) {
      // An attended transfer (RFC 3891 Replaces) would need the consultation call's dialog: not offered.
      refer.reject(603, 'Decline (attended transfer is not supported)');
      return undefined;
    }
    const target = await dialledTarget(this.store, this.sipDomain, refer.referTo);
    if (!target) {
      refer.reject(400, 'Bad Request (Refer-To names no number or SIP user)');
      return undefined;
    }
    refer.accept();
    const fail = async (cause: string, sipStatus?: number): Promise<undefined> => {
      const { status, reason } = sipStatusOfCause(cause, sipStatus);
      other.log.info({ target, cause }, 'blind transfer failed');
      await refer.finish(status, reason);
      return undefined;
    };
    // The workspace's own number is not a destination out there: its app takes the call, whatever the allow-list says.
    const own = target.startsWith('+') && (await this.store.numbers.get(workspaceId, target)) !== undefined;
    const settings = await this.store.settings.get(workspaceId);
    if (!own && !this.dialer.router.allowed(workspaceId, target, settings.allowedDestinations)) return fail('destination_not_allowed');
    const placed = await this.dialer.place({
      // The number's app sees the party transferred to it as its caller, as if they had dialled the number.
      workspaceId, from: own ? addressOf(other) : callerId, to: target, parentCallId: other.callId, near: other.leg.media,
      ...(own ? { routes: [this.ownNumberHop.route(target)] } : {}),
    });
    if ('failed' in placed) return fail(placed.cause);
    const leg = placed.session;
    other.log.info({ target, legCallId: leg.callId }, 'blind transfer: ringing the Refer-To target');
    const answered = await this.dialer.firstAnswer([leg], transferRingMs, signal);
    if (!answered) {
      await leg.hangupFrom('system', signal.aborted ? 'canceled' : 'no_answer');
      const end = leg.leg.endInfo;
      return fail(signal.aborted ? 'canceled' : end?.cause ?? 'no_answer', end?.sipStatus);
    }
    await leg.answered();
    return leg;
  }
}
