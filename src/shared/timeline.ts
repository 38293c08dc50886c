/**
 * The call timeline (SPEC §14): everything that happened on a call, in order,
 * as `GET /v1/calls/{id}/timeline` answers it (`{at, type, …data}`). Entries
 * are noted where things happen (the engine, the actions through their
 * context) and written to the store in batches, off the call's path.
 */
export const timelineTypes = [
  'status', 'webhook.request', 'webhook.response', 'action.start', 'action.end', 'digits', 'dial', 'conference', 'stream',
  'recording', 'machine_detection', 'warning', 'error',
] as const;

export type TimelineType = typeof timelineTypes[number];

/** One entry as stored: `seq` orders a call's entries (microseconds since the epoch, strictly increasing in a process). */
export interface TimelineEntry {
  callId: string;
  seq: number;
  /** ISO-8601 time it happened. */
  at: string;
  type: TimelineType;
  /** The type's fields (snake_case, as the API shows them); never `at` or `type`. */
  data: Record<string, unknown>;
}

/**
 * Where entries are noted. `note` returns at once and never throws: the
 * call never waits for its timeline. `data` must not be changed afterwards
 * (it is serialised when the batch is written).
 */
export interface TimelineSink {
  note(callId: string, type: TimelineType, data: Record<string, unknown>): void;
}

/** A sink that keeps nothing (unit tests, tools that run calls without a store). */
export const discardTimeline: TimelineSink = { note: () => undefined };

/** Webhook bodies are kept up to this many bytes (SPEC §14: the first 64 KiB). */
export const timelineBodyLimit = 64 * 1024;

/** A response body as timeline text: its first 64 KiB, decoded as UTF-8, and whether it was cut. */
export function timelineBody(body: Buffer): { body: string; body_truncated?: true } {
  if (body.length <= timelineBodyLimit) return { body: body.toString('utf8') };
  return { body: body.subarray(0, timelineBodyLimit).toString('utf8'), body_truncated: true };
}
