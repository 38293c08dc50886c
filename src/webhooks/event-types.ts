/** The event catalogue of SPEC §9; docs/webhooks.md has an example of each. */
export const eventTypes = [
  'call.initiated', 'call.ringing', 'call.answered', 'call.hangup', 'call.error', 'call.recording.ready',
  'conference.start', 'conference.end', 'conference.join', 'conference.leave', 'conference.mute', 'conference.unmute', 'conference.full',
  'stream.started', 'stream.stopped', 'stream.error',
  'wallet.low_balance',
] as const;

export type EventType = (typeof eventTypes)[number];

export function isEventType(value: string): value is EventType {
  return (eventTypes as readonly string[]).includes(value);
}
