import type { RequestHandler } from 'express';
import type { AgentStore } from './agent-store.js';

export interface CallCenterOptions {
  /** How Sautikit reaches this app, e.g. http://127.0.0.1:3000 (the pages' https://yourapp.example.com). */
  publicUrl: string;
  /** The Sautikit server (the pages' https://api.sautikit.com), e.g. http://127.0.0.1:8080. */
  sautikitUrl: string;
  apiKey: string;
  /** Your Sautikit number, the caller ID of the calls this app places (SAUTIKIT_NUMBER). */
  number: string;
  /** The workspace signing secret: webhooks from Sautikit without a valid signature are refused. */
  signingSecret?: string;
  agents?: ReadonlyArray<{ id: string; phoneNumber: string }>;
  /** Where the event handlers' log lines go (console.log by default). */
  log?: (line: string) => void;
}

/** What the app has seen, for a dashboard (and for the tests). */
export interface CallCenterState {
  store: AgentStore;
  /** Bodies received on /calls/queue-events and /conference-events (the event's fields). */
  queueEvents: Array<Record<string, any>>;
  conferenceEvents: Array<Record<string, any>>;
  /** Call lifecycle events received on /calls/outbound-status. */
  outboundStatus: Array<Record<string, any>>;
  /** Calls this app placed through POST /v1/calls (id → purpose). */
  placed: Array<{ id: string; to: string; purpose: string }>;
}

export interface RouteContext {
  options: CallCenterOptions;
  state: CallCenterState;
  /** Signature check for the routes Sautikit calls (not for your own back office's). */
  fromSautikit: RequestHandler;
  /** POST /v1/calls (or /v1/calls/originate) on the Sautikit server; answers the call object. */
  /** Any other REST call (live control of rooms). */
  api(method: 'GET' | 'PATCH' | 'POST', path: string, body?: unknown): Promise<any>;
  placeCall(path: '/v1/calls' | '/v1/calls/originate', body: Record<string, unknown>, purpose: string): Promise<{ id: string }>;
}
