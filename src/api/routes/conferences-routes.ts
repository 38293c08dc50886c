import type { FastifyInstance } from 'fastify';
import { AppError } from '../../shared/errors.js';
import type { ApiContext } from '../api-context.js';
import { participantBody, type ParticipantBody } from '../body-schemas/conferences.js';
import { roomView } from '../live/live-operations.js';
import { conferenceListQuery, params, type ConferenceListQuery, type ParticipantParams, type RoomParams } from '../route-schemas.js';

/**
 * Conference rooms and live participant control (SPEC §4, §7). Rooms exist while someone is in them.
 * A room whose home is another node is served by that node, participants included, whichever node runs their calls (SPEC §16).
 */
export function registerConferenceRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const conferences = () => ctx.engine.conferences;
  const roomIsHere = (workspaceId: string, name: string) => conferences().get(workspaceId, name) !== undefined;

  app.get<{ Querystring: ConferenceListQuery }>('/v1/conferences', { schema: { querystring: conferenceListQuery } }, async (request) => {
    const { workspaceId } = request;
    const { status } = request.query;
    // Ended rooms are not kept: their history is in the calls (conference filter) and events.
    if (status === 'completed') return [];
    const here = conferences().list(workspaceId).map((r) => roomView(r, false));
    // Rooms whose home is another node (SPEC §16) are listed as that node sees them.
    const elsewhere = (await ctx.liveCalls.roomsElsewhere(workspaceId)) as Array<Record<string, unknown>>;
    const names = new Set(here.map((r) => r['name']));
    const others = elsewhere.filter((r) => !names.has(r['name'])).map(({ participants: _participants, ...room }) => room);
    return [...here, ...others].sort((x, y) => String(x['name']).localeCompare(String(y['name'])));
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
    return ctx.liveCalls.forRoom(workspaceId, name, {
      kind: 'conference.participant.update', workspaceId, name, callId, ...(muted !== undefined ? { muted } : {}), ...(hold !== undefined ? { hold } : {}),
    }, roomIsHere(workspaceId, name));
  });

  /** Ejects the participant: it leaves the room and its call is hung up. */
  app.delete<{ Params: ParticipantParams }>('/v1/conferences/:name/participants/:callId', { schema: { params: params.participant } }, async (request, reply) => {
    const { workspaceId } = request;
    const { name, callId } = request.params;
    await ctx.liveCalls.forRoom(workspaceId, name, { kind: 'conference.participant.kick', workspaceId, name, callId }, roomIsHere(workspaceId, name));
    return reply.status(204).send();
  });
}
