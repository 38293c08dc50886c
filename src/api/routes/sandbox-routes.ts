import type { FastifyInstance } from 'fastify';
import { AppError } from '../../shared/errors.js';
import { parseE164 } from '../../shared/phone-number.js';
import { checkScriptUrls, parsePhoneScript } from '../../sandbox/phone-script.js';
import type { PhoneBehaviour } from '../../sandbox/sandbox-carrier.js';
import type { ApiContext } from '../api-context.js';
import { pick } from '../body-schemas/body-schema.js';
import { sandboxCallBody, sandboxPhoneBody, type SandboxCallBody, type SandboxPhoneBody } from '../body-schemas/sandbox.js';
import { carrierOf, reportView, sandboxCallOf } from '../live/live-operations.js';
import { decodeParam } from '../request-fields.js';
import { params, type IdParams, type PhoneParams } from '../route-schemas.js';

function phoneView(number: string, b: PhoneBehaviour): Record<string, unknown> {
  return { number, answer: b.answer, script: b.script, hangup_after: b.hangupAfterSeconds ?? null };
}

/** The sandbox carrier (SPEC §11): simulated inbound calls and scriptable dialled phones. */
export function registerSandboxRoutes(app: FastifyInstance, ctx: ApiContext): void {
  /** A sandbox phone calls one of your numbers and runs its script. */
  // A server without the sandbox says so before anything is read from the body.
  const sandboxRunning = async () => void carrierOf(ctx);

  app.post<{ Body: SandboxCallBody }>('/v1/sandbox/calls', { schema: { body: sandboxCallBody }, preValidation: sandboxRunning }, async (request, reply) => {
    const { workspaceId, body } = request;
    const carrier = carrierOf(ctx);
    const to = parseE164(body.to);
    if (!to) throw new AppError('validation_failed', 'to must be one of your numbers, e.g. +254700000001', 'to');
    const from = parseE164(body.from ?? '+254711000000');
    if (!from) throw new AppError('validation_failed', 'from must be an E.164 number', 'from');
    const script = parsePhoneScript(body.script, 'script');
    if ('error' in script) throw new AppError('validation_failed', script.error, script.field);
    checkScriptUrls(script, await ctx.store.settings.get(workspaceId), 'script');
    const maxDuration = pick(body, ['max_duration', 'maxDuration'])?.value ?? 60;
    const call = carrier.placeCall({ from, to, script, maxDurationSeconds: maxDuration, owner: workspaceId });
    // The platform answers the INVITE within milliseconds; wait for its call id (or the end of a refused call).
    await Promise.race([call.whenLinked(), new Promise((r) => setTimeout(r, 5000))]);
    return reply.status(201).send({ id: call.report.id, call_id: call.report.call_id, status: call.report.status });
  });

  app.get<{ Params: IdParams }>('/v1/sandbox/calls/:id', { schema: { params: params.resource } }, async (request) => {
    const { workspaceId } = request;
    const { id } = request.params;
    // The sandbox is per node: a call placed by another node's sandbox is reported by that node (SPEC §16).
    return ctx.liveCalls.forSandboxCall({ kind: 'sandbox.call', workspaceId, id });
  });

  /** What the phone heard, as a WAV (16-bit PCM, 8 kHz; the first 5 minutes), so a test call can be listened to. */
  app.get<{ Params: IdParams }>('/v1/sandbox/calls/:id/audio', { schema: { params: params.resource } }, async (request, reply) => {
    const { workspaceId } = request;
    const { id } = request.params;
    const wav = await ctx.liveCalls.sandboxAudio(workspaceId, id, () => sandboxCallOf(ctx, workspaceId, id).heard.toWav());
    return reply.type('audio/wav').header('cache-control', 'no-store').send(wav);
  });

  /** How a sandbox number behaves when dialled: `{answer, script, hangup_after}`. */
  app.put<{ Params: PhoneParams; Body: SandboxPhoneBody }>('/v1/sandbox/phones/:number', { schema: { params: params.phone, body: sandboxPhoneBody }, preValidation: sandboxRunning }, async (request) => {
    const { workspaceId, body } = request;
    const carrier = carrierOf(ctx);
    const { number: rawNumber } = request.params;
    const number = parseE164(decodeParam(rawNumber));
    if (!number) throw new AppError('validation_failed', 'the phone must be an E.164 number', 'number');
    const answer: PhoneBehaviour['answer'] = body.answer ?? { after: 1 };
    const script = parsePhoneScript(body.script, 'script');
    if ('error' in script) throw new AppError('validation_failed', script.error, script.field);
    checkScriptUrls(script, await ctx.store.settings.get(workspaceId), 'script');
    const hangupAfter = pick(body, ['hangup_after', 'hangupAfter'])?.value;
    const behaviour: PhoneBehaviour = { answer, script, hangupAfterSeconds: hangupAfter };
    carrier.setPhone(number, behaviour, workspaceId);
    return phoneView(number, behaviour);
  });

  app.get<{ Params: PhoneParams }>('/v1/sandbox/phones/:number', { schema: { params: params.phone } }, async (request) => {
    const { workspaceId } = request;
    const { number: rawNumber } = request.params;
    const number = parseE164(decodeParam(rawNumber));
    if (!number) throw new AppError('validation_failed', 'the phone must be an E.164 number', 'number');
    return phoneView(number, carrierOf(ctx).phone(number, workspaceId));
  });

  /** The workspace's own calls with that phone (another workspace's are never shown). */
  app.get<{ Params: PhoneParams }>('/v1/sandbox/phones/:number/calls', { schema: { params: params.phone } }, async (request) => {
    const { workspaceId } = request;
    const { number: rawNumber } = request.params;
    const number = parseE164(decodeParam(rawNumber));
    if (!number) throw new AppError('validation_failed', 'the phone must be an E.164 number', 'number');
    return carrierOf(ctx).callsOf(number, workspaceId).reverse().map(reportView);
  });
}
