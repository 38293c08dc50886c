import { errorCatalogue } from '../shared/errors.js';

/**
 * The OpenAPI 3.1 document served at /v1/openapi.json. Every route the
 * server registers must have an operation here (a test checks both ways).
 */
type Schema = Record<string, unknown>;
interface Operation {
  method: 'get' | 'post' | 'patch' | 'put' | 'delete';
  path: string;
  summary: string;
  tag: string;
  auth: 'workspace' | 'admin' | 'none';
  body?: Schema;
  response?: Schema;
  query?: string[];
}

const str = { type: 'string' } as const;
const nullableStr = { type: ['string', 'null'] } as const;
const money = { type: 'string', pattern: '^-?\\d+\\.\\d{2}$', description: 'KES with two decimals' } as const;

const numberSchema: Schema = {
  type: 'object',
  properties: { id: str, number: str, friendly_name: nullableStr, routing_url: nullableStr, status_url: nullableStr, fallback_url: nullableStr, claimed_at: str },
};
const callSchema: Schema = {
  type: 'object',
  properties: {
    id: str, direction: { enum: ['inbound', 'outbound'] }, from: str, to: str,
    status: { enum: ['queued', 'initiated', 'ringing', 'in-progress', 'completed', 'busy', 'no-answer', 'failed', 'canceled'] },
    parent_call_id: nullableStr, number_id: nullableStr, conference: nullableStr, created_at: str, ringing_at: nullableStr,
    answered_at: nullableStr, ended_at: nullableStr, duration_seconds: { type: ['integer', 'null'] }, ring_seconds: { type: ['integer', 'null'] },
    hangup_cause: nullableStr, hangup_by: { enum: ['caller', 'callee', 'api', 'system', null] }, price: { type: ['string', 'null'] },
    currency: { const: 'KES' }, rate_per_minute: { type: ['string', 'null'] }, client_request_id: nullableStr,
    metadata: { type: 'object', additionalProperties: str },
    recording: { type: ['object', 'null'], properties: { id: str, url: str, duration_seconds: { type: 'integer' } } },
  },
};
const numberUrlsBody: Schema = {
  type: 'object',
  description: 'snake_case or camelCase (routingUrl, statusUrl, fallbackUrl, friendlyName)',
  properties: { routing_url: nullableStr, status_url: nullableStr, fallback_url: nullableStr, friendly_name: nullableStr },
};

const trunkBody: Schema = {
  type: 'object',
  properties: {
    name: str, host: str, port: { type: 'integer', default: 5060 }, transport: { enum: ['udp', 'tcp'] }, username: str, password: str,
    prefixes: { type: 'array', items: str, description: 'E.164 prefixes routed to this trunk (longest match wins)' },
    inbound_addresses: { type: 'array', items: str, description: 'IP addresses or CIDR ranges whose INVITEs are inbound calls' },
  },
};

const createCallBody: Schema = {
  type: 'object',
  required: ['to', 'from'],
  description: 'snake_case or the camelCase of the product pages (voiceCallbackUrl, clientRequestId, timeLimit)',
  properties: {
    to: { oneOf: [str, { type: 'array', items: str }] }, from: str, action_url: str, voice_callback_url: str, status_url: str,
    clientRequestId: str, timeout: { type: 'integer', default: 30 }, time_limit: { type: 'integer' }, record: { type: 'boolean' },
    metadata: { type: 'object', additionalProperties: str, maxProperties: 16 },
  },
};

