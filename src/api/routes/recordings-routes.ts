import { rm } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { AppError, quoteInput } from '../../shared/errors.js';
import type { ApiContext } from '../api-context.js';
import { decodeCursor, encodeCursor } from '../request-fields.js';
import { pageQuery, params, type IdParams, type PageQuery } from '../route-schemas.js';
import { recordingView } from '../serializers.js';
import { sendRecordingFile } from './recording-file.js';

export function registerRecordingRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: PageQuery }>('/v1/recordings', { schema: { querystring: pageQuery(50, 1000) } }, async (request, reply) => {
    const { workspaceId } = request;
    const { limit } = request.query;
    const before = decodeCursor(request.query.cursor);
    const rows = await ctx.store.recordings.list(workspaceId, { limit: limit + 1, ...(before ? { before } : {}) });
    const page = rows.slice(0, limit);
    if (rows.length > limit) {
      void reply.header('Link', `<${ctx.publicUrl}/v1/recordings?limit=${limit}&cursor=${encodeCursor(page[page.length - 1]!.id)}>; rel="next"`);
    }
    return page.map((r) => recordingView(r, ctx.publicUrl));
  });

  app.get<{ Params: IdParams }>('/v1/recordings/:id', { schema: { params: params.recording } }, async (request) => {
    const { workspaceId } = request;
    const { id } = request.params;
    const recording = await ctx.store.recordings.get(workspaceId, id);
    if (!recording) throw new AppError('not_found', `no recording ${quoteInput(id)} in this workspace`);
    return recordingView(recording, ctx.publicUrl);
  });

  app.get<{ Params: IdParams }>('/v1/recordings/:id/audio', { schema: { params: params.recording } }, async (request, reply) => {
    const { workspaceId } = request;
    const { id } = request.params;
    const recording = await ctx.store.recordings.get(workspaceId, id);
    if (!recording) throw new AppError('not_found', `no recording ${quoteInput(id)} in this workspace`);
    return sendRecordingFile(reply, recording, ctx.liveCalls);
  });

  app.delete<{ Params: IdParams }>('/v1/recordings/:id', { schema: { params: params.recording } }, async (request, reply) => {
    const { workspaceId } = request;
    const { id } = request.params;
    const deleted = await ctx.store.recordings.markDeleted(workspaceId, id, ctx.clock.now());
    if (!deleted) throw new AppError('not_found', `no recording ${quoteInput(id)} in this workspace`);
    await rm(deleted.path, { force: true });
    return reply.status(204).send();
  });
}
