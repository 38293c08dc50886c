import type { StreamAction, StreamStatusEvent } from '../actions/schema.js';
import type { MediaBackend } from '../media/call-media.js';
import type { Clock } from '../shared/clock.js';
import { FetchRefusedError } from '../shared/fetch-policy.js';
import type { Store } from '../store/store.js';
import type { EventPublisher } from '../webhooks/event-publisher.js';
import type { EventType } from '../webhooks/event-types.js';
import type { LiveCall } from './live-call.js';

const eventTypeOf: Record<StreamStatusEvent, EventType> = {
  'stream-started': 'stream.started',
  'stream-stopped': 'stream.stopped',
  'stream-error': 'stream.error',
};

/**
 * The `stream` action (SPEC §8): forks the call's audio to the customer's
 * WebSocket and plays back what it sends, until the socket closes; status
 * events go to `statusCallback` (filtered by `statusEvents`) and to workspace
 * webhooks. Streaming is not charged; the call leg is billed as usual.
 */
export class StreamRunner {
  constructor(private readonly store: Store, private readonly events: EventPublisher, private readonly clock: Clock, private readonly media: MediaBackend) {}

  async run(session: LiveCall, action: StreamAction, signal: AbortSignal): Promise<void> {
    const call = session.cdr;
    const name = action.name ?? 'stream';
    const send = async (event: StreamStatusEvent, data: Record<string, unknown>) => {
      session.note('stream', { event, name, url: action.url, ...data });
      const now = this.clock.now();
      const statusUrl = action.statusCallback && action.statusEvents.includes(event) ? action.statusCallback : null;
      await this.store.transaction((repos) => this.events.publish(repos, {
        workspaceId: call.workspaceId, type: eventTypeOf[event], statusUrl, callId: call.id, now,
        data: { event, call_id: call.id, CallId: call.id, stream_name: name, url: action.url, timestamp: now.toISOString(), ...data },
      }));
    };
    // The socket obeys the workspace's fetch policy, like every URL the platform connects to (checked where it connects).
    const stream = this.media.stream(session.leg.media, {
      url: action.url, policy: await session.fetchPolicy(), name, track: action.track, mixed: action.mixed, outputSamplingRate: action.outputSamplingRate, metadata: action.metadata, signal,
      returnAudio: action.bidirectionalAudio, passDtmf: action.passDtmf, wsAuth: action.wsAuth,
      call: { callId: call.id, from: call.from, to: call.to, direction: call.direction, accountId: call.workspaceId },
      // The stream binds its name (`stream`) on its own lines.
      logger: session.log,
    });
    const pending: Array<Promise<void>> = [];
    const track = (p: Promise<void>) => pending.push(p.catch((error: unknown) => session.log.error({ err: error }, 'stream event failed')));
    stream.on('started', ({ protocol }) => track(send('stream-started', { protocol })));
    stream.on('stopped', (stopped) => track(send('stream-stopped', {
      frames_sent: stopped.framesSent, frames_received: stopped.framesReceived, frames_dropped: stopped.framesDropped,
      closed_by: stopped.closedBy, reason: stopped.reason,
    })));
    stream.on('error', ({ reason }) => track(send('stream-error', { reason })));
    const result = await stream.result;
    await Promise.all(pending);
    if (result.refused) await session.recordRefusedFetch('stream.url', action.url, new FetchRefusedError(result.error ?? 'refused by the fetch policy', action.url));
  }
}
