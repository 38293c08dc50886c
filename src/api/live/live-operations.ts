import { open } from 'node:fs/promises';
import { parseActions } from '../../actions/parse-actions.js';
import { ActionValidationError } from '../../actions/action-node.js';
import type { ParticipantInfo, RoomInfo } from '../../conference/index.js';
import type { NodeRequest, FileChunk } from '../../cluster/node-messages.js';
import type { SandboxCall, SandboxCallReport } from '../../sandbox/sandbox-call.js';
import type { SandboxCarrier } from '../../sandbox/sandbox-carrier.js';
import { checkCallbackUrl } from '../../shared/callback-url-policy.js';
import { AppError, quoteInput } from '../../shared/errors.js';
import type { CallRecord } from '../../store/repos/call-repo.js';
import type { ApiContext } from '../api-context.js';
import { pick } from '../body-schemas/body-schema.js';
import { controlCallBody, type ControlCallBody } from '../body-schemas/calls.js';
import { bodyAjv } from '../plugins/validation.js';
import { callView } from '../serializers.js';

/**
 * What the REST API does to live things this node holds: a call's live
 * control, a conference room, a sandbox call. The routes run these for their
 * own node, and the NodeBus runs them for a peer that forwarded the request
 * (src/api/live/live-call-router.ts decides which), so both answer alike.
 */

/** Largest piece of a file in one NATS reply: base64 makes it 4/3 larger, under the server's 1 MiB default max_payload. */
export const fileChunkBytes = 512 * 1024;

export function participantView(p: ParticipantInfo): Record<string, unknown> {
  return { call_id: p.callId, caller: p.caller, muted: p.muted, hold: p.hold, start_on_enter: p.startOnEnter, end_on_exit: p.endOnExit, joined_at: p.joinedAt.toISOString() };
}

export function roomView(r: RoomInfo, withParticipants: boolean): Record<string, unknown> {
  return {
    name: r.name, status: r.state === 'ended' ? 'completed' : 'active', state: r.state, created_at: r.createdAt.toISOString(),
    started_at: r.startedAt?.toISOString() ?? null, recording: r.recording, participant_count: r.participants.length,
    ...(withParticipants ? { participants: r.participants.map(participantView) } : {}),
  };
}

export function reportView(r: SandboxCallReport): Record<string, unknown> {
  return {
    id: r.id, status: r.status, call_id: r.call_id, from: r.from, to: r.to, direction: r.direction, digits_heard: r.digits_heard,
    audio_seconds_heard: r.audio_seconds_heard, beeps_heard: r.beeps_heard, hangup_by: r.hangup_by, duration_seconds: r.duration_seconds,
    sip_status: r.sip_status, started_at: r.started_at, answered_at: r.answered_at, ended_at: r.ended_at, errors: r.errors,
  };
}

export function carrierOf(ctx: Pick<ApiContext, 'sandbox'>): SandboxCarrier {
  if (!ctx.sandbox) throw new AppError('sandbox_not_running', 'the sandbox carrier is off on this server (trunks are configured, or --sandbox false)');
  return ctx.sandbox;
}

/** The workspace's sandbox call `id` on this node's sandbox. */
export function sandboxCallOf(ctx: Pick<ApiContext, 'sandbox'>, workspaceId: string, id: string): SandboxCall {
  const call = carrierOf(ctx).call(id);
  if (!call || call.owner !== workspaceId) throw new AppError('not_found', `no sandbox call ${quoteInput(id)}`);
  return call;
}

/** The 409 of a call that cannot be controlled live (SPEC §4, §16). */
export function callNotActive(call: Pick<CallRecord, 'id' | 'status'>): AppError {
  return new AppError('call_not_active', `call ${quoteInput(call.id)} is ${call.status}; only a call in progress can be controlled`, 'id');
}

function liveRoom(ctx: ApiContext, workspaceId: string, name: string): RoomInfo {
  const found = ctx.engine.conferences.get(workspaceId, name);
  if (!found) throw new AppError('not_found', `no active conference '${quoteInput(name)}' in this workspace`);
  return found;
}

function notInRoom(callId: string, name: string): AppError {
  return new AppError('not_found', `call ${quoteInput(callId)} is not in conference '${quoteInput(name)}'`);
}

