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

/** Calls read per page; each is ended in its own transaction. */
const pageSize = 200;

/**
 * How a call a dead run left live ends. Answered (`in-progress`): `completed`,
 * billed from its answer to the last time it was seen alive (`alive_at`,
 * written every few seconds by `CallLiveness`; the answer itself when no beat
 * came after it). Not answered: `failed`, nothing to bill, ended when last
 * seen. A call recorded `in-progress` without an answer time cannot be
 * priced honestly: it ends `completed` with duration 0 and is not charged.
 */
export function endOfLeftCall(call: CallRecord): CallEnd {
  const answeredAt = call.status === 'in-progress' && call.answeredAt ? new Date(call.answeredAt) : null;
  const seen = [call.createdAt, call.ringingAt, call.answeredAt, call.aliveAt].filter((t): t is string => t !== null).map(Date.parse);
  return {
    status: call.status === 'in-progress' ? 'completed' : 'failed',
    by: 'system', cause: platformRestartCause, answeredAt, endedAt: new Date(Math.max(...seen)),
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
 * Ends the calls an earlier run left live (SPEC §18): killed with SIGKILL or
 * by a power loss, it could neither hang them up nor bill them. Run at start,
 * before SIP and the API take anything: every call not ended in the store is
 * ended (`endOfLeftCall`), `hangup_cause: "platform_restart"`, through the
 * same `CallBilling.close` as a hang-up: charge, released reservation, final
 * record and one call.hangup, in one transaction per call.
 *
 * The assumption: one node. Sautikit runs as a single node today (several
 * nodes are SPEC §16, later), so at start no other process holds a live call
 * and every call not ended in the store belongs to a run that is gone. With
 * several nodes this must only end the calls of nodes that stopped
 * heart-beating.
 *
 * Exactly once: `close` writes the final record only while the call has not
 * ended, and the charge is keyed by call and leg, so two recoveries at once
 * (or a second restart in the middle of one) end, bill and announce each
 * call once. Answers how many calls this run ended.
 */
export async function recoverCalls(options: CallRecoveryOptions): Promise<number> {
  const { store, events, clock } = options;
  const log = options.logger.child({ component: 'recovery' });
  const billing = new CallBilling(store, new CallRecords(store, events, clock, options.timeline, log), clock, events);
  const started = performance.now();
  let recovered = 0;
  let afterId: string | undefined;
  for (;;) {
    const page = await store.calls.listLive({ limit: pageSize, ...(afterId ? { afterId } : {}) });
    if (page.length === 0) break;
    for (const call of page) {
      afterId = call.id;
      try {
        const end = endOfLeftCall(call);
        const ended = await billing.close(call, end);
        if (!ended) continue;
        recovered += 1;
        log.warn({
          callId: call.id, was: call.status, status: ended.status, lastAliveAt: call.aliveAt, durationSeconds: ended.durationSeconds, priceCents: ended.priceCents,
          ...(call.status === 'in-progress' && !call.answeredAt ? { unbilled: 'no answer time recorded' } : {}),
        }, 'call left live by an earlier run ended (platform_restart)');
      } catch (error) {
        // One bad record must not keep the platform from starting; the call stays live in the store and is tried again at the next start.
        log.error({ err: error, callId: call.id }, 'could not end a call left live by an earlier run');
      }
    }
  }
  if (recovered > 0) log.info({ recovered, ms: Math.round(performance.now() - started) }, 'calls left live by an earlier run ended');
  return recovered;
}
