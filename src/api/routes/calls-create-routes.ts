import type { FastifyInstance } from 'fastify';
import { checkCallbackUrl } from '../../shared/callback-url-policy.js';
import { AppError, quoteInput } from '../../shared/errors.js';
import { parseE164, parseSipTarget } from '../../shared/phone-number.js';
import type { ApiContext } from '../api-context.js';
import type { Origination } from '../../engine/call-engine.js';
import { withIdempotency } from '../idempotency.js';
import { pick } from '../body-schemas/body-schema.js';
import { controlCallBody, createCallBody, type ControlCallBody, type CreateCallBody } from '../body-schemas/calls.js';
import { params, type IdParams } from '../route-schemas.js';
import { callView } from '../serializers.js';

/** The destinations (the schema has checked there are 1 to 100 strings), each an E.164 number or a sip: URI. */
function readDestinations(to: string | string[]): string[] {
  return [to].flat().map((item, i) => {
    const field = Array.isArray(to) ? `to[${i}]` : 'to';
    if (/^sips?:/i.test(item.trim())) {
      if (!parseSipTarget(item)) throw new AppError('validation_failed', `${field} is not a valid sip: URI`, field);
      return item.trim();
    }
    const number = parseE164(item);
    if (!number) throw new AppError('validation_failed', `${field} must be an E.164 number such as +254712345678 or a sip: URI`, field);
    return number;
  });
}

/** `machine_detection` and its timeout (SPEC §17), in whichever spelling they came; a timeout alone is refused, as it would do nothing. */
function readMachineDetection(body: CreateCallBody): Origination['machineDetection'] {
  const mode = pick(body, ['machine_detection', 'machineDetection', 'MachineDetection']);
  const timeout = pick(body, ['machine_detection_timeout', 'machineDetectionTimeout', 'MachineDetectionTimeout']);
  if (!mode) {
    if (timeout) throw new AppError('validation_failed', `${timeout.name} applies only with machine_detection (Enable or DetectMessageEnd)`, timeout.name);
    return undefined;
  }
  return { mode: mode.value, timeoutSeconds: timeout?.value ?? 30 };
}

/** POST /v1/calls and its alias /v1/calls/originate (SPEC §4), and live control with PATCH. */
export function registerCallCreateRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const create = async (body: CreateCallBody, workspaceId: string) => {
    const destinations = readDestinations(body.to);
    const fromNumber = parseE164(body.from);
    const owned = fromNumber ? await ctx.store.numbers.get(workspaceId, fromNumber) : undefined;
    if (!owned) throw new AppError('number_not_owned', `${quoteInput(body.from)} is not a number of this workspace (see GET /v1/numbers)`, 'from');
    const settings = await ctx.store.settings.get(workspaceId);
    const urlField = (found: { name: string; value: string } | undefined) => {
      if (found) checkCallbackUrl(found.value, settings, found.name);
      return found?.value;
    };
    const actionUrl = urlField(pick(body, ['action_url', 'voice_callback_url', 'actionUrl', 'voiceCallbackUrl'])) ?? owned.routingUrl ?? undefined;
    if (!actionUrl) {
      throw new AppError('validation_failed', `give action_url (or voice_callback_url), or set a routing_url on ${owned.number}`, 'action_url');
    }
    const statusUrl = urlField(pick(body, ['status_url', 'statusUrl'])) ?? owned.statusUrl ?? null;
    const timeout = body.timeout ?? 30;
    const timeLimit = pick(body, ['time_limit', 'timeLimit'])?.value;
    const record = body.record ?? false;
    const machineDetection = readMachineDetection(body);
    const metadata = body.metadata ?? {};
    const clientRequestId = pick(body, ['clientRequestId', 'client_request_id'])?.value;
    // A replay of a clientRequestId answers the first response, whatever the wallet says now.
    const result = await withIdempotency(ctx.store, { workspaceId, scope: 'calls', key: clientRequestId, body, now: ctx.clock.now(), field: 'clientRequestId' }, async () => {
      const legs = destinations.map((to, i) => {
        const field = Array.isArray(body.to) ? `to[${i}]` : 'to';
        if (!ctx.engine.destinationAllowed(workspaceId, to, settings.allowedDestinations)) {
          throw new AppError('destination_not_allowed', `${quoteInput(to)} does not match allowed_destinations (PATCH /v1/settings)`, field);
        }
        return { to, field };
      });
      // The records and their first minute's reservations commit together, before the 201 (or not at all).
      const calls = await ctx.engine.admitOutbound({
        workspaceId, from: owned.number, numberId: owned.id, legs, clientRequestId: clientRequestId ?? null, metadata, actionUrl, statusUrl,
      });
      for (const call of calls) {
        ctx.engine.originate({ call, answerUrl: actionUrl, fallbackUrl: owned.fallbackUrl, ringTimeoutSeconds: timeout, timeLimitSeconds: timeLimit, recordCall: record, machineDetection });
      }
      const views = calls.map((call) => callView(call, { publicUrl: ctx.publicUrl }));
      return { status: 201, body: Array.isArray(body.to) ? views : views[0] };
    });
    return result;
  };

  for (const path of ['/v1/calls', '/v1/calls/originate']) {
    app.post<{ Body: CreateCallBody }>(path, { schema: { body: createCallBody } }, async (request, reply) => {
      const result = await create(request.body, request.workspaceId);
      return reply.status(result.status).send(result.body);
    });
  }

  /** Live control: redirect, replace the actions, hang up (SPEC §4); carried out by the node running the call (SPEC §16). */
  app.patch<{ Params: IdParams; Body: ControlCallBody }>('/v1/calls/:id', { schema: { params: params.call, body: controlCallBody } }, async (request) => {
    const { workspaceId, body } = request;
    const { id } = request.params;
    return ctx.liveCalls.forCall(workspaceId, id, { kind: 'call.control', workspaceId, callId: id, body });
  });
}
