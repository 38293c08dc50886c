import type { FastifyInstance } from 'fastify';
import { AppError } from '../../shared/errors.js';
import type { ApiContext } from '../api-context.js';
import { participantBody, type ParticipantBody } from '../body-schemas/conferences.js';
import { roomView } from '../live/live-operations.js';
import { conferenceListQuery, params, type ConferenceListQuery, type ParticipantParams, type RoomParams } from '../route-schemas.js';

/**
 * Conference rooms and live participant control (SPEC §4, §7). Rooms exist while someone is in them.
 * A room on another node, and a participant whose call is on another node, are served by that node (SPEC §16).
 */
export function registerConferenceRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const conferences = () => ctx.engine.conferences;
  const roomIsHere = (workspaceId: string, name: string) => conferences().get(workspaceId, name) !== undefined;

  app.get<{ Querystring: ConferenceListQuery }>('/v1/conferences', { schema: { querystring: conferenceListQuery } }, async (request) => {
    const { workspaceId } = request;
    const { status } = request.query;
    // Ended rooms are not kept: their history is in the calls (conference filter) and events.
    if (status === 'completed') return [];
    return conferences().list(workspaceId).map((r) => roomView(r, false));
  });

  app.get<{ Params: RoomParams }>('/v1/conferences/:name', { schema: { params: params.room } }, async (request) => {
    const { workspaceId } = request;
    const { name } = request.params;
    return ctx.liveCalls.forRoom(workspaceId, name, { kind: 'conference.get', workspaceId, name }, roomIsHere(workspaceId, name));
  });

  app.post<{ Params: RoomParams }>('/v1/conferences/:name/end', { schema: { params: params.room } }, async (request) => {
    const { workspaceId } = request;
    const { name } = request.params;
    return ctx.liveCalls.forRoom(workspaceId, name, { kind: 'conference.end', workspaceId, name }, roomIsHere(workspaceId, name));
  });

  app.get<{ Params: RoomParams }>('/v1/conferences/:name/participants', { schema: { params: params.room } }, async (request) => {
    const { workspaceId } = request;
    const { name } = request.params;
    const room = await ctx.liveCalls.forRoom(workspaceId, name, { kind: 'conference.get', workspaceId, name }, roomIsHere(workspaceId, name));
    return (room as { participants: unknown[] }).participants;
  });

  app.patch<{ Params: ParticipantParams; Body: ParticipantBody }>('/v1/conferences/:name/participants/:callId', {
    schema: { params: params.participant, body: participantBody },
  }, async (request) => {
    const { workspaceId } = request;
    const { name, callId } = request.params;
    const { muted, hold } = request.body;
    if (muted === undefined && hold === undefined) throw new AppError('validation_failed', 'send muted and/or hold', 'body');
    return ctx.liveCalls.forCall(workspaceId, callId, {
      kind: 'conference.participant.update', workspaceId, name, callId, ...(muted !== undefined ? { muted } : {}), ...(hold !== undefined ? { hold } : {}),
    });
  });

  /** Ejects the participant: it leaves the room and its call is hung up. */
  app.delete<{ Params: ParticipantParams }>('/v1/conferences/:name/participants/:callId', { schema: { params: params.participant } }, async (request, reply) => {
    const { workspaceId } = request;
    const { name, callId } = request.params;
    await ctx.liveCalls.forCall(workspaceId, callId, { kind: 'conference.participant.kick', workspaceId, name, callId });
    return reply.status(204).send();
  });
}
