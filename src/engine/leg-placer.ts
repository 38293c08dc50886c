import type { CallMedia } from '../media/call-media.js';
import type { CallRecord } from '../store/repos/call-repo.js';
import type { DestinationRouter, Route } from './destination-router.js';
import type { LiveCall } from './live-call.js';

export interface OutboundLegRequest {
  workspaceId: string;
  from: string;
  to: string;
  parentCallId: string | null;
  numberId?: string | null;
  statusUrl?: string | null;
  actionUrl?: string | null;
  clientRequestId?: string | null;
  metadata?: Record<string, string>;
  /** The leg this one will be bridged to (`dial`): with media workers, its media goes on the same one. */
  near?: CallMedia;
  /** Where the INVITE goes instead of the router's routes (a hop to the workspace's own number). */
  routes?: Route[];
}

/** A placed leg ringing as a live call, or its record failed with the reason it could not be placed. */
export type Placed = { session: LiveCall } | { failed: CallRecord; cause: string };

/**
 * What places outbound legs (the `Dialer`), as the services that place legs
 * of their own see it (a blind transfer's new leg): no import of the dialer,
 * which itself starts transfers.
 */
export interface LegPlacer {
  readonly router: DestinationRouter;
  /** Places one leg: its record, allow-list and funds checks, its INVITE. */
  place(request: OutboundLegRequest, existing?: CallRecord): Promise<Placed>;
  /** The first of `sessions` to answer within `timeoutMs`, or undefined. */
  firstAnswer(sessions: LiveCall[], timeoutMs: number, signal: AbortSignal): Promise<LiveCall | undefined>;
}
