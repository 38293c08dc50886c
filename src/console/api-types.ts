/** The REST API's objects as the console reads them (SPEC §4; only the fields it shows). */
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
  recording: { id: string; url: string; duration_seconds: number } | null;
  events?: Array<{ status: string; timestamp: string }>;
  errors?: Array<{ code: string; timestamp: string; message?: string }>;
}

export interface NumberView {
  id: string;
  number: string;
  friendly_name: string | null;
  routing_url: string | null;
  status_url: string | null;
  fallback_url: string | null;
  claimed_at: string;
}

export interface ParticipantView {
  call_id: string;
  caller: string;
  muted: boolean;
  hold: boolean;
  joined_at: string;
}

/** One timeline entry (`GET /v1/calls/{id}/timeline`, SPEC §14): `{at, type, …}`. */
export interface TimelineEntryView {
  at: string;
  type: string;
  [field: string]: unknown;
}

export const liveStatuses: ReadonlySet<string> = new Set(['queued', 'initiated', 'ringing', 'in-progress']);
