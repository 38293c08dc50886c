import type { ConferenceAction, ConferenceStatusEvent } from '../actions/schema.js';

/**
 * What a participant on another node brings to a room's home (SPEC §16),
 * carried signed in the internal leg's X-Sautikit-Join header: the
 * `conference` action's fields that the room itself applies. Digits are
 * collected and posted by the participant's own node, where its call runs,
 * so they are not here.
 */
export type RemoteJoin = Pick<ConferenceAction,
  'startOnEnter' | 'endOnExit' | 'beep' | 'muted' | 'maxParticipants' | 'waitUrl' | 'record' | 'statusEventsCallbackUrl' | 'statusEvents'> & {
  /** The participant's number (or SIP user), reported as `caller`. */
  caller: string;
};

const statusEvents: readonly string[] = ['start', 'end', 'join', 'leave', 'mute', 'unmute', 'full'] satisfies ConferenceStatusEvent[];

export function remoteJoinOf(action: ConferenceAction, caller: string): RemoteJoin {
  const { startOnEnter, endOnExit, beep, muted, maxParticipants, waitUrl, record, statusEventsCallbackUrl, statusEvents: events } = action;
  return { caller, startOnEnter, endOnExit, beep, muted, maxParticipants, waitUrl, record, statusEventsCallbackUrl, statusEvents: events };
}

export function encodeRemoteJoin(join: RemoteJoin): string {
  return JSON.stringify(join);
}

/**
 * The join as the home node reads it. The signature says a node of the
 * platform sent it; a node of another version may still send another
 * shape, so every field is checked (Error naming the first one wrong).
 */
export function parseRemoteJoin(text: string): RemoteJoin {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('X-Sautikit-Join is not JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('X-Sautikit-Join is not a JSON object');
  const j = value as Record<string, unknown>;
  const flag = (name: string): boolean => {
    if (typeof j[name] !== 'boolean') throw new Error(`X-Sautikit-Join: ${name} must be true or false`);
    return j[name] as boolean;
  };
  const optionalUrl = (name: string): string | undefined => {
    const v = j[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || !/^https?:\/\//i.test(v)) throw new Error(`X-Sautikit-Join: ${name} must be an http(s) URL`);
    return v;
  };
  const caller = j['caller'];
  if (typeof caller !== 'string' || caller.length > 256) throw new Error('X-Sautikit-Join: caller must be a string');
  const max = j['maxParticipants'];
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 250) throw new Error('X-Sautikit-Join: maxParticipants must be 1 to 250');
  const events = j['statusEvents'];
  if (!Array.isArray(events) || !events.every((e) => typeof e === 'string' && statusEvents.includes(e))) throw new Error(`X-Sautikit-Join: statusEvents must list some of ${statusEvents.join(' ')}`);
  return {
    caller, startOnEnter: flag('startOnEnter'), endOnExit: flag('endOnExit'), beep: flag('beep'), muted: flag('muted'), maxParticipants: max,
    waitUrl: optionalUrl('waitUrl'), record: flag('record'), statusEventsCallbackUrl: optionalUrl('statusEventsCallbackUrl'),
    statusEvents: events as ConferenceStatusEvent[],
  };
}