const operations: Operation[] = [
  { method: 'get', path: '/healthz', summary: 'Readiness of the API, SIP and media', tag: 'System', auth: 'none' },
  { method: 'get', path: '/v1/openapi.json', summary: 'This document', tag: 'System', auth: 'none' },
  { method: 'get', path: '/v1/numbers/available', summary: 'Inventory numbers not yet claimed', tag: 'Numbers', auth: 'workspace', query: ['prefix', 'limit'] },
  { method: 'post', path: '/v1/numbers', summary: 'Claim a number (a given one, or the first with a prefix)', tag: 'Numbers', auth: 'workspace',
    body: { ...numberUrlsBody, properties: { number: str, prefix: str, ...(numberUrlsBody['properties'] as Schema) } }, response: numberSchema },
  { method: 'get', path: '/v1/numbers', summary: 'Claimed numbers', tag: 'Numbers', auth: 'workspace', response: { type: 'array', items: numberSchema } },
  { method: 'get', path: '/v1/numbers/{id}', summary: 'One claimed number (by id or by the number)', tag: 'Numbers', auth: 'workspace', response: numberSchema },
  { method: 'patch', path: '/v1/numbers/{id}', summary: 'Set routing_url, status_url, fallback_url, friendly_name', tag: 'Numbers', auth: 'workspace', body: numberUrlsBody, response: numberSchema },
  { method: 'delete', path: '/v1/numbers/{id}', summary: 'Release a number', tag: 'Numbers', auth: 'workspace' },
  { method: 'get', path: '/v1/calls', summary: 'Calls, newest first, as a bare array; next page in the Link header', tag: 'Calls', auth: 'workspace',
    query: ['limit', 'cursor', 'status', 'direction', 'from', 'to', 'number_id', 'conference', 'parent_call_id', 'metadata.KEY', 'since', 'until'],
    response: { type: 'array', items: callSchema } },
  { method: 'get', path: '/v1/calls/{id}', summary: 'A call with its lifecycle events and errors', tag: 'Calls', auth: 'workspace', response: callSchema },
  { method: 'get', path: '/v1/calls/{id}/recording', summary: 'The call\'s recording (audio/wav)', tag: 'Calls', auth: 'workspace' },
  { method: 'post', path: '/v1/calls', summary: 'Place outbound calls (to: a number, a sip: URI, or an array → one call each)', tag: 'Calls', auth: 'workspace', body: createCallBody, response: callSchema },
  { method: 'post', path: '/v1/calls/originate', summary: 'Alias of POST /v1/calls', tag: 'Calls', auth: 'workspace', body: createCallBody, response: callSchema },
  { method: 'patch', path: '/v1/calls/{id}', summary: 'Live control: {action_url} redirects, {actions:[…]} replaces, {status:"completed"} hangs up', tag: 'Calls', auth: 'workspace', response: callSchema },
  { method: 'post', path: '/v1/sandbox/calls', summary: 'A sandbox phone calls one of your numbers and runs a script', tag: 'Sandbox', auth: 'workspace',
    body: { type: 'object', required: ['to'], properties: { from: str, to: str, script: { type: 'array', items: { type: 'object' } }, max_duration: { type: 'integer' } } } },
  { method: 'get', path: '/v1/sandbox/calls/{id}', summary: 'What the sandbox phone observed', tag: 'Sandbox', auth: 'workspace' },
  { method: 'put', path: '/v1/sandbox/phones/{number}', summary: 'How a sandbox number behaves when dialled', tag: 'Sandbox', auth: 'workspace',
    body: { type: 'object', properties: { answer: {}, script: { type: 'array', items: { type: 'object' } }, hangup_after: { type: 'integer' } } } },
  { method: 'get', path: '/v1/sandbox/phones/{number}', summary: 'A sandbox phone\'s behaviour', tag: 'Sandbox', auth: 'workspace' },
  { method: 'get', path: '/v1/sandbox/phones/{number}/calls', summary: 'Calls a sandbox phone saw, newest first', tag: 'Sandbox', auth: 'workspace' },
  { method: 'get', path: '/v1/conferences', summary: 'Active conference rooms', tag: 'Conferences', auth: 'workspace', query: ['status'] },
  { method: 'get', path: '/v1/conferences/{name}', summary: 'A room with its participants', tag: 'Conferences', auth: 'workspace' },
  { method: 'post', path: '/v1/conferences/{name}/end', summary: 'End a room: every participant leaves it', tag: 'Conferences', auth: 'workspace' },
  { method: 'get', path: '/v1/conferences/{name}/participants', summary: 'Participants: call id, muted, hold, start_on_enter, end_on_exit, joined_at', tag: 'Conferences', auth: 'workspace' },
  { method: 'patch', path: '/v1/conferences/{name}/participants/{callId}', summary: 'Mute/unmute, hold/unhold a participant', tag: 'Conferences', auth: 'workspace',
    body: { type: 'object', properties: { muted: { type: 'boolean' }, hold: { type: 'boolean' } } } },
  { method: 'delete', path: '/v1/conferences/{name}/participants/{callId}', summary: 'Eject (hang up) a participant', tag: 'Conferences', auth: 'workspace' },
  { method: 'post', path: '/v1/sip/credentials', summary: 'A softphone user: registers as sip:USERNAME@<workspace domain>', tag: 'SIP', auth: 'workspace',
    body: { type: 'object', required: ['username', 'password'], properties: { username: str, password: str } } },
  { method: 'get', path: '/v1/sip/credentials', summary: 'Softphone users, with whether each is registered now', tag: 'SIP', auth: 'workspace' },
  { method: 'delete', path: '/v1/sip/credentials/{id}', summary: 'Remove a softphone user', tag: 'SIP', auth: 'workspace' },
  { method: 'get', path: '/v1/recordings', summary: 'Recordings, newest first', tag: 'Recordings', auth: 'workspace', query: ['limit', 'cursor'] },
  { method: 'get', path: '/v1/recordings/{id}', summary: 'A recording', tag: 'Recordings', auth: 'workspace' },
  { method: 'get', path: '/v1/recordings/{id}/audio', summary: 'The recording\'s WAV', tag: 'Recordings', auth: 'workspace' },
  { method: 'delete', path: '/v1/recordings/{id}', summary: 'Delete a recording and its audio', tag: 'Recordings', auth: 'workspace' },
  { method: 'get', path: '/v1/wallet', summary: 'Balance and reserved amount', tag: 'Wallet', auth: 'workspace',
    response: { type: 'object', properties: { balance: money, currency: { const: 'KES' }, reserved: money, available: money } } },
  { method: 'get', path: '/v1/wallet/transactions', summary: 'The ledger, newest first', tag: 'Wallet', auth: 'workspace', query: ['limit', 'cursor'] },
  { method: 'get', path: '/v1/rates', summary: 'The rate that applies to a destination', tag: 'Wallet', auth: 'workspace', query: ['to'] },
  { method: 'get', path: '/v1/settings', summary: 'Allow-lists and spend limit', tag: 'Settings', auth: 'workspace' },
  { method: 'patch', path: '/v1/settings', summary: 'Change allow-lists and spend limit', tag: 'Settings', auth: 'workspace',
    body: { type: 'object', properties: { allowed_destinations: { type: 'array', items: str }, allowed_callback_hosts: { type: 'array', items: str }, allow_private_callbacks: { type: 'boolean' }, daily_spend_limit: { type: ['string', 'null'] } } } },
  { method: 'post', path: '/v1/webhooks', summary: 'Subscribe an endpoint to events (the secret is answered once)', tag: 'Webhooks', auth: 'workspace',
    body: { type: 'object', required: ['url'], properties: { url: str, events: { type: 'array', items: str, description: 'event types of SPEC §9, or "*"' } } } },
  { method: 'get', path: '/v1/webhooks', summary: 'Webhook endpoints', tag: 'Webhooks', auth: 'workspace' },
  { method: 'delete', path: '/v1/webhooks/{id}', summary: 'Remove an endpoint', tag: 'Webhooks', auth: 'workspace' },
  { method: 'post', path: '/v1/webhooks/{id}/rotate-secret', summary: 'New endpoint secret; the old one stays valid for grace_seconds (default 86400)', tag: 'Webhooks', auth: 'workspace' },
  { method: 'get', path: '/v1/webhooks/{id}/deliveries', summary: 'Deliveries to the endpoint with every attempt, newest first', tag: 'Webhooks', auth: 'workspace', query: ['limit', 'cursor'] },
  { method: 'post', path: '/v1/webhooks/deliveries/{id}/retry', summary: 'Queue a failed delivery for another round of attempts', tag: 'Webhooks', auth: 'workspace' },
  { method: 'post', path: '/v1/settings/signing-secret/rotate', summary: 'New workspace signing secret; the old one stays valid for grace_seconds', tag: 'Settings', auth: 'workspace' },
  { method: 'post', path: '/v1/admin/workspaces', summary: 'Create a workspace (answers its first API key and signing secret once)', tag: 'Admin', auth: 'admin',
    body: { type: 'object', required: ['name'], properties: { name: str } } },
  { method: 'get', path: '/v1/admin/workspaces', summary: 'Workspaces with balances', tag: 'Admin', auth: 'admin' },
  { method: 'post', path: '/v1/admin/workspaces/{id}/keys', summary: 'Create an API key (shown once)', tag: 'Admin', auth: 'admin' },
  { method: 'get', path: '/v1/admin/workspaces/{id}/keys', summary: 'A workspace\'s keys (prefixes only)', tag: 'Admin', auth: 'admin' },
  { method: 'delete', path: '/v1/admin/keys/{id}', summary: 'Revoke a key at once', tag: 'Admin', auth: 'admin' },
  { method: 'post', path: '/v1/admin/workspaces/{id}/credits', summary: 'Top up a wallet', tag: 'Admin', auth: 'admin',
    body: { type: 'object', required: ['amount'], properties: { amount: money, reference: str } } },
  { method: 'post', path: '/v1/admin/numbers', summary: 'Add numbers to the inventory', tag: 'Admin', auth: 'admin',
    body: { type: 'object', required: ['numbers'], properties: { numbers: { type: 'array', items: str }, type: { enum: ['mobile', 'landline', 'tollfree'] } } } },
  { method: 'get', path: '/v1/admin/numbers', summary: 'The number inventory', tag: 'Admin', auth: 'admin' },
  { method: 'post', path: '/v1/admin/trunks', summary: 'Add a SIP trunk (carrier)', tag: 'Admin', auth: 'admin', body: trunkBody },
  { method: 'get', path: '/v1/admin/trunks', summary: 'SIP trunks (passwords are never shown)', tag: 'Admin', auth: 'admin' },
  { method: 'get', path: '/v1/admin/trunks/{id}', summary: 'A SIP trunk', tag: 'Admin', auth: 'admin' },
  { method: 'patch', path: '/v1/admin/trunks/{id}', summary: 'Change a SIP trunk', tag: 'Admin', auth: 'admin', body: trunkBody },
  { method: 'delete', path: '/v1/admin/trunks/{id}', summary: 'Remove a SIP trunk', tag: 'Admin', auth: 'admin' },
  { method: 'get', path: '/v1/admin/rates', summary: 'The rate table', tag: 'Admin', auth: 'admin' },
  { method: 'put', path: '/v1/admin/rates', summary: 'Replace the rate table', tag: 'Admin', auth: 'admin',
    body: { type: 'array', items: { type: 'object', properties: { category: { enum: ['outbound', 'inbound', 'sip', 'recording'] }, prefix: str, description: str, rate_per_minute: money } } } },
];

