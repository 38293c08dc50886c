import type { ErrorCode } from '../shared/errors.js';
import { listOf, money, refTo, type Schema } from './openapi-schemas.js';
import { availableNumbersQuery, callListQuery, conferenceListQuery, limitQuery, pageQuery, params, rateQuery } from './route-schemas.js';
import { createWorkspaceBody, creditBody, inventoryBody, ratesBody } from './body-schemas/admin.js';
import { controlCallBody, createCallBody } from './body-schemas/calls.js';
import { participantBody } from './body-schemas/conferences.js';
import { claimNumberBody, updateNumberBody } from './body-schemas/numbers.js';
import { sandboxCallBody, sandboxPhoneBody } from './body-schemas/sandbox.js';
import { settingsBody } from './body-schemas/settings.js';
import { createSipCredentialBody, patchSipCredentialBody } from './body-schemas/sip-credentials.js';
import { createTrunkBody, updateTrunkBody } from './body-schemas/trunks.js';
import { createWebhookBody, rotateSecretBody } from './body-schemas/webhooks.js';

/**
 * Every operation of the REST API, as docs/api.md and /v1/openapi.json
 * describe it. The routes under routes/ do the work; their path parameters,
 * query strings and request bodies are described by the very schemas
 * fastify validates them with (route-schemas.ts, body-schemas/), answers by
 * hand. A test checks that this list and the registered routes, with their
 * schemas, are the same.
 */
export interface Parameter {
  name: string;
  description: string;
  schema?: Schema;
  /** A value that works in the rendered curl example. */
  example?: string;
  required?: boolean;
}

export interface Operation {
  method: 'get' | 'post' | 'patch' | 'put' | 'delete';
  path: string;
  summary: string;
  /** More than the summary line, where the reader needs it. */
  description?: string;
  tag: string;
  auth: 'workspace' | 'admin' | 'none';
  /** The route's schema of its path parameters (route-schemas.ts): the document's path parameters are made from it. */
  params?: Schema;
  /** The route's schema of its query string (route-schemas.ts): the document's query parameters are made from it. */
  querystring?: Schema;
  headers?: Parameter[];
  /** The route's schema of its body (body-schemas/): the document's request body is made from it. */
  body?: Schema;
  /** The body may be left out (defaults apply). */
  bodyOptional?: boolean;
  bodyExample?: unknown;
  /** The success status; by default 201 for POST, 204 for DELETE, else 200. */
  status?: string;
  response?: Schema;
  responseExample?: unknown;
  /** A response that is not JSON (the media type). */
  produces?: string;
  /** Error codes this operation answers besides the ones every request can get (see `buildOpenApiDocument`). */
  errors?: ErrorCode[];
}

const str = (description: string, extra: Schema = {}): Schema => ({ type: 'string', description, ...extra });
const nullableStr = (description: string): Schema => ({ type: ['string', 'null'], description });
const int = (description: string, extra: Schema = {}): Schema => ({ type: 'integer', description, ...extra });
const bool = (description: string, extra: Schema = {}): Schema => ({ type: 'boolean', description, ...extra });
const object = (properties: Record<string, Schema>, required: string[] = [], description?: string): Schema => ({
  type: 'object', ...(description ? { description } : {}), ...(required.length ? { required } : {}), properties,
});

const callExample = {
  id: 'call_0mhx2k9a70000q3v8r1ty', direction: 'outbound', from: '+254700000001', to: '+254711222333', status: 'queued', parent_call_id: null,
  number_id: 'num_0mhx2k1bq0000c7w2x9pe', conference: null, created_at: '2026-03-02T09:15:04.120Z', ringing_at: null, answered_at: null, ended_at: null,
  duration_seconds: null, ring_seconds: null, hangup_cause: null, hangup_by: null, price: null, currency: 'KES', rate_per_minute: null,
  client_request_id: null, metadata: { campaign: 'march' }, recording: null,
};
const numberExample = {
  id: 'num_0mhx2k1bq0000c7w2x9pe', number: '+254700000001', friendly_name: null, routing_url: 'https://yourapp.example.com/ivr/welcome',
  status_url: null, fallback_url: null, claimed_at: '2026-03-02T09:12:40.551Z',
};
const trunkExample = {
  name: 'safaricom', host: 'sip.carrier.example.com', port: 5060, transport: 'udp', username: 'acme', password: 's3cret-pass', prefixes: ['+254'],
  inbound_addresses: ['198.51.100.7', '10.0.0.0/24'], priority: 10, register: true, register_expires: 600, options_ping: 30,
  number_format: 'national', tech_prefix: '1234#', from_domain: 'acme.carrier.example.com', send_pai: true,
};

