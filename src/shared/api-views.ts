/**
 * The REST API's call objects as its own clients read them (the CLI's
 * `sautikit calls`, the web console): SPEC §4 and §14, snake_case as sent.
 */

/** A call as `GET /v1/calls/{id}` answers it. */
export interface CallView {
  id: string;
  direction: string;
  from: string;
  to: string;
  status: string;
  parent_call_id: string | null;
  number_id: string | null;
  conference: string | null;
  created_at: string;
  ringing_at: string | null;
  answered_at: string | null;
  ended_at: string | null;
  duration_seconds: number | null;
  ring_seconds: number | null;
  hangup_cause: string | null;
  hangup_by: string | null;
  price: string | null;
  currency: string;
  rate_per_minute: string | null;
  /** Answering machine detection's decision (SPEC §17); null on calls placed without it. */
  answered_by?: string | null;
  recording: { id: string; url: string; duration_seconds: number } | null;
  events?: Array<{ status: string; timestamp: string }>;
  errors?: Array<{ code: string; message?: string; timestamp: string; [detail: string]: unknown }>;
}

/** One entry of `GET /v1/calls/{id}/timeline`: `{at, type, …}`. */
export type TimelineEntryView = { at: string; type: string; [field: string]: unknown };