/** PATCH /v1/calls/{id} on the node running the call: redirect, replace the actions, hang up, mute or hold (SPEC §4). */
export async function controlCall(ctx: ApiContext, workspaceId: string, id: string, body: ControlCallBody): Promise<Record<string, unknown>> {
  const call = await ctx.store.calls.get(workspaceId, id);
  if (!call) throw new AppError('not_found', `no call ${quoteInput(id)} in this workspace`);
  const session = ctx.engine.live(workspaceId, id);
  if (!session || (call.status !== 'in-progress' && !(body.status === 'completed' && session))) throw callNotActive(call);
  const { status, muted, hold } = body;
  if (muted !== undefined || hold !== undefined) {
    const room = ctx.engine.conferences.roomOf(id);
    if (!room) throw new AppError('call_not_active', `call ${quoteInput(id)} is not in a conference; muted and hold apply in conferences`, muted !== undefined ? 'muted' : 'hold');
    // Muted or held in the room's mix: here, or on the room's home when it lives on another node (SPEC §16).
    await ctx.liveCalls.forRoom(room.workspaceId, room.name, {
      kind: 'conference.participant.update', workspaceId: room.workspaceId, name: room.name, callId: id, ...(muted !== undefined ? { muted } : {}), ...(hold !== undefined ? { hold } : {}),
    }, room.home === undefined);
  } else if (status !== undefined) {
    await ctx.engine.hangup(session);
  } else if (body.actions !== undefined) {
    let actions;
    try {
      actions = parseActions({ format: 'json', value: { actions: body.actions } });
    } catch (error) {
      if (error instanceof ActionValidationError) throw new AppError('validation_failed', error.message, error.field ? `actions[${error.index}].${error.field}` : 'actions');
      throw error;
    }
    ctx.engine.replace(session, actions);
  } else {
    const found = pick(body, ['action_url', 'actionUrl', 'url']);
    if (!found) throw new AppError('validation_failed', 'send one of action_url, actions, status, muted or hold', 'body');
    checkCallbackUrl(found.value, await ctx.store.settings.get(workspaceId), found.name);
    const redirected = await ctx.engine.redirect(session, found.value);
    if (!redirected) throw new AppError('validation_failed', `${quoteInput(found.value)} did not answer valid actions (see the call's errors)`, found.name);
  }
  const latest = (await ctx.store.calls.get(workspaceId, id))!;
  return callView(latest, { publicUrl: ctx.publicUrl });
}

/** Mutes and/or holds a participant of a room on this node; answers its view. */
export function updateParticipant(ctx: ApiContext, workspaceId: string, name: string, callId: string, change: { muted?: boolean | undefined; hold?: boolean | undefined }): Record<string, unknown> {
  const found = liveRoom(ctx, workspaceId, name).participants.find((p) => p.callId === callId);
  if (!found) throw notInRoom(callId, name);
  const { manager } = ctx.engine.conferences;
  if (change.muted !== undefined) manager.setMuted(workspaceId, name, callId, change.muted);
  if (change.hold !== undefined) manager.setHold(workspaceId, name, callId, change.hold);
  return participantView(liveRoom(ctx, workspaceId, name).participants.find((p) => p.callId === callId) ?? found);
}

/** Ejects a participant of a room on this node: it leaves the room and its call is hung up. */
export function kickParticipant(ctx: ApiContext, workspaceId: string, name: string, callId: string): null {
  liveRoom(ctx, workspaceId, name);
  if (!ctx.engine.conferences.manager.kick(workspaceId, name, callId)) throw notInRoom(callId, name);
  return null;
}

function chunkOf(whole: Buffer, offset: number): FileChunk {
  return { size: whole.length, data: whole.subarray(offset, offset + fileChunkBytes).toString('base64') };
}

async function recordingChunk(ctx: ApiContext, workspaceId: string, recordingId: string, offset: number): Promise<FileChunk> {
  const recording = await ctx.store.recordings.get(workspaceId, recordingId);
  if (!recording) throw new AppError('not_found', `no recording ${quoteInput(recordingId)} in this workspace`);
  let file;
  try {
    file = await open(recording.path, 'r');
  } catch {
    throw new AppError('not_found', `the audio of recording ${recording.id} is no longer stored`);
  }
  try {
    const { size } = await file.stat();
    const buffer = Buffer.alloc(Math.max(0, Math.min(fileChunkBytes, size - offset)));
    const { bytesRead } = await file.read(buffer, 0, buffer.length, offset);
    return { size, data: buffer.subarray(0, bytesRead).toString('base64') };
  } finally {
    await file.close();
  }
}

let forwardedBodyCheck: ReturnType<ReturnType<typeof bodyAjv>['compile']> | undefined;

/** A PATCH body forwarded by a peer, checked against the route's own schema (the peer checked it too; this node trusts no message). */
function forwardedControlBody(body: Record<string, unknown>): ControlCallBody {
  forwardedBodyCheck ??= bodyAjv().compile(controlCallBody);
  if (!forwardedBodyCheck(body)) {
    const first = forwardedBodyCheck.errors?.[0];
    throw new AppError('validation_failed', `the forwarded request body is invalid: ${first?.instancePath || 'body'} ${first?.message ?? ''}`.trim(), 'body');
  }
  return body as ControlCallBody;
}

/** Carries out a peer's request on this node (the NodeBus handler). */
export async function performLive(ctx: ApiContext, request: NodeRequest): Promise<unknown> {
  switch (request.kind) {
    case 'call.control':
      return controlCall(ctx, request.workspaceId, request.callId, forwardedControlBody(request.body));
    case 'conference.get':
      return roomView(liveRoom(ctx, request.workspaceId, request.name), true);
    case 'conference.end':
      liveRoom(ctx, request.workspaceId, request.name);
      await ctx.engine.conferences.manager.end(request.workspaceId, request.name);
      return { name: request.name, status: 'completed' };
    case 'conference.participant.update':
      return updateParticipant(ctx, request.workspaceId, request.name, request.callId, request);
    case 'conference.participant.kick':
      return kickParticipant(ctx, request.workspaceId, request.name, request.callId);
    case 'sandbox.call':
      return reportView(sandboxCallOf(ctx, request.workspaceId, request.id).report);
    case 'sandbox.audio.chunk':
      return chunkOf(sandboxCallOf(ctx, request.workspaceId, request.id).heard.toWav(), request.offset);
    case 'recording.chunk':
      return recordingChunk(ctx, request.workspaceId, request.recordingId, request.offset);
  }
}
