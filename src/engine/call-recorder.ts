import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Wallet } from '../billing/wallet.js';
import type { CallMedia } from '../media/call-media.js';
import type { RecordOptions } from '../media/endpoint.js';
import type { Clock } from '../shared/clock.js';
import { newId } from '../shared/ids.js';
import type { Store } from '../store/store.js';
import type { EventPublisher } from '../webhooks/event-publisher.js';
import type { LiveCall } from './live-call.js';

export interface SavedRecording {
  id: string;
  url: string;
  durationSeconds: number;
}

/**
 * Call recordings: the caller's message of a `record` action, `record: true`
 * on dial and on POST /v1/calls. Files are WAVs under `<data>/recordings/`; each
 * finished one becomes a recordings row, is charged the recording rate once
 * and announced with call.recording.ready.
 */
export class CallRecorder {
  constructor(
    private readonly store: Store,
    private readonly events: EventPublisher,
    private readonly clock: Clock,
    private readonly dataDir: string,
    private readonly publicUrl: () => string,
  ) {}

  /** Records the caller alone (the `record` action's message) until `options.signal` aborts or a limit is met. */
  recordCaller(session: LiveCall, options: Pick<RecordOptions, 'maxDurationMs' | 'silenceTimeoutMs' | 'signal'>): Promise<SavedRecording | undefined> {
    return this.#record(session, session.cdr.id, session.leg.media, { channels: 1, track: 'inbound', ...options });
  }

  /** Records a bridged dial (caller left, callee right) until `stop()`; the recording belongs to the dialled leg. */
  recordBridge(parent: LiveCall, child: LiveCall): { stop(): Promise<void> } {
    return this.recordWhole(parent, child.cdr.id, 2);
  }

  /** Records a whole call from now until `stop()` or its end. */
  recordWhole(session: LiveCall, callId: string, channels: 1 | 2): { stop(): Promise<void> } {
    const stop = new AbortController();
    const done = this.#record(session, callId, session.leg.media, { channels, ...(channels === 1 ? { track: 'both' as const } : {}), signal: stop.signal })
      .catch((error: unknown) => session.log.error({ err: error }, 'recording failed'));
    session.onEnd(async () => {
      stop.abort();
      await done;
    });
    return {
      stop: async () => {
        stop.abort();
        await done;
      },
    };
  }

  async #record(session: LiveCall, callId: string, media: CallMedia, options: Omit<RecordOptions, 'path'>): Promise<SavedRecording | undefined> {
    const call = session.cdr;
    const id = newId('rec');
    const dir = path.join(this.dataDir, 'recordings', call.workspaceId);
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, `${id}.wav`);
    const result = await media.record({ ...options, path: file });
    // Whole seconds rounded up, as calls are: the fee is reckoned on the same figure.
    const durationSeconds = Math.ceil(result.durationMs / 1000);
    const now = this.clock.now();
    const url = `${this.publicUrl()}/v1/recordings/${id}/audio`;
    await this.store.transaction(async (repos) => {
      await new Wallet(repos).fileRecording({ id, workspaceId: call.workspaceId, callId, conference: null, path: file, durationSeconds, channels: result.channels, now });
      await this.events.publish(repos, {
        workspaceId: call.workspaceId, type: 'call.recording.ready', callId, now, statusUrl: call.statusUrl,
        data: { call_id: callId, recording_id: id, recording_url: url, duration_seconds: durationSeconds, conference: null },
      });
    });
    session.note('recording', { recording_id: id, url, duration_seconds: durationSeconds, ...(callId !== call.id ? { call_id: callId } : {}) });
    return { id, url, durationSeconds };
  }
}
