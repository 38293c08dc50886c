import type { FieldReader } from './field-reader.js';
import type { ActionContext, ActionOutcome } from './action-context.js';
import type { StreamAction, StreamMixType, StreamReturnRate, StreamStatusEvent, StreamTrack } from './schema.js';

const tracks: readonly StreamTrack[] = ['inbound_track', 'outbound_track', 'both_tracks'];
const mixTypes: readonly StreamMixType[] = ['mono', 'stereo', 'mixed'];
const statusEvents: readonly StreamStatusEvent[] = ['stream-started', 'stream-stopped', 'stream-error'];
const returnRates: readonly number[] = [8000, 16000, 24000, 32000, 48000];

/**
 * `stream`: forks live audio to a WebSocket, full duplex (SPEC §8, §19).
 * XML: `<Stream url name track …/>`, nested objects as JSON attributes.
 * jambonz's names are accepted beside ours: `sampleRate` for
 * `outputSamplingRate`, `mixType` for `track` (they must agree when both
 * are given).
 */
export const streamAction = {
  name: 'stream',
  xmlName: 'Stream',
  parse(r: FieldReader): StreamAction {
    const rate = streamRate(r);
    const events = r.stringList('statusEvents', { split: true }) ?? [...statusEvents];
    const unknown = events.find((e) => !(statusEvents as readonly string[]).includes(e));
    if (unknown !== undefined) r.fail('statusEvents', `has '${unknown}'; known: ${statusEvents.join(' ')}`);
    const { track, mixed } = trackAndMix(r);
    return {
      kind: 'stream',
      url: r.url('url', { required: true, text: true, schemes: ['ws:', 'wss:'] })!,
      name: r.string('name', { maxLength: 128 }),
      track,
      mixed,
      outputSamplingRate: rate,
      statusCallback: r.url('statusCallback'),
      statusEvents: events as StreamStatusEvent[],
      metadata: r.stringMap('metadata') ?? {},
      bidirectionalAudio: returnAudio(r, rate),
      passDtmf: r.boolean('passDtmf') ?? true,
      wsAuth: wsAuth(r),
    };
  },
  /** When the socket closes (either side) the next action runs: a following dial warm-transfers the call. */
  async execute(action: StreamAction, ctx: ActionContext, signal: AbortSignal): Promise<ActionOutcome> {
    await ctx.stream(action, signal);
    return { next: 'continue' };
  },
} as const;

function streamRate(r: FieldReader): 8000 | 16000 | 24000 {
  const ours = r.integer('outputSamplingRate', { min: 8000, max: 24000 });
  const theirs = r.integer('sampleRate', { min: 8000, max: 24000 });
  if (ours !== undefined && theirs !== undefined && ours !== theirs) r.fail('sampleRate', 'must equal outputSamplingRate when both are given');
  const rate = ours ?? theirs ?? 8000;
  if (rate !== 8000 && rate !== 16000 && rate !== 24000) r.fail(ours !== undefined ? 'outputSamplingRate' : 'sampleRate', 'must be 8000, 16000 or 24000');
  return rate;
}

/** `track` (ours) and `mixType` (jambonz): mono is one track, stereo and mixed are both. */
function trackAndMix(r: FieldReader): { track: StreamTrack; mixed: boolean } {
  const track = r.string('track', { enum: tracks }) as StreamTrack | undefined;
  const mixType = r.string('mixType', { enum: mixTypes }) as StreamMixType | undefined;
  if (mixType === undefined) return { track: track ?? 'inbound_track', mixed: false };
  const both = mixType !== 'mono';
  if (track !== undefined && (track === 'both_tracks') !== both) {
    r.fail('mixType', `"${mixType}" does not agree with track "${track}" (mono is one track; stereo and mixed are both_tracks)`);
  }
  return { track: both ? 'both_tracks' : (track ?? 'inbound_track'), mixed: mixType === 'mixed' };
}

function returnAudio(r: FieldReader, streamRate: number): StreamAction['bidirectionalAudio'] {
  const b = r.object('bidirectionalAudio');
  const rate = b?.integer('sampleRate', { min: 8000, max: 48000 }) ?? streamRate;
  if (!returnRates.includes(rate)) b?.fail('sampleRate', `must be one of ${returnRates.join(', ')}`);
  return {
    // jambonz's older spelling of enabled: false.
    enabled: (b?.boolean('enabled') ?? true) && r.boolean('disableBidirectionalAudio') !== true,
    // Ours plays binary frames unless told otherwise (SPEC §8); jambonz's default is false (see docs/streaming.md).
    streaming: b?.boolean('streaming') ?? true,
    sampleRate: rate as StreamReturnRate,
  };
}

function wsAuth(r: FieldReader): StreamAction['wsAuth'] {
  const a = r.object('wsAuth');
  if (!a) return undefined;
  const username = a.requiredString('username', { maxLength: 256 });
  if (username.includes(':')) a.fail('username', 'must not contain ":" (HTTP Basic)');
  return { username, password: a.string('password', { required: true, maxLength: 1024 })! };
}
