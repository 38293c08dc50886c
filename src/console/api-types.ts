/** The REST API's objects as the console reads them (SPEC §4; only the fields it shows). */
export type { CallView, TimelineEntryView } from '../shared/api-views.js';

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

export const liveStatuses: ReadonlySet<string> = new Set(['queued', 'initiated', 'ringing', 'in-progress']);
