/**
 * The AI outbound page (002) as a runnable app: the answer webhook returns the
 * page's XML <Stream> (then a <Redirect> to /ai/after-stream), the bridge at
 * /audio runs the qualification script, and /ai/after-stream dials a rep for a
 * hot lead or says goodbye to a cold one.
 */
import type { Server } from 'node:http';
import express, { type Express } from 'express';
import { attachBridge } from './bridge.js';
import { LeadBook } from './leads.js';
import { bodyParsers, env, isMain, requireSautikitSignature } from '../shared/webhook.js';

export interface AiOutboundOptions {
  /** How Sautikit reaches this app over HTTP; the WebSocket URL is the same host at /audio. */
  publicUrl: string;
  /** The live rep a hot lead is transferred to. */
  repNumber?: string;
  signingSecret?: string;
}

export interface AiOutboundState {
  leads: LeadBook;
  /** Stream status events received (the event's fields). */
  streamEvents: Array<Record<string, any>>;
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function createApp(options: AiOutboundOptions): Express {
  const { publicUrl } = options;
  const repNumber = options.repNumber ?? '+254720000005';
  const wsUrl = `${publicUrl.replace(/^http/, 'ws')}/audio`;
  const state: AiOutboundState = { leads: new LeadBook(), streamEvents: [] };
  const app = express();
  app.locals.aiOutbound = state;
  app.use(...bodyParsers(), requireSautikitSignature(options.signingSecret));

  // When the lead answers: open the audio stream; when the socket closes, ask what to do next.
  app.post('/ai/answer', (_req, res) => {
    res.type('application/xml').send(`<Response>
  <Stream
    name="lead-qualifier"
    url="${xmlEscape(wsUrl)}"
    track="both_tracks"
    outputSamplingRate="16000"
    statusCallback="${xmlEscape(`${publicUrl}/stream-status`)}"
    statusEvents="stream-started stream-stopped stream-error" />
  <Redirect>${xmlEscape(`${publicUrl}/ai/after-stream`)}</Redirect>
</Response>`);
  });

  // The stream has ended: a hot lead is warm-transferred to a rep, a cold one hears a goodbye.
  app.post('/ai/after-stream', (req, res) => {
    const callId = String(req.body.CallId);
    const hot = state.leads.has(callId) && state.leads.get(callId).hot;
    res.type('application/xml').send(hot
      ? `<Response><Dial callerId="${xmlEscape(String(req.body.From))}" timeout="30">${xmlEscape(repNumber)}</Dial></Response>`
      : '<Response><Say>Thanks again. Goodbye.</Say><Hangup/></Response>');
  });

  app.post('/stream-status', (req, res) => {
    state.streamEvents.push(req.body);
    res.sendStatus(204);
  });

  return app;
}

export function aiOutboundState(app: Express): AiOutboundState {
  return app.locals.aiOutbound as AiOutboundState;
}

/** Serves the app and its WebSocket bridge on one HTTP server. */
export function attachAiBridge(app: Express, server: Server, answerTimeoutMs?: number): void {
  attachBridge(server, { leads: aiOutboundState(app).leads, ...(answerTimeoutMs === undefined ? {} : { answerTimeoutMs }) });
}

if (isMain(import.meta.url)) {
  const port = Number(env('PORT', '3000'));
  const publicUrl = env('PUBLIC_URL', `http://127.0.0.1:${port}`);
  const app = createApp({ publicUrl, repNumber: process.env.REP_NUMBER, signingSecret: process.env.SAUTIKIT_SIGNING_SECRET });
  const server = app.listen(port, () => console.log(`AI outbound app on :${port}; routing_url ${publicUrl}/ai/answer, stream ${publicUrl.replace(/^http/, 'ws')}/audio`));
  attachAiBridge(app, server);
}
