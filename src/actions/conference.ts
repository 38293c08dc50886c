import type { FieldReader } from './field-reader.js';
import type { ActionContext, ActionOutcome } from './action-context.js';
import { digitKeys } from './get-digits.js';
import type { ConferenceAction, ConferenceStatusEvent } from './schema.js';

const statusEvents: readonly ConferenceStatusEvent[] = ['start', 'end', 'join', 'leave', 'mute', 'unmute', 'full'];

/** `conference`: joins a named room (SPEC §7). XML: `<Conference startOnEnter …>room</Conference>`. */
export const conferenceAction = {
  name: 'conference',
  xmlName: 'Conference',
  parse(r: FieldReader): ConferenceAction {
    const events = r.stringList('statusEvents', { split: true }) ?? [];
    const unknown = events.find((e) => !(statusEvents as readonly string[]).includes(e));
    if (unknown !== undefined) r.fail('statusEvents', `has '${unknown}'; known: ${statusEvents.join(' ')}`);
    const finishOnKey = r.string('finishOnKey', { maxLength: 1 }) ?? '';
    if (finishOnKey !== '' && !digitKeys.includes(finishOnKey)) r.fail('finishOnKey', 'must be one of 0-9, * or #, or ""');
    return {
      kind: 'conference',
      name: r.requiredString('name', { text: true, maxLength: 128 }),
      startOnEnter: r.boolean('startOnEnter') ?? true,
      endOnExit: r.boolean('endOnExit') ?? false,
      beep: r.boolean('beep') ?? true,
      muted: r.boolean('muted') ?? false,
      maxParticipants: r.integer('maxParticipants', { min: 1, max: 250 }) ?? 250,
      waitUrl: r.url('waitUrl'),
      record: r.boolean('record') ?? false,
      statusEventsCallbackUrl: r.url('statusEventsCallbackUrl'),
      statusEvents: events as ConferenceStatusEvent[],
      collectDigits: r.boolean('collectDigits') ?? false,
      numDigits: r.integer('numDigits', { min: 1, max: 64 }),
      finishOnKey,
      digitsCallbackUrl: r.url('digitsCallbackUrl'),
    };
  },
  /** A room that ended under the participant, or was full, lets the list go on (SPEC §7). */
  async execute(action: ConferenceAction, ctx: ActionContext, signal: AbortSignal): Promise<ActionOutcome> {
    return (await ctx.conference(action, signal)) === 'continue' ? { next: 'continue' } : { next: 'end' };
  },
} as const;
