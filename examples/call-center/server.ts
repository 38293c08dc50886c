/**
 * The call-center pages (000 and 001) as one runnable app. Routes Sautikit calls:
 * /calls/inbound, /calls/agent-join, /calls/outbound-answer, /support/inbound,
 * /agent-voice, /supervisor-voice and the event handlers; routes your own back
 * office calls: /calls/connect-agent, /campaign/call, /support/assign,
 * /support/warm-transfer, /support/supervise, /agents/:id/free.
 */
import express, { type Express } from 'express';
import { createAgentStore } from './agent-store.js';
import { inboundQueueRoutes } from './inbound-queue.js';
import type { CallCenterOptions, CallCenterState, RouteContext } from './options.js';
import { supportConferenceRoutes } from './support-conference.js';
import { bodyParsers, env, isMain, requireSautikitSignature, sautikitApi } from '../shared/webhook.js';

export type { CallCenterOptions, CallCenterState } from './options.js';

export function createApp(options: CallCenterOptions): Express {
  const state: CallCenterState = {
    store: createAgentStore(options.agents ?? [{ id: 'amina', phoneNumber: '+254722000001' }]),
    queueEvents: [], conferenceEvents: [], outboundStatus: [], placed: [],
  };
  const ctx: RouteContext = {
    options, state,
    fromSautikit: requireSautikitSignature(options.signingSecret),
    api: (method, path, body) => sautikitApi(options.sautikitUrl, options.apiKey, method, path, body),
    placeCall: async (path, body, purpose) => {
      const call = await sautikitApi(options.sautikitUrl, options.apiKey, 'POST', path, body);
      state.placed.push({ id: call.id, to: String(body.to), purpose });
      return call;
    },
  };
  const app = express();
  app.locals.callCenter = state;
  app.use(...bodyParsers());
  inboundQueueRoutes(app, ctx);
  supportConferenceRoutes(app, ctx);
  return app;
}

/** The app's state (agents, queue, events received). */
export function callCenterState(app: Express): CallCenterState {
  return app.locals.callCenter as CallCenterState;
}

if (isMain(import.meta.url)) {
  const port = Number(env('PORT', '3000'));
  const app = createApp({
    publicUrl: env('PUBLIC_URL', `http://127.0.0.1:${port}`),
    sautikitUrl: env('SAUTIKIT_URL', 'http://127.0.0.1:8080'),
    apiKey: env('SAUTIKIT_API_KEY'),
    number: env('SAUTIKIT_NUMBER'),
    signingSecret: process.env.SAUTIKIT_SIGNING_SECRET,
    ...(process.env.AGENTS ? { agents: process.env.AGENTS.split(',').map((phoneNumber, i) => ({ id: `agent-${i + 1}`, phoneNumber })) } : {}),
  });
  app.listen(port, () => console.log(`call center listening on :${port}`));
}
