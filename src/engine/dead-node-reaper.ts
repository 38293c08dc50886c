import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import type { TimelineSink } from '../shared/timeline.js';
import type { Store } from '../store/store.js';
import type { EventPublisher } from '../webhooks/event-publisher.js';
import { endLeftCalls, nodeFailedCause } from './call-recovery.js';

/** A node silent this long is dead (SPEC §16): three missed heartbeats at the default 5 s. */
export const nodeDeadAfterMs = 15_000;

export interface DeadNodeReaperOptions {
  store: Store;
  events: EventPublisher;
  clock: Clock;
  logger: Logger;
  timeline?: TimelineSink;
  deadAfterMs?: number;
}

/**
 * Ends the live calls of nodes that stopped heart-beating (SPEC §16): killed,
 * their machine or network gone, they cannot hang up or bill them. Every node
 * runs this at each heartbeat; a call is ended once across all of them
 * (`endLeftCalls`: the final record is written only while the call is live,
 * the charge is keyed by call), `hangup_cause: "node_failed"`, billed up to
 * its last beat, its reservation released, one `call.hangup`. This node's own
 * calls are never reaped here: a run of this node that died is recovered at
 * start (`recoverCalls`). Answers how many calls this run ended.
 */
export async function reapDeadNodes(options: DeadNodeReaperOptions): Promise<number> {
  const { store, clock } = options;
  const cutoff = new Date(clock.now().getTime() - (options.deadAfterMs ?? nodeDeadAfterMs));
  let ended = 0;
  for (const node of await store.nodes.silentWithLiveCalls(store.nodeId, cutoff)) {
    options.logger.warn({ node: node.id, lastHeartbeatAt: node.heartbeatAt }, 'node stopped heart-beating: ending its live calls (node_failed)');
    ended += await endLeftCalls({ ...options, nodeId: node.id, cause: nodeFailedCause });
  }
  return ended;
}
