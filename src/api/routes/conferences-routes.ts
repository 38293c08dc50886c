import type { FastifyInstance } from 'fastify';
import type { ParticipantInfo, RoomInfo } from '../../conference/index.js';
import { AppError, quoteInput } from '../../shared/errors.js';
import type { ApiContext } from '../api-context.js';
import { participantBody, type ParticipantBody } from '../body-schemas/conferences.js';
import { conferenceListQuery, params, type ConferenceListQuery, type ParticipantParams, type RoomParams } from '../route-schemas.js';

function participantView(p: ParticipantInfo): Record<string, unknown> {
  return { call_id: p.callId, caller: p.caller, muted: p.muted, hold: p.hold, start_on_enter: p.startOnEnter, end_on_exit: p.endOnExit, joined_at: p.joinedAt.toISOString() };
}

function roomView(r: RoomInfo, withParticipants: boolean): Record<string, unknown> {
  return {
    name: r.name, status: r.state === 'ended' ? 'completed' : 'active', state: r.state, created_at: r.createdAt.toISOString(),
    started_at: r.startedAt?.toISOString() ?? null, recording: r.recording, participant_count: r.participants.length,
    ...(withParticipants ? { participants: r.participants.map(participantView) } : {}),
  };
}

/** Conference rooms and live participant control (SPEC §4, §7). Rooms exist while someone is in them. */
export function registerConferenceRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const conferences = () => ctx.engine.conferences;
  const room = (workspaceId: string, name: string): RoomInfo => {
    const found = conferences().get(workspaceId, name);
    if (!found) throw new AppError('not_found', `no active conference '${quoteInput(name)}' in this workspace`);
    return found;
  };

  app.get<{ Querystring: ConferenceListQuery }>('/v1/conferences', { schema: { querystring: conferenceListQuery } }, async (request) => {
    const { workspaceId } = request;
    const { status } = request.query;
    // Ended rooms are not kept: their history is in the calls (conference filter) and events.
    if (status === 'completed') return [];
    return conferences().list(workspaceId).map((r) => roomView(r, false));
  });

  app.get<{ Params: RoomParams }>('/v1/conferences/:name', { schema: { params: params.room } }, async (request) => {
    const { name } = request.params;
    return roomView(room(request.workspaceId, name), true);
  });

  app.post<{ Params: RoomParams }>('/v1/conferences/:name/end', { schema: { params: params.room } }, async (request) => {
    const { workspaceId } = request;
    const { name } = request.params;
    room(workspaceId, name);
    await conferences().manager.end(workspaceId, name);
    return { name, status: 'completed' };
  });

  app.get<{ Params: RoomParams }>('/v1/conferences/:name/participants', { schema: { params: params.room } }, async (request) => {
    const { name } = request.params;
    return room(request.workspaceId, name).participants.map(participantView);
  });

  app.patch<{ Params: ParticipantParams; Body: ParticipantBody }>('/v1/conferences/:name/participants/:callId', {
    schema: { params: params.participant, body: participantBody },
  }, async (request) => {
    const { workspaceId } = request;
    const { name, callId } = request.params;
    const { muted, hold } = request.body;
    if (muted === undefined && hold === undefined) throw new AppError('validation_failed', 'send muted and/or hold', 'body');
    const found = room(workspaceId, name).participants.find((p) => p.callId === callId);
    if (!found) throw new AppError('not_found', `call ${quoteInput(callId)} is not in conference '${quoteInput(name)}'`);
    if (muted !== undefined) conferences().manager.setMuted(workspaceId, name, callId, muted);
    if (hold !== undefined) conferences().manager.setHold(workspaceId, name, callId, hold);
    return participantView(room(workspaceId, name).participants.find((p) => p.callId === callId) ?? found);
  });

  /** Ejects the participant: it leaves the room and its call is hung up. */
  app.delete<{ Params: ParticipantParams }>('/v1/conferences/:name/participants/:callId', { schema: { params: params.participant } }, async (request, reply) => {
    const { workspaceId } = request;
    const { name, callId } = request.params;
    room(workspaceId, name);
    if (!conferences().manager.kick(workspaceId, name, callId)) throw new AppError('not_found', `call ${quoteInput(callId)} is not in conference '${quoteInput(name)}'`);
    return reply.status(204).send();
  });
}
