import type { FastifyInstance } from 'fastify';
import { AppError, quoteInput } from '../../shared/errors.js';
import { parseE164 } from '../../shared/phone-number.js';
import { callStatuses, type CallFilters, type CallStatus } from '../../store/repos/call-repo.js';
import type { ApiContext } from '../api-context.js';
import { decodeCursor, encodeCursor, pageLimit } from '../request-fields.js';
import { callView } from '../serializers.js';
import { sendRecordingFile } from './recording-file.js';

function readTimestamp(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  const t = typeof value === 'string' ? Date.parse(value) : NaN;
  if (Number.isNaN(t)) throw new AppError('validation_failed', `${field} must be an ISO-8601 timestamp`, field);
  return new Date(t).toISOString();
}

function readFilters(query: Record<string, unknown>): CallFilters {
  const filters: CallFilters = {};
  const str = (name: string): string | undefined => {
    const v = query[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') throw new AppError('validation_failed', `${name} must be a single value`, name);
    return v;
  };
  const status = str('status');
  if (status !== undefined) {
    if (!callStatuses.includes(status as CallStatus)) throw new AppError('validation_failed', `status must be one of ${callStatuses.join(', ')}`, 'status');
    filters.status = status as CallStatus;
  }
  const direction = str('direction');
  if (direction !== undefined) {
    if (direction !== 'inbound' && direction !== 'outbound') throw new AppError('validation_failed', 'direction must be inbound or outbound', 'direction');
    filters.direction = direction;
  }
  // '+' in a query string arrives as a space: numbers are normalised back to E.164.
  const from = str('from');
  if (from !== undefined) filters.from = parseE164(from) ?? from.trim();
  const to = str('to');
  if (to !== undefined) filters.to = parseE164(to) ?? to.trim();
  const numberId = str('number_id');
  if (numberId !== undefined) filters.numberId = numberId;
  const conference = str('conference');
  if (conference !== undefined) filters.conference = conference;
  const parent = str('parent_call_id');
  if (parent !== undefined) filters.parentCallId = parent;
  const since = readTimestamp(query['since'], 'since');
  if (since) filters.since = since;
  const until = readTimestamp(query['until'], 'until');
  if (until) filters.until = until;
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(query)) {
    if (!key.startsWith('metadata.')) continue;
    if (typeof value !== 'string') throw new AppError('validation_failed', `${quoteInput(key)} must be a single value`, quoteInput(key));
    metadata[key.slice('metadata.'.length)] = value;
  }
  if (Object.keys(metadata).length > 0) filters.metadata = metadata;
  return filters;
}

export function registerCallRoutes(app: FastifyInstance, ctx: ApiContext): void {
  /** A bare JSON array, newest first; the next page is in the Link header (SPEC §4). */
  app.get('/v1/calls', async (request, reply) => {
    const { workspaceId } = request;
    const query = request.query as Record<string, unknown>;
    const limit = pageLimit(query, 50, 1000);
    const before = decodeCursor(query['cursor']);
    const filters = readFilters(query);
    const calls = await ctx.store.calls.list(workspaceId, filters, { limit: limit + 1, ...(before ? { before } : {}) });
    const page = calls.slice(0, limit);
    if (calls.length > limit) {
      const next = new URL(`${ctx.publicUrl}/v1/calls`);
      for (const [key, value] of Object.entries(query)) if (key !== 'cursor' && typeof value === 'string') next.searchParams.set(key, value);
      next.searchParams.set('cursor', encodeCursor(page[page.length - 1]!.id));
      void reply.header('Link', `<${next.toString()}>; rel="next"`);
    }
    // One query for the page's recordings, not one per call (a page holds up to 1000).
    const recordings = await ctx.store.recordings.forCalls(workspaceId, page.map((call) => call.id));
    return page.map((call) => callView(call, { recording: recordings.get(call.id), publicUrl: ctx.publicUrl }));
  });

  app.get('/v1/calls/:id', async (request) => {
    const { workspaceId } = request;
    const { id } = request.params as { id: string };
    const call = await ctx.store.calls.get(workspaceId, id);
    if (!call) throw new AppError('not_found', `no call ${quoteInput(id)} in this workspace`);
    const [events, recording] = await Promise.all([ctx.store.calls.events(call.id), ctx.store.recordings.forCall(workspaceId, call.id)]);
    return callView(call, { events, recording, publicUrl: ctx.publicUrl });
  });

  app.get('/v1/calls/:id/recording', async (request, reply) => {
    const { workspaceId } = request;
    const { id } = request.params as { id: string };
    const call = await ctx.store.calls.get(workspaceId, id);
    if (!call) throw new AppError('not_found', `no call ${quoteInput(id)} in this workspace`);
    const recording = await ctx.store.recordings.forCall(workspaceId, call.id);
    if (!recording) throw new AppError('not_found', `call ${quoteInput(id)} has no recording`);
    return sendRecordingFile(reply, recording);
  });
}
