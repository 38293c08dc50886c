import type { FieldReader } from './field-reader.js';
import type { ActionContext, ActionOutcome } from './action-context.js';
import type { StreamAction, StreamStatusEvent, StreamTrack } from './schema.js';

const tracks: readonly StreamTrack[] = ['inbound_track', 'outbound_track', 'both_tracks'];
const statusEvents: readonly StreamStatusEvent[] = ['stream-started', 'stream-stopped', 'stream-error'];

/** `stream`: forks live audio to a WebSocket, full duplex (SPEC §8). XML: `<Stream url name track …/>`. */
export const streamAction = {
  name: 'stream',
  xmlName: 'Stream',
  parse(r: FieldReader): StreamAction {
    const rate = r.integer('outputSamplingRate', { min: 8000, max: 24000 }) ?? 8000;
    if (rate !== 8000 && rate !== 16000 && rate !== 24000) r.fail('outputSamplingRate', 'must be 8000, 16000 or 24000');
    const events = r.stringList('statusEvents', { split: true }) ?? [...statusEvents];
    const unknown = events.find((e) => !(statusEvents as readonly string[]).includes(e));
    if (unknown !== undefined) r.fail('statusEvents', `has '${unknown}'; known: ${statusEvents.join(' ')}`);
    return {
      kind: 'stream',
      url: r.url('url', { required: true, text: true, schemes: ['ws:', 'wss:'] })!,
      name: r.string('name', { maxLength: 128 }),
      track: (r.string('track', { enum: tracks }) ?? 'inbound_track') as StreamTrack,
      outputSamplingRate: rate,
      statusCallback: r.url('statusCallback'),
      statusEvents: events as StreamStatusEvent[],
      metadata: r.stringMap('metadata') ?? {},
    };
  },
  /** When the socket closes (either side) the next action runs: a following dial warm-transfers the call. */
  async execute(action: StreamAction, ctx: ActionContext, signal: AbortSignal): Promise<ActionOutcome> {
    await ctx.stream(action, signal);
    return { next: 'continue' };
  },
} as const;
