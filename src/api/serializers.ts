import { formatCents } from '../billing/rating.js';
import type { CallEvent, CallRecord } from '../store/repos/call-repo.js';
import type { ClaimedNumber } from '../store/repos/number-repo.js';
import type { LedgerTransaction } from '../store/repos/ledger-repo.js';
import type { RecordingRecord } from '../store/repos/recording-repo.js';
import type { WorkspaceSettings } from '../store/repos/settings-repo.js';
import type { Rate } from '../store/repos/rate-repo.js';
import type { TimelineEntry } from '../shared/timeline.js';

/** API views: snake_case, money as two-decimal strings (SPEC §4, §10). */
export function numberView(n: ClaimedNumber): Record<string, unknown> {
  return {
    id: n.id, number: n.number, friendly_name: n.friendlyName, routing_url: n.routingUrl, status_url: n.statusUrl,
    fallback_url: n.fallbackUrl, claimed_at: n.claimedAt,
  };
}

export function recordingView(r: RecordingRecord, publicUrl: string): Record<string, unknown> {
  return {
    id: r.id, call_id: r.callId, conference: r.conference, duration_seconds: r.durationSeconds, channels: r.channels,
    url: `${publicUrl}/v1/recordings/${r.id}/audio`, created_at: r.createdAt,
  };
}

export function callView(c: CallRecord, extra: { recording?: RecordingRecord | undefined; events?: CallEvent[]; publicUrl: string }): Record<string, unknown> {
  const view: Record<string, unknown> = {
    id: c.id, direction: c.direction, from: c.from, to: c.to, status: c.status, parent_call_id: c.parentCallId,
    number_id: c.numberId, conference: c.conference, created_at: c.createdAt, ringing_at: c.ringingAt,
    answered_at: c.answeredAt, ended_at: c.endedAt, duration_seconds: c.durationSeconds, ring_seconds: c.ringSeconds,
    hangup_cause: c.hangupCause, hangup_by: c.hangupBy, price: c.priceCents === null ? null : formatCents(c.priceCents),
    currency: 'KES', rate_per_minute: c.ratePerMinuteCents === null ? null : formatCents(c.ratePerMinuteCents),
    client_request_id: c.clientRequestId, metadata: c.metadata, answered_by: c.answeredBy,
    recording: extra.recording
      ? { id: extra.recording.id, url: `${extra.publicUrl}/v1/calls/${c.id}/recording`, duration_seconds: extra.recording.durationSeconds }
      : null,
  };
  if (extra.events) {
    view['events'] = extra.events.filter((e) => e.kind === 'status').map((e) => ({ status: e.name, timestamp: e.at, ...e.detail }));
    view['errors'] = extra.events.filter((e) => e.kind === 'error').map((e) => ({ code: e.name, timestamp: e.at, ...e.detail }));
  }
  return view;
}

/** A timeline entry as the API shows it: `at`, `type`, then the type's fields (SPEC §14). */
export function timelineEntryView(e: TimelineEntry): Record<string, unknown> {
  return { at: e.at, type: e.type, ...e.data };
}

export function transactionView(t: LedgerTransaction): Record<string, unknown> {
  return {
    id: t.id, type: t.kind, amount: formatCents(t.walletAmountCents), currency: 'KES', call_id: t.callId, leg: t.leg,
    reference: t.reference, description: t.description, created_at: t.createdAt,
  };
}

export function settingsView(s: WorkspaceSettings): Record<string, unknown> {
  return {
    allowed_destinations: s.allowedDestinations, allowed_callback_hosts: s.allowedCallbackHosts,
    allow_private_callbacks: s.allowPrivateCallbacks,
    daily_spend_limit: s.dailySpendLimitCents === null ? null : formatCents(s.dailySpendLimitCents),
  };
}

export function rateView(r: Rate): Record<string, unknown> {
  return { category: r.category, prefix: r.prefix, description: r.description, rate_per_minute: formatCents(r.ratePerMinuteCents), currency: 'KES' };
}
