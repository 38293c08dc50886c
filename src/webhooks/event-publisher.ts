import type { Repos } from '../store/store.js';
import type { EventEnvelope } from '../store/repos/outbox-repo.js';
import type { EventType } from './event-types.js';

export interface PublishInput {
  workspaceId: string;
  type: EventType;
  data: Record<string, unknown>;
  /** A call's or a conference's own status URL(s), which receive the event besides the workspace webhooks. */
  statusUrl?: string | null | readonly string[];
  callId?: string | null;
  /**
   * Events with the same key reach each target one after another, in the
   * order published, an earlier one being retried holding the later ones
   * back (a room's join before its start). Omit it for events with no order to keep.
   */
  orderingKey?: string;
  now: Date;
}

/**
 * Puts events in the outbox. Call it with the repositories of the
 * transaction that makes the state change, so the event and the change
 * commit together (or not at all).
 */
export class EventPublisher {
  constructor(
    /** Seconds before the first attempt (the retry schedule's first entry). */
    private readonly firstDelaySeconds: number,
    /** Wakes the deliverer; it also polls, so a missed wake-up only adds latency. */
    private readonly wake: () => void = () => undefined,
  ) {}

  async publish(repos: Repos, input: PublishInput): Promise<EventEnvelope | undefined> {
    const endpoints = await repos.webhookEndpoints.subscribedTo(input.workspaceId, input.type);
    const statusUrls = typeof input.statusUrl === 'string' ? [input.statusUrl] : input.statusUrl ?? [];
    const targets = [
      ...[...new Set(statusUrls)].map((url) => ({ url })),
      ...endpoints.map((e) => ({ url: e.url, endpointId: e.id })),
    ];
    if (targets.length === 0) return undefined;
    const envelope = await repos.outbox.enqueue({
      workspaceId: input.workspaceId, type: input.type, data: input.data, targets, callId: input.callId ?? null, now: input.now, orderingKey: input.orderingKey ?? null,
      notBefore: new Date(input.now.getTime() + this.firstDelaySeconds * 1000),
    });
    setTimeout(this.wake, 5).unref();
    return envelope;
  }
}