function statusOf(op: Operation): string {
  if (op.path === '/v1/webhooks/deliveries/{id}/retry') return '202';
  if (op.path.endsWith('/rotate-secret') || op.path.endsWith('/rotate') || op.path.endsWith('/end')) return '200';
  return op.method === 'post' ? '201' : op.method === 'delete' ? '204' : '200';
}

/** Method and path of every documented operation, as Fastify spells routes (`:id`). */
export function documentedRoutes(): string[] {
  return operations.map((op) => `${op.method.toUpperCase()} ${op.path.replace(/\{(\w+)\}/g, ':$1')}`);
}

export function buildOpenApiDocument(serverUrl: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const errorSchema = {
    type: 'object',
    properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { enum: Object.keys(errorCatalogue) }, message: str, field: str } } },
  };
  for (const op of operations) {
    const params = [
      ...[...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: str })),
      ...(op.query ?? []).map((name) => ({ name, in: 'query', required: false, schema: str })),
    ];
    (paths[op.path] ??= {})[op.method] = {
      summary: op.summary,
      tags: [op.tag],
      ...(op.auth === 'none' ? { security: [] } : { security: [{ bearer: [] }], description: op.auth === 'admin' ? 'Needs the admin key.' : 'Needs a workspace API key.' }),
      ...(params.length ? { parameters: params } : {}),
      ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: op.body } } } } : {}),
      responses: {
        [statusOf(op)]: {
          description: 'OK', ...(op.response ? { content: { 'application/json': { schema: op.response } } } : {}),
        },
        default: { description: 'Error (see docs/errors.md)', content: { 'application/json': { schema: errorSchema } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Sautikit API', version: 'v1', description: 'Self-hosted programmable voice: numbers, calls, voice actions, per-second billing in KES.' },
    servers: [{ url: serverUrl }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths,
  };
}
