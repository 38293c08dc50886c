import type { FastifyInstance } from 'fastify';
import { AppError, quoteInput } from '../../shared/errors.js';
import { parseE164 } from '../../shared/phone-number.js';
import type { CallFilters, CallStatus } from '../../store/repos/call-repo.js';
import type { ApiContext } from '../api-context.js';
import { decodeCursor, encodeCursor } from '../request-fields.js';
import { callListQuery, params, type CallListQuery, type IdParams } from '../route-schemas.js';
import { callView, timelineEntryView } from '../serializers.js';
import { sendRecordingFile } from './recording-file.js';

/** A timestamp as Date.parse reads it (the schema has checked it is one value). */
function readTimestamp(value: string | undefined, field: string): string | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new AppError('validation_failed', `${field} must be an ISO-8601 timestamp`, field);
  return new Date(t).toISOString();
}

/** The filters of the list; their values are single and checked by `callListQuery`. */
function readFilters(query: CallListQuery): CallFilters {
  const filters: CallFilters = {};
  if (query.status !== undefined) filters.status = query.status as CallStatus;
  if (query.direction !== undefined) filters.direction = query.direction;
  // '+' in a query string arrives as a space: numbers are normalised back to E.164.
  if (query.from !== undefined) filters.from = parseE164(query.from) ?? query.from.trim();
  if (query.to !== undefined) filters.to = parseE164(query.to) ?? query.to.trim();
  if (query.number_id !== undefined) filters.numberId = query.number_id;
  if (query.conference !== undefined) filters.conference = query.conference;
  if (query.parent_call_id !== undefined) filters.parentCallId = query.parent_call_id;
  const since = readTimestamp(query.since, 'since');
  if (since) filters.since = since;
  const until = readTimestamp(query.until, 'until');
  if (until) filters.until = until;
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(query)) {
    if (key.startsWith('metadata.') && typeof value === 'string') metadata[key.slice('metadata.'.length)] = value;
  }
  if (Object.keys(metadata).length > 0) filters.metadata = metadata;
  return filters;
}

export function registerCallRoutes(app: FastifyInstance, ctx: ApiContext): void {
  /** A bare JSON array, newest first; the next page is in the Link header (SPEC §4). */
  app.get<{ Querystring: CallListQuery }>('/v1/calls', { schema: { querystring: callListQuery } }, async (request, reply) => {
    const { workspaceId, query } = request;
    const { limit } = query;
    const before = decodeCursor(query.cursor);
    const filters = readFilters(query);
    const calls = await ctx.store.calls.list(workspaceId, filters, { limit: limit + 1, ...(before ? { before } : {}) });
    const page = calls.slice(0, limit);
    if (calls.length > limit) {
      const next = new URL(`${ctx.publicUrl}/v1/calls`);
      // The query as the schema left it: `limit` is a number, with its default.
      for (const [key, value] of Object.entries(query)) if (key !== 'cursor' && (typeof value === 'string' || typeof value === 'number')) next.searchParams.set(key, String(value));
      next.searchParams.set('cursor', encodeCursor(page[page.length - 1]!.id));
      void reply.header('Link', `<${next.toString()}>; rel="next"`);
    }
    // One query for the page's recordings, not one per call (a page holds up to 1000).
    const recordings = await ctx.store.recordings.forCalls(workspaceId, page.map((call) => call.id));
    return page.map((call) => callView(call, { recording: recordings.get(call.id), publicUrl: ctx.publicUrl }));
  });

  app.get<{ Params: IdParams }>('/v1/calls/:id', { schema: { params: params.call } }, async (request) => {
    const { workspaceId } = request;
    const { id } = request.params;
    const call = await ctx.store.calls.get(workspaceId, id);
    if (!call) throw new AppError('not_found', `no call ${quoteInput(id)} in this workspace`);
    const [events, recording] = await Promise.all([ctx.store.calls.events(call.id), ctx.store.recordings.forCall(workspaceId, call.id)]);
    return callView(call, { events, recording, publicUrl: ctx.publicUrl });
  });

  /** Everything that happened on the call (SPEC §14). Entries still queued are written first, so the answer is up to date. */
  app.get<{ Params: IdParams }>('/v1/calls/:id/timeline', { schema: { params: params.call } }, async (request) => {
    const { workspaceId } = request;
    const { id } = request.params;
    const call = await ctx.store.calls.get(workspaceId, id);
    if (!call) throw new AppError('not_found', `no call ${quoteInput(id)} in this workspace`);
    await ctx.timeline.flush();
    const entries = await ctx.store.timeline.list(call.id);
    return { data: entries.map(timelineEntryView) };
  });

  app.get<{ Params: IdParams }>('/v1/calls/:id/recording', { schema: { params: params.call } }, async (request, reply) => {
    const { workspaceId } = request;
    const { id } = request.params;
    const call = await ctx.store.calls.get(workspaceId, id);
    if (!call) throw new AppError('not_found', `no call ${quoteInput(id)} in this workspace`);
    const recording = await ctx.store.recordings.forCall(workspaceId, call.id);
    if (!recording) throw new AppError('not_found', `call ${quoteInput(id)} has no recording`);
    return sendRecordingFile(reply, recording, ctx.liveCalls);
  });
}
