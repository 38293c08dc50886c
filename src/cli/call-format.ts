/**
 * Calls and their timelines as text for a terminal (`sautikit calls`,
 * `sautikit call`): one line per timeline entry, webhook bodies indented
 * below their line and cut so one large answer does not fill the screen.
 */

import type { CallView, TimelineEntryView } from '../shared/api-views.js';

export type { CallView, TimelineEntryView };

/** Lines of a body shown under its entry, and characters, before it is cut. */
const bodyLines = 12;
const bodyChars = 1200;
const indent = ' '.repeat(16);

function pad(text: string, width: number): string {
  return text.length >= width ? `${text} ` : text.padEnd(width);
}

/** `09:15:04.120` of an ISO time (UTC, as the API gives it). */
function clock(at: string): string {
  return at.length >= 23 ? at.slice(11, 23) : at;
}

/** The call list: one line per call, newest first, as `GET /v1/calls` gives them. */
export function formatCallList(calls: readonly CallView[]): string {
  const header = ['ID', 'CREATED (UTC)', 'DIRECTION', 'FROM', 'TO', 'STATUS', 'DURATION', 'PRICE'];
  const rows = calls.map((c) => [
    c.id, c.created_at.replace('T', ' ').slice(0, 19), c.direction, c.from, c.to, c.status,
    c.duration_seconds === null ? '-' : `${c.duration_seconds} s`, c.price === null ? '-' : `KES ${c.price}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)) + 2);
  return [header, ...rows].map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('').trimEnd()).join('\n');
}

/** The call record: who, when, how it ended, what it cost, and what went wrong. */
export function formatCall(call: CallView): string {
  const ended = call.hangup_cause ? ` (${call.hangup_cause}${call.hangup_by ? `, hung up by ${call.hangup_by}` : ''})` : '';
  const lines = [
    `call        ${call.id}`,
    `direction   ${call.direction}`,
    `from        ${call.from}`,
    `to          ${call.to}`,
    `status      ${call.status}${ended}`,
    `created     ${call.created_at}`,
    `answered    ${call.answered_at ?? '-'}`,
    `ended       ${call.ended_at ?? '-'}`,
    `duration    ${call.duration_seconds === null ? '-' : `${call.duration_seconds} s`}`,
    `price       ${call.price === null ? '-' : `KES ${call.price}${call.rate_per_minute ? ` (KES ${call.rate_per_minute}/min)` : ''}`}`,
  ];
  if (call.parent_call_id) lines.push(`parent      ${call.parent_call_id}`);
  if (call.conference) lines.push(`conference  ${call.conference}`);
  if (call.answered_by) lines.push(`answered by ${call.answered_by}`);
  if (call.recording) lines.push(`recording   ${call.recording.url} (${call.recording.duration_seconds} s)`);
  lines.push(...formatErrors(call.errors ?? []));
  return lines.join('\n');
}

/** The call's `errors`, one line each: code, message and the URL or field it is about. */
export function formatErrors(errors: NonNullable<CallView['errors']>): string[] {
  if (errors.length === 0) return [];
  return ['errors', ...errors.map((e) => {
    const where = typeof e['url'] === 'string' ? ` (${e['url']})` : '';
    const severity = e['severity'] === 'warning' ? 'warning ' : '';
    return `  ${severity}${e.code}: ${e.message ?? ''}${where}`;
  })];
}

/** The timeline: one line per entry; webhook bodies indented below and cut. */
export function formatTimeline(entries: readonly TimelineEntryView[]): string {
  if (entries.length === 0) return '(no timeline entries)';
  const lines: string[] = [];
  for (const entry of entries) {
    lines.push(`${clock(entry.at)}  ${pad(entry.type, 17)} ${summary(entry)}`.trimEnd());
    const body = entry.type === 'webhook.request' || entry.type === 'webhook.response' ? entry['body'] : undefined;
    if (body !== undefined && body !== '') lines.push(...bodyText(body, entry['body_truncated'] === true));
  }
  return lines.join('\n');
}

function str(value: unknown): string {
  return value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
}

/** What one entry says, on its line. */
function summary(e: TimelineEntryView): string {
  switch (e.type) {
    case 'status': return [str(e['status']), e['hangup_cause'] ? `(${str(e['hangup_cause'])}${e['hangup_by'] ? `, by ${str(e['hangup_by'])}` : ''})` : '', e['sip_status'] ? `SIP ${str(e['sip_status'])}` : ''].filter(Boolean).join(' ');
    case 'webhook.request': return `${str(e['method'])} ${str(e['url'])}${e['attempt'] ? ` (attempt ${str(e['attempt'])})` : ''}`;
    case 'webhook.response': return e['error']
      ? `no answer from ${str(e['url'])}: ${str(e['code'])}: ${str(e['error'])} after ${str(e['duration_ms'])} ms`
      : `HTTP ${str(e['status'])} ${str(e['content_type']) || '(no content type)'} in ${str(e['duration_ms'])} ms`;
    case 'action.start': return `#${str(e['index'])} ${str(e['name'])}`;
    case 'action.end': return `#${str(e['index'])} ${str(e['name'])} → ${str(e['result'])}`;
    case 'digits': return `${e['digits'] === '' ? '(none)' : `"${str(e['digits'])}"`}${e['reason'] ? ` (${str(e['reason'])})` : ''}${e['room'] ? ` in room ${str(e['room'])}` : ''}`;
    case 'dial': return dialSummary(e);
    case 'conference': return `${str(e['event'])} ${str(e['room'])}${e['reason'] ? ` (${str(e['reason'])})` : ''}`;
    case 'stream': return `${str(e['event'])} ${str(e['name'])} ${str(e['url'])}${e['reason'] ? ` (${str(e['reason'])})` : ''}`;
    case 'recording': return `${str(e['url'])} (${str(e['duration_seconds'])} s)`;
    case 'machine_detection': return e['event'] === 'started'
      ? `listening (${str(e['mode'])}, up to ${str(e['timeout_seconds'])} s)`
      : `${str(e['answered_by'])} (${str(e['reason'])}) after ${str(e['decided_after_ms'])} ms: greeting ${str(e['greeting_ms'])} ms, words ${str(e['words'])}${e['beep_hz'] ? `, beep ${str(e['beep_hz'])} Hz` : ''}${e['tone_hz'] ? `, tone ${str(e['tone_hz'])} Hz` : ''}`;
    case 'warning':
    case 'error': return `${str(e['code'])}: ${str(e['message'])}`;
    default: {
      const { at: _at, type: _type, ...rest } = e;
      return JSON.stringify(rest);
    }
  }
}

function dialSummary(e: TimelineEntryView): string {
  if (e['event'] === 'placed') {
    const legs = Array.isArray(e['legs']) ? (e['legs'] as Array<Record<string, unknown>>) : [];
    return `placed ${legs.map((l) => `${str(l['to'])} → ${str(l['call_id'])} (${str(l['status'])}${l['cause'] ? `: ${str(l['cause'])}` : ''})`).join(', ')}`;
  }
  if (e['event'] === 'answered') return `answered by ${str(e['to'])} (${str(e['call_id'])})`;
  return `ended ${str(e['status'])}${e['call_id'] ? ` (${str(e['call_id'])}, ${str(e['duration_seconds'])} s)` : ''}`;
}

/** A body, pretty-printed when it is JSON, indented and cut at `bodyLines` lines or `bodyChars` characters. */
function bodyText(body: unknown, truncated: boolean): string[] {
  let text: string;
  if (typeof body === 'string') {
    try {
      text = JSON.stringify(JSON.parse(body), null, 2);
    } catch {
      text = body;
    }
  } else {
    text = JSON.stringify(body, null, 2);
  }
  let cut = text.length > bodyChars ? text.slice(0, bodyChars) : text;
  let lines = cut.split('\n');
  if (lines.length > bodyLines) lines = lines.slice(0, bodyLines);
  cut = lines.join('\n');
  const rest = text.length - cut.length;
  const out = lines.map((line) => `${indent}${line}`);
  if (rest > 0 || truncated) out.push(`${indent}… (${rest > 0 ? `${rest} more characters` : ''}${rest > 0 && truncated ? '; ' : ''}${truncated ? 'the body was longer than 64 KiB' : ''}; --json shows what is kept)`);
  return out;
}
