import type { HangupCause } from '../shared/call-codes.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import type { TimelineSink } from '../shared/timeline.js';
import type { CallRecord } from '../store/repos/call-repo.js';
import type { Store } from '../store/store.js';
import type { EventPublisher } from '../webhooks/event-publisher.js';
import { CallBilling, type CallEnd } from './call-billing.js';
import { CallRecords } from './call-records.js';

/** The hang-up cause of a call ended at start because the run that held it is gone. */
export const platformRestartCause: HangupCause = 'platform_restart';
/** The hang-up cause of a call ended by a peer because the node that held it stopped heart-beating (SPEC §16). */
export const nodeFailedCause: HangupCause = 'node_failed';

/** Calls read per page; each is ended in its own transaction. */
const pageSize = 200;

/**
 * How a call a dead run left live ends. Answered (`in-progress`): `completed`,
 * billed from its answer to the last time it was seen alive (`alive_at`,
 * written every few seconds by `CallLiveness`, in the same tick as the node's
 * heartbeat; the answer itself when no beat came after it). Not answered:
 * `failed`, nothing to bill, ended when last seen. A call recorded
 * `in-progress` without an answer time cannot be priced honestly: it ends
 * `completed` with duration 0 and is not charged.
 */
export function endOfLeftCall(call: CallRecord, cause: HangupCause = platformRestartCause): CallEnd {
  const answeredAt = call.status === 'in-progress' && call.answeredAt ? new Date(call.answeredAt) : null;
  const seen = [call.createdAt, call.ringingAt, call.answeredAt, call.aliveAt].filter((t): t is string => t !== null).map(Date.parse);
  return {
    status: call.status === 'in-progress' ? 'completed' : 'failed',
    by: 'system', cause, answeredAt, endedAt: new Date(Math.max(...seen)),
    detail: { last_alive_at: call.aliveAt },
  };
}

export interface CallRecoveryOptions {
  store: Store;
  events: EventPublisher;
  clock: Clock;
  logger: Logger;
  /** The recovered calls' final status goes on their timelines. */
  timeline?: TimelineSink;
}

/**
 * Ends the calls an earlier run of this node left live (SPEC §18): killed
 * with SIGKILL or by a power loss, it could neither hang them up nor bill
 * them. Run at start, before SIP and the API take anything: every call of this
 * node (`calls.node_id`, or none for calls written before nodes were recorded)
 * not ended in the store is ended, `hangup_cause: "platform_restart"`. Calls
 * of other nodes are theirs (or, when they died, the reaper's: `endLeftCalls`
 * with `node_failed`).
 */
export async function recoverCalls(options: CallRecoveryOptions): Promise<number> {
  return endLeftCalls({ ...options, nodeId: options.store.nodeId, orNoNode: true, cause: platformRestartCause });
}

export interface LeftCallsOptions extends CallRecoveryOptions {
  /** The node whose run is gone. */
  nodeId: string;
  /** Also the calls that name no node (written before calls named their node). */
  orNoNode?: boolean;
  cause: HangupCause;
}

/**
 * Ends the live calls of a run that is gone (`endOfLeftCall`) through the
 * same `CallBilling.close` as a hang-up: charge, released reservation, final
 * record and one call.hangup, in one transaction per call.
 *
 * Exactly once, across restarts and nodes: `close` writes the final record
 * only while the call has not ended (an UPDATE … WHERE status is live), and
 * the charge is keyed by call and leg, so two of these at once (a restart and
 * a peer's reaper, two reapers, or a second restart in the middle of one)
 * end, bill and announce each call once. Answers how many calls this run ended.
 */
export async function endLeftCalls(options: LeftCallsOptions): Promise<number> {
  const { store, events, clock } = options;
  const log = options.logger.child({ component: 'recovery' });
  const billing = new CallBilling(store, new CallRecords(store, events, clock, options.timeline, log), clock, events);
  const started = performance.now();
  let ended = 0;
  let afterId: string | undefined;
  for (;;) {
    const page = await store.calls.listLive({ limit: pageSize, nodeId: options.nodeId, orNoNode: options.orNoNode ?? false, ...(afterId ? { afterId } : {}) });
    if (page.length === 0) break;
    for (const call of page) {
      afterId = call.id;
      try {
        const closed = await billing.close(call, endOfLeftCall(call, options.cause));
        if (!closed) continue;
        ended += 1;
        log.warn({
          callId: call.id, node: options.nodeId, was: call.status, status: closed.status, lastAliveAt: call.aliveAt, durationSeconds: closed.durationSeconds, priceCents: closed.priceCents,
          ...(call.status === 'in-progress' && !call.answeredAt ? { unbilled: 'no answer time recorded' } : {}),
        }, `call left live by an earlier run ended (${options.cause})`);
      } catch (error) {
        // One bad record must not stop the others (nor a start); the call stays live in the store and is tried again next time.
        log.error({ err: error, callId: call.id, node: options.nodeId }, 'could not end a call left live by a run that is gone');
      }
    }
  }
  if (ended > 0) log.info({ recovered: ended, node: options.nodeId, cause: options.cause, ms: Math.round(performance.now() - started) }, 'calls left live by an earlier run ended');
  return ended;
}