export const operations: Operation[] = [
  // System
  { method: 'get', path: '/healthz', summary: 'Readiness of the API, SIP and media', tag: 'System', auth: 'none', response: refTo('Health'),
    description: 'Answers 200 once every component is ready, 503 (same body) while starting or stopping.' },
  { method: 'get', path: '/v1/openapi.json', summary: 'This document (OpenAPI 3.1)', tag: 'System', auth: 'none', response: { type: 'object' } },

  // Numbers
  { method: 'get', path: '/v1/numbers/available', summary: 'Inventory numbers not yet claimed', tag: 'Numbers', auth: 'workspace',
    querystring: availableNumbersQuery,
    response: listOf('AvailableNumber'), responseExample: [{ number: '+254700000001', type: 'mobile' }, { number: '+254700000002', type: 'mobile' }] },
  { method: 'post', path: '/v1/numbers', summary: 'Claim a number (a given one, or the first free one with a prefix)', tag: 'Numbers', auth: 'workspace',
    description: 'Callback URLs are checked when saved: `http(s)` only, hosts within `allowed_callback_hosts`, and no private or loopback addresses unless `allow_private_callbacks` is on.',
    body: claimNumberBody,
    bodyExample: { prefix: '+25470', routing_url: 'https://yourapp.example.com/ivr/welcome' },
    response: refTo('Number'), responseExample: numberExample, errors: ['callback_url_not_allowed', 'number_not_available', 'no_numbers_available'] },
  { method: 'get', path: '/v1/numbers', summary: 'Your claimed numbers', tag: 'Numbers', auth: 'workspace', response: listOf('Number') },
  { method: 'get', path: '/v1/numbers/{id}', summary: 'One claimed number (by id or by the number)', tag: 'Numbers', auth: 'workspace', params: params.number,
    response: refTo('Number'), errors: ['not_found'] },
  { method: 'patch', path: '/v1/numbers/{id}', summary: 'Set routing_url, status_url, fallback_url, friendly_name', tag: 'Numbers', auth: 'workspace', params: params.number,
    description: 'Only the fields sent change; `null` (or `""`) clears one.',
    body: updateNumberBody, bodyExample: { routing_url: 'https://yourapp.example.com/ivr/welcome' },
    response: refTo('Number'), responseExample: numberExample, errors: ['not_found', 'callback_url_not_allowed'] },
  { method: 'delete', path: '/v1/numbers/{id}', summary: 'Release a number back to the inventory', tag: 'Numbers', auth: 'workspace', params: params.number, errors: ['not_found'] },

  // Calls
  { method: 'get', path: '/v1/calls', summary: 'Calls, newest first, as a bare array; next page in the Link header', tag: 'Calls', auth: 'workspace',
    querystring: callListQuery,
    response: listOf('Call'), errors: [] },
  { method: 'get', path: '/v1/calls/{id}', summary: 'A call with its lifecycle events and errors', tag: 'Calls', auth: 'workspace', params: params.call,
    response: refTo('Call'), errors: ['not_found'] },
  { method: 'get', path: '/v1/calls/{id}/timeline', summary: 'Everything that happened on the call, in order', tag: 'Calls', auth: 'workspace', params: params.call,
    description: 'Answers `{"data":[…]}`: state changes, each voice callback request and response (bodies: the first 64 KiB), actions started and ended, '
      + 'digits, dial legs, conference joins and leaves, streams, recordings, warnings and errors, oldest first. A `dial` entry names its legs; '
      + 'each leg\'s own entries are on its call id. Kept `--timeline-retention-days` (30 by default).',
    response: object({ data: { type: 'array', items: refTo('TimelineEntry'), description: 'The entries, oldest first' } }),
    responseExample: { data: [
      { at: '2026-03-02T09:15:04.120Z', type: 'status', status: 'ringing' },
      { at: '2026-03-02T09:15:04.131Z', type: 'webhook.request', url: 'https://yourapp.example.com/ivr/welcome', method: 'POST', body: { CallId: 'call_0mhx2k9a70000q3v8r1ty', From: '+254711000001', To: '+254700000001', Direction: 'inbound', CallStatus: 'ringing', AccountId: 'ws_0mhx1z8kq0000d2f7g3hb' } },
      { at: '2026-03-02T09:15:04.170Z', type: 'webhook.response', url: 'https://yourapp.example.com/ivr/welcome', status: 200, duration_ms: 39, content_type: 'application/json', body: '{"actions":[{"getDigits":{"numDigit":1,"action":"https://yourapp.example.com/ivr/route"}}]}' },
      { at: '2026-03-02T09:15:04.171Z', type: 'warning', code: 'unknown_action_field', message: 'actions[0].getDigits has an unknown field \'numDigit\' (did you mean \'numDigits\'?); it was ignored', action_index: 0, action: 'getDigits', field: 'numDigit' },
      { at: '2026-03-02T09:15:04.190Z', type: 'action.start', index: 0, name: 'getDigits' },
      { at: '2026-03-02T09:15:09.402Z', type: 'digits', digits: '2', reason: 'finishOnKey' },
    ] },
    errors: ['not_found'] },
  { method: 'get', path: '/v1/calls/{id}/recording', summary: 'The call\'s recording (WAV)', tag: 'Calls', auth: 'workspace', params: params.call,
    description: 'Answers the WAV itself; `curl -L`, as the product pages write it, works too.', produces: 'audio/wav', errors: ['not_found'] },
  { method: 'post', path: '/v1/calls', summary: 'Place outbound calls (to: a number, a sip: URI, or an array → one call each)', tag: 'Calls', auth: 'workspace',
    description: 'Each destination is checked against `allowed_destinations` and the wallet before anything is dialled; its first minute is reserved '
      + 'with the call record, before the 201, so concurrent requests never start more calls than the balance covers. During shutdown: 503 `shutting_down`. '
      + 'With an array `to` the answer is an array of calls. `clientRequestId` makes the request idempotent for 24 h: the same key and body answer '
      + 'the first response; another body with the key is 409 `idempotency_conflict`.',
    body: createCallBody,
    bodyExample: { to: '+254711222333', from: '+254700000001', action_url: 'https://yourapp.example.com/calls/outbound-answer', status_url: 'https://yourapp.example.com/calls/outbound-status', metadata: { campaign: 'march' } },
    response: refTo('Call'), responseExample: callExample,
    errors: ['number_not_owned', 'callback_url_not_allowed', 'destination_not_allowed', 'insufficient_funds', 'no_rate', 'idempotency_conflict', 'shutting_down'] },
  { method: 'post', path: '/v1/calls/originate', summary: 'Alias of POST /v1/calls', tag: 'Calls', auth: 'workspace', body: createCallBody,
    bodyExample: { to: '+254722111111', from: '+254700000001', voice_callback_url: 'https://yourapp.example.com/agent-voice?room=support-queue-001' },
    response: refTo('Call'), errors: ['number_not_owned', 'callback_url_not_allowed', 'destination_not_allowed', 'insufficient_funds', 'no_rate', 'idempotency_conflict', 'shutting_down'] },
  { method: 'patch', path: '/v1/calls/{id}', summary: 'Live control of a call in progress', tag: 'Calls', auth: 'workspace', params: params.call,
    description: 'Send one of: `{action_url}` (fetch new actions now), `{actions:[…]}` (replace what runs now), `{status:"completed"}` (hang up), '
      + '`{muted}` / `{hold}` (the call is in a conference).',
    body: controlCallBody,
    bodyExample: { actions: [{ say: { text: 'This call is being transferred.' } }, { dial: { number: '+254722111111' } }] },
    response: refTo('Call'), errors: ['not_found', 'call_not_active', 'callback_url_not_allowed'] },

  // Conferences
  { method: 'get', path: '/v1/conferences', summary: 'Conference rooms with someone in them', tag: 'Conferences', auth: 'workspace',
    querystring: conferenceListQuery,
    response: listOf('Conference') },
  { method: 'get', path: '/v1/conferences/{name}', summary: 'A room with its participants', tag: 'Conferences', auth: 'workspace', params: params.room, response: refTo('Conference'), errors: ['not_found'] },
  { method: 'post', path: '/v1/conferences/{name}/end', summary: 'End a room: every participant leaves it and goes on with its actions', tag: 'Conferences', auth: 'workspace', params: params.room,
    status: '200', response: object({ name: str('The room'), status: { const: 'completed', description: 'Always `completed`' } }), errors: ['not_found'] },
  { method: 'get', path: '/v1/conferences/{name}/participants', summary: 'Participants of a room', tag: 'Conferences', auth: 'workspace', params: params.room, response: listOf('Participant'), errors: ['not_found'] },
  { method: 'patch', path: '/v1/conferences/{name}/participants/{callId}', summary: 'Mute/unmute, hold/unhold a participant (sends `mute`/`unmute` events)', tag: 'Conferences', auth: 'workspace', params: params.participant,
    body: participantBody, bodyExample: { muted: true },
    response: refTo('Participant'), errors: ['not_found', 'call_not_active'] },
  { method: 'delete', path: '/v1/conferences/{name}/participants/{callId}', summary: 'Eject a participant: its call is hung up', tag: 'Conferences', auth: 'workspace', params: params.participant, errors: ['not_found', 'call_not_active'] },

  // Recordings
  { method: 'get', path: '/v1/recordings', summary: 'Recordings, newest first; next page in the Link header', tag: 'Recordings', auth: 'workspace', querystring: pageQuery(50, 1000), response: listOf('Recording') },
  { method: 'get', path: '/v1/recordings/{id}', summary: 'A recording', tag: 'Recordings', auth: 'workspace', params: params.recording,
    response: refTo('Recording'), errors: ['not_found'] },
  { method: 'get', path: '/v1/recordings/{id}/audio', summary: 'The recording\'s WAV', tag: 'Recordings', auth: 'workspace', params: params.recording,
    produces: 'audio/wav', errors: ['not_found'] },
  { method: 'delete', path: '/v1/recordings/{id}', summary: 'Delete a recording and its audio', tag: 'Recordings', auth: 'workspace', params: params.recording,
    errors: ['not_found'] },

  // Wallet, rates, settings
  { method: 'get', path: '/v1/wallet', summary: 'Balance, reserved and available amounts', tag: 'Wallet', auth: 'workspace', response: refTo('Wallet'),
    responseExample: { balance: '1000.00', currency: 'KES', reserved: '0.00', available: '1000.00' } },
  { method: 'get', path: '/v1/wallet/transactions', summary: 'The ledger, newest first; next page in the Link header', tag: 'Wallet', auth: 'workspace', querystring: pageQuery(50, 1000), response: listOf('Transaction') },
  { method: 'get', path: '/v1/rates', summary: 'The rate that applies to a destination', tag: 'Wallet', auth: 'workspace',
    querystring: rateQuery,
    response: refTo('RateQuote'), errors: ['no_rate'] },
  { method: 'get', path: '/v1/settings', summary: 'Allow-lists and spend limit', tag: 'Settings', auth: 'workspace', response: refTo('Settings') },
  { method: 'patch', path: '/v1/settings', summary: 'Change allow-lists and spend limit (only the fields sent)', tag: 'Settings', auth: 'workspace',
    body: settingsBody,
    bodyExample: { allowed_destinations: ['+254', 'sip:*@pbx.example.com'], daily_spend_limit: '500.00' }, response: refTo('Settings') },
  { method: 'post', path: '/v1/settings/signing-secret/rotate', summary: 'New workspace signing secret; the old one stays valid for grace_seconds', tag: 'Settings', auth: 'workspace',
    body: rotateSecretBody, bodyOptional: true, bodyExample: { grace_seconds: 3600 }, status: '200',
    response: object({ signing_secret: str('The new secret (shown once)'), previous_secret_expires_at: str('When the old one stops being valid') }) },

  // Webhooks
  { method: 'post', path: '/v1/webhooks', summary: 'Subscribe an endpoint to events (the secret is answered once)', tag: 'Webhooks', auth: 'workspace',
    body: createWebhookBody,
    bodyExample: { url: 'https://yourapp.example.com/sautikit/events', events: ['call.hangup', 'call.recording.ready'] },
    response: refTo('WebhookEndpoint'), errors: ['callback_url_not_allowed'] },
  { method: 'get', path: '/v1/webhooks', summary: 'Webhook endpoints (without secrets)', tag: 'Webhooks', auth: 'workspace', response: listOf('WebhookEndpoint') },
  { method: 'delete', path: '/v1/webhooks/{id}', summary: 'Remove an endpoint', tag: 'Webhooks', auth: 'workspace', params: params.webhook, errors: ['not_found'] },
  { method: 'post', path: '/v1/webhooks/{id}/rotate-secret', summary: 'New endpoint secret; the old one stays valid for grace_seconds', tag: 'Webhooks', auth: 'workspace', params: params.webhook,
    body: rotateSecretBody, bodyOptional: true, status: '200',
    response: object({ id: str('The endpoint'), secret: str('The new secret (shown once)'), previous_secret_expires_at: str('When the old one stops being valid') }), errors: ['not_found'] },
  { method: 'get', path: '/v1/webhooks/{id}/deliveries', summary: 'Deliveries to the endpoint with every attempt, newest first', tag: 'Webhooks', auth: 'workspace', params: params.webhook,
    querystring: pageQuery(50, 500), response: listOf('Delivery'), errors: ['not_found'] },
  { method: 'post', path: '/v1/webhooks/deliveries/{id}/retry', summary: 'Queue a failed or stopped delivery for another round of attempts', tag: 'Webhooks', auth: 'workspace', params: params.delivery,
   
    status: '202', response: refTo('Delivery'), errors: ['not_found'] },

  // SIP
  { method: 'post', path: '/v1/sip/credentials', summary: 'A softphone user: registers as sip:USERNAME@<workspace domain>', tag: 'SIP', auth: 'workspace',
    body: createSipCredentialBody,
    bodyExample: { username: 'agent1', password: 'correct-horse-battery', caller_id: '+254700000001' }, response: refTo('SipCredential'),
    errors: ['already_exists', 'caller_id_not_allowed', 'callback_url_not_allowed'] },
  { method: 'get', path: '/v1/sip/credentials', summary: 'Softphone users, with whether each is registered now', tag: 'SIP', auth: 'workspace', response: listOf('SipCredential') },
  { method: 'patch', path: '/v1/sip/credentials/{id}', summary: 'Change a softphone user\'s password, routing_url or caller_id (only the fields sent; null clears)', tag: 'SIP', auth: 'workspace',
    params: params.sipCredential,
    body: patchSipCredentialBody,
    bodyExample: { routing_url: 'https://yourapp.example.com/agent-calls' }, status: '200', response: refTo('SipCredential'),
    errors: ['not_found', 'caller_id_not_allowed', 'callback_url_not_allowed'] },
  { method: 'delete', path: '/v1/sip/credentials/{id}', summary: 'Remove a softphone user', tag: 'SIP', auth: 'workspace', params: params.sipCredential, errors: ['not_found'] },

  // Sandbox
  { method: 'post', path: '/v1/sandbox/calls', summary: 'A sandbox phone calls one of your numbers and runs a script', tag: 'Sandbox', auth: 'workspace',
    description: 'Answers as soon as the platform has the call; poll `GET /v1/sandbox/calls/{id}` until `ended_at` is set.',
    body: sandboxCallBody,
    bodyExample: { from: '+254711000000', to: '+254700000001', script: [{ wait: 2 }, { press: '2' }, { wait_for_audio: 5 }, { hangup: true }], max_duration: 60 },
    response: object({ id: str('Sandbox call id'), call_id: nullableStr('The platform\'s call id'), status: str('Where the phone\'s call is') }),
    errors: ['sandbox_not_running', 'callback_url_not_allowed'] },
  { method: 'get', path: '/v1/sandbox/calls/{id}', summary: 'What the sandbox phone observed', tag: 'Sandbox', auth: 'workspace', params: params.resource, response: refTo('SandboxCall'),
    responseExample: {
      id: 'sbx_5f0c2a9e41b7d3c8a6e2', status: 'completed', call_id: 'call_0mhx2n4s10000w8e4r2tq', from: '+254711000000', to: '+254700000001', direction: 'inbound',
      digits_heard: '', audio_seconds_heard: 6.4, beeps_heard: 0, hangup_by: 'platform', duration_seconds: 9, sip_status: null,
      started_at: '2026-03-02T09:20:11.002Z', answered_at: '2026-03-02T09:20:11.031Z', ended_at: '2026-03-02T09:20:19.874Z', errors: [],
    },
    errors: ['sandbox_not_running', 'not_found'] },
  { method: 'get', path: '/v1/sandbox/calls/{id}/audio', summary: 'What the sandbox phone heard, as a WAV', tag: 'Sandbox', auth: 'workspace', params: params.resource,
    description: '16-bit PCM at 8 kHz, from the answer on; the first 5 minutes are kept. Grows while the call lasts.',
    produces: 'audio/wav', errors: ['sandbox_not_running', 'not_found'] },
  { method: 'put', path: '/v1/sandbox/phones/{number}', summary: 'How a sandbox number behaves when dialled', tag: 'Sandbox', auth: 'workspace', params: params.phone,
    description: 'By default a dialled sandbox phone answers after 1 s and stays until hung up.',
    body: sandboxPhoneBody,
    bodyExample: { answer: 'immediately', hangup_after: 5 }, status: '200', response: refTo('SandboxPhone'), errors: ['sandbox_not_running', 'callback_url_not_allowed'] },
  { method: 'get', path: '/v1/sandbox/phones/{number}', summary: 'A sandbox phone\'s behaviour', tag: 'Sandbox', auth: 'workspace', params: params.phone, response: refTo('SandboxPhone'), errors: ['validation_failed', 'sandbox_not_running'] },
  { method: 'get', path: '/v1/sandbox/phones/{number}/calls', summary: 'Calls a sandbox phone saw, newest first', tag: 'Sandbox', auth: 'workspace', params: params.phone, response: listOf('SandboxCall'),
    errors: ['validation_failed', 'sandbox_not_running'] },

  // Admin
  { method: 'post', path: '/v1/admin/workspaces', summary: 'Create a workspace (answers its first API key and signing secret once)', tag: 'Admin', auth: 'admin',
    body: createWorkspaceBody, bodyExample: { name: 'Acme Kenya' },
    response: object({ id: str('Workspace id'), name: str('Name'), api_key: str('Its first API key (shown once)'), signing_secret: str('Its signing secret'), created_at: str('Created') }) },
  { method: 'get', path: '/v1/admin/workspaces', summary: 'Workspaces with balances', tag: 'Admin', auth: 'admin', response: listOf('Workspace') },
  { method: 'post', path: '/v1/admin/workspaces/{id}/keys', summary: 'Create an API key for a workspace (shown once)', tag: 'Admin', auth: 'admin', params: params.workspace,
   
    response: object({ id: str('Key id'), key: str('The key (shown once)'), workspace_id: str('Its workspace'), created_at: str('Created') }), errors: ['not_found'] },
  { method: 'get', path: '/v1/admin/workspaces/{id}/keys', summary: 'A workspace\'s keys (prefixes only)', tag: 'Admin', auth: 'admin', params: params.workspace,
   
    response: { type: 'array', items: object({ id: str('Key id'), prefix: str('First characters of the key'), created_at: str('Created'), revoked_at: nullableStr('Revoked') }) }, errors: ['not_found'] },
  { method: 'delete', path: '/v1/admin/keys/{id}', summary: 'Revoke a workspace key at once', tag: 'Admin', auth: 'admin', params: params.key, errors: ['not_found'] },
  { method: 'post', path: '/v1/admin/workspaces/{id}/credits', summary: 'Top up a wallet', tag: 'Admin', auth: 'admin', params: params.workspace,
   
    headers: [{ name: 'Idempotency-Key', description: 'Makes a retried top-up safe: the same key is applied once (another body with it → 409)', example: 'topup-2026-03-02-001' }],
    body: creditBody, bodyExample: { amount: '500.00', reference: 'mpesa-QF12ABC' },
    response: object({ transaction_id: str('Ledger transaction'), amount: money('Credited'), balance: money('New balance'), currency: { const: 'KES' }, reference: nullableStr('Your reference') }),
    errors: ['not_found', 'idempotency_conflict'] },
  { method: 'post', path: '/v1/admin/numbers', summary: 'Add numbers to the inventory', tag: 'Admin', auth: 'admin',
    body: inventoryBody,
    bodyExample: { numbers: ['+254700000100', '+254700000101'], type: 'mobile' },
    response: object({ added: int('Numbers added'), already_present: int('Numbers that were in the inventory already') }) },
  { method: 'get', path: '/v1/admin/numbers', summary: 'The number inventory', tag: 'Admin', auth: 'admin', querystring: limitQuery(1000, 10_000),
    response: { type: 'array', items: object({ number: str('E.164'), type: str('mobile, landline or tollfree'), claimed: bool('Claimed by a workspace') }) } },
  { method: 'post', path: '/v1/admin/trunks', summary: 'Add a SIP trunk (carrier)', tag: 'Admin', auth: 'admin', body: createTrunkBody, bodyExample: trunkExample,
    response: refTo('Trunk'), errors: ['already_exists'] },
  { method: 'get', path: '/v1/admin/trunks', summary: 'SIP trunks (passwords are never shown)', tag: 'Admin', auth: 'admin', response: listOf('Trunk') },
  { method: 'get', path: '/v1/admin/trunks/{id}', summary: 'A SIP trunk', tag: 'Admin', auth: 'admin', params: params.trunk, response: refTo('Trunk'), errors: ['not_found'] },
  { method: 'patch', path: '/v1/admin/trunks/{id}', summary: 'Change a SIP trunk (only the fields sent)', tag: 'Admin', auth: 'admin', params: params.trunk, body: updateTrunkBody, bodyExample: { prefixes: ['+254', '+255'] },
    response: refTo('Trunk'), errors: ['not_found', 'already_exists'] },
  { method: 'delete', path: '/v1/admin/trunks/{id}', summary: 'Remove a SIP trunk', tag: 'Admin', auth: 'admin', params: params.trunk, errors: ['not_found'] },
  { method: 'get', path: '/v1/admin/sip/bans', summary: 'Source addresses banned from SIP for failed authentication (this node)', tag: 'Admin', auth: 'admin',
    description: 'A source with 10 failed digest attempts within 60 s gets 403 on every SIP request for 10 minutes. Bans are kept in memory, per node.', response: listOf('SipBan') },
  { method: 'delete', path: '/v1/admin/sip/bans/{address}', summary: 'Lift a SIP ban at once', tag: 'Admin', auth: 'admin', params: params.sipBan, errors: ['validation_failed', 'not_found'] },
  { method: 'get', path: '/v1/admin/nodes', summary: 'The nodes of the platform', tag: 'Admin', auth: 'admin',
    description: 'Every node that ever heart-beat in this database (SPEC §16), from any node. A node beats every 5 s; `alive` is false once its last beat is 15 s old, and a peer then ends its live calls (`hangup_cause: "node_failed"`).',
    response: listOf('Node') },
  { method: 'post', path: '/v1/admin/nodes/{id}/drain', summary: 'Drain a node: it takes no new calls, lets live ones finish, then exits', tag: 'Admin', auth: 'admin', params: params.node,
    description: 'Works from any node. The node sees the request at its next heartbeat (within 5 s) and drains as on SIGTERM: OPTIONS and new INVITEs get 503 (a load balancer sends calls elsewhere), `POST /v1/calls` answers 503 `shutting_down`, live calls get `--shutdown-grace` seconds to finish (then are hung up, `hangup_cause: "shutdown"`), and the process exits 0. Started again, it is `active`.',
    status: '202', response: refTo('Node'), errors: ['not_found'] },
  { method: 'get', path: '/v1/admin/rates', summary: 'The rate table', tag: 'Admin', auth: 'admin', response: listOf('Rate') },
  { method: 'put', path: '/v1/admin/rates', summary: 'Replace the rate table', tag: 'Admin', auth: 'admin',
    description: 'Send the whole table, as an array or as `{"rates":[…]}`; answers the new table.',
    body: ratesBody,
    bodyExample: [{ category: 'outbound', prefix: '+2547', description: 'Kenya mobile', rate_per_minute: '3.50' }, { category: 'inbound', prefix: '', description: 'Inbound', rate_per_minute: '0.50' }],
    status: '200', response: listOf('Rate') },
];
