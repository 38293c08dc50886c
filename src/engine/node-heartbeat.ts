import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import type { TimelineSink } from '../shared/timeline.js';
import type { Store } from '../store/store.js';
import type { EventPublisher } from '../webhooks/event-publisher.js';
import { reapDeadNodes } from './dead-node-reaper.js';

export interface NodeHeartbeatOptions {
  store: Store;
  events: EventPublisher;
  clock: Clock;
  logger: Logger;
  timeline?: TimelineSink;
  /** host:port of this node's SIP (UDP and TCP). */
  sipAddress: string;
  /** This node's REST API. */
  httpUrl: string;
  liveCalls: () => number;
  /** Whether this node is draining already (SIGTERM, or a drain request it acted on). */
  draining: () => boolean;
  /** A peer (or this node's API) set this node's row to `draining`: start the same drain as SIGTERM. */
  drainRequested: () => void;
  deadAfterMs?: number;
}

/**
 * This node in the `nodes` table (SPEC §16). `register` at start writes a
 * fresh `active` row; `beat`, run by `CallLiveness` in the same tick that
 * marks the node's calls alive, writes the time, live call count and state,
 * notices a drain asked for by any node's API, and ends the calls of peers
 * that went silent. A failure is logged and the next tick tries again.
 */
export class NodeHeartbeat {
  constructor(private readonly options: NodeHeartbeatOptions) {}

  async register(): Promise<void> {
    await this.options.store.nodes.register(this.#beat());
  }

  async beat(): Promise<void> {
    const { logger } = this.options;
    try {
      const state = await this.options.store.nodes.beat(this.#beat());
      if (state === 'draining' && !this.options.draining()) {
        logger.warn({ node: this.options.store.nodeId }, 'drain requested through the API: refusing new calls, letting live ones finish');
        this.options.drainRequested();
      }
    } catch (error) {
      logger.warn({ err: error }, 'could not write this node\'s heartbeat');
    }
    try {
      await reapDeadNodes(this.options);
    } catch (error) {
      logger.warn({ err: error }, 'could not end the calls of silent nodes');
    }
  }

  #beat() {
    const o = this.options;
    return { id: o.store.nodeId, sipAddress: o.sipAddress, httpUrl: o.httpUrl, liveCalls: o.liveCalls(), draining: o.draining(), now: o.clock.now() };
  }
}
