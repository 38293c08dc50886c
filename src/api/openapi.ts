import { errorCatalogue, type ErrorCode } from '../shared/errors.js';
import { operations, type Operation, type Parameter } from './openapi-operations.js';
import { schemas } from './openapi-schemas.js';
import { aliasKeyword } from './body-schemas/body-schema.js';
import { errorMessageKeyword, parametersOf } from './route-schemas.js';

/**
 * The OpenAPI 3.1 document served at /v1/openapi.json, and the source that
 * docs/api.md is rendered from (`npm run docs:api`). Every route the server
 * registers must have an operation (a test checks both ways); the operations
 * and their objects live in openapi-operations.ts and openapi-schemas.ts,
 * the parameters and request bodies are the routes' own schemas.
 */

function statusOf(op: Operation): string {
  return op.status ?? (op.method === 'post' ? '201' : op.method === 'delete' ? '204' : '200');
}

/** Method and path of every documented operation, as Fastify spells routes (`:id`). */
export function documentedRoutes(): string[] {
  return operations.map((op) => `${op.method.toUpperCase()} ${op.path.replace(/\{(\w+)\}/g, ':$1')}`);
}

/**
 * The error codes an operation can answer: its own, plus those every request
 * of its kind can get (a key that is missing or of the wrong kind, the rate
 * limit, a body that is not JSON or not valid, a bad query value).
 */
export function errorCodesOf(op: Operation): ErrorCode[] {
  const codes = new Set<ErrorCode>();
  if (op.body || op.querystring) codes.add('validation_failed');
  if (op.body) codes.add('invalid_json');
  if (op.auth !== 'none') ['unauthorized', 'forbidden', 'rate_limited'].forEach((c) => codes.add(c as ErrorCode));
  for (const c of op.errors ?? []) codes.add(c);
  return [...codes].sort((a, b) => errorCatalogue[a].status - errorCatalogue[b].status || a.localeCompare(b));
}

const errorRef = { $ref: '#/components/schemas/Error' };

function errorResponses(op: Operation): Record<string, unknown> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of errorCodesOf(op)) {
    const status = errorCatalogue[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: Record<string, unknown> = {};
  for (const [status, codes] of byStatus) {
    out[String(status)] = {
      description: codes.map((c) => `\`${c}\`: ${errorCatalogue[c].summary}`).join(' '),
      content: { 'application/json': { schema: { allOf: [errorRef, { properties: { error: { properties: { code: { enum: codes } } } } }] } } },
    };
  }
  return out;
}

function header(p: Parameter): Record<string, unknown> {
  return {
    name: p.name, in: 'header', required: p.required === true, description: p.description,
    schema: p.schema ?? { type: 'string' }, ...(p.example !== undefined ? { example: p.example } : {}),
  };
}

/** The path parameters in the order of the path, from the route's schema (route-schemas.ts); a path parameter it lacks is a bug here. */
function pathParametersOf(op: Operation): Array<Record<string, unknown>> {
  const fromSchema = parametersOf(op.params, 'path');
  return [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => {
    const found = fromSchema.find((p) => p['name'] === m[1]);
    if (!found) throw new Error(`${op.method} ${op.path}: no schema for the path parameter ${m[1]}`);
    return found;
  });
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The field an `anyOf` of `{required: [spelling]}` branches asks for, when all its spellings are of one field. */
function requiredSpelling(anyOf: unknown, properties: Json): string | undefined {
  if (!Array.isArray(anyOf)) return undefined;
  const fields = new Set(anyOf.map((branch) => {
    const required: unknown = isObject(branch) && Object.keys(branch).length === 1 ? branch['required'] : undefined;
    const spelling = Array.isArray(required) && required.length === 1 ? String(required[0]) : undefined;
    const property = spelling === undefined ? undefined : properties[spelling];
    return isObject(property) ? String(property[aliasKeyword] ?? spelling) : undefined;
  }));
  return fields.size === 1 ? [...fields][0] : undefined;
}

/**
 * A body schema as the document shows it (body-schemas/): without what only
 * the server reads (error messages), with each field's other spellings said
 * in its description ("also `routingUrl`") instead of listed beside it, and
 * "one of its spellings is required" shown as the field being required.
 */
export function documentedSchema(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(documentedSchema);
  if (!isObject(value)) return value;
  const properties = isObject(value['properties']) ? value['properties'] : undefined;
  const required = properties ? requiredSpelling(value['anyOf'], properties) : undefined;
  const out: Json = {};
  for (const [key, item] of Object.entries(value)) {
    if (key === errorMessageKeyword || key === aliasKeyword || (key === 'anyOf' && required !== undefined)) continue;
    out[key] = key === 'properties' && properties ? documentedProperties(properties) : documentedSchema(item);
  }
  if (required !== undefined) out['required'] = [...((out['required'] as string[] | undefined) ?? []), required];
  return out;
}

function documentedProperties(properties: Json): Json {
  const out: Json = {};
  for (const [name, property] of Object.entries(properties)) {
    if (!isObject(property) || property[aliasKeyword] !== undefined) continue;
    const shown = documentedSchema(property) as Json;
    const aliases = Object.keys(properties).filter((alias) => isObject(properties[alias]) && properties[alias][aliasKeyword] === name);
    out[name] = aliases.length ? { ...shown, description: `${String(shown['description'] ?? '')}; also ${aliases.map((a) => `\`${a}\``).join(', ')}` } : shown;
  }
  return out;
}

function operationObject(op: Operation): Record<string, unknown> {
  const params = [...pathParametersOf(op), ...parametersOf(op.querystring, 'query'), ...(op.headers ?? []).map(header)];
  const success = statusOf(op);
  const successContent = op.produces
    ? { [op.produces]: { schema: { type: 'string', format: 'binary' } } }
    : op.response ? { 'application/json': { schema: op.response, ...(op.responseExample !== undefined ? { example: op.responseExample } : {}) } } : undefined;
  return {
    operationId: `${op.method}${op.path.replace(/\{(\w+)\}/g, 'By-$1').split(/[^A-Za-z0-9]+/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('')}`,
    summary: op.summary,
    description: [op.description, op.auth === 'admin' ? 'Needs the admin key.' : op.auth === 'workspace' ? 'Needs a workspace API key.' : 'No key needed.'].filter(Boolean).join(' '),
    tags: [op.tag],
    security: op.auth === 'none' ? [] : [{ [op.auth === 'admin' ? 'adminKey' : 'workspaceKey']: [] }],
    ...(params.length ? { parameters: params } : {}),
    ...(op.body
      ? { requestBody: { required: !op.bodyOptional, content: { 'application/json': { schema: documentedSchema(op.body), ...(op.bodyExample !== undefined ? { example: op.bodyExample } : {}) } } } }
      : {}),
    responses: {
      [success]: { description: success === '204' ? 'Done; no body' : success === '202' ? 'Accepted' : success === '201' ? 'Created' : 'OK', ...(successContent ? { content: successContent } : {}) },
      ...errorResponses(op),
      default: {
        description: 'Any request may also get an error of HTTP itself: `invalid_url` (400), `malformed_request` (400), `method_not_allowed` (405), '
          + '`request_timeout` (408), `payload_too_large` (413), `url_too_long` (414), `unsupported_media_type` (415), `expectation_failed` (417), '
          + '`header_too_large` (431); or `internal_error` (500) or `service_unavailable` (503).',
        content: { 'application/json': { schema: errorRef } },
      },
    },
  };
}

export function buildOpenApiDocument(serverUrl: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) (paths[op.path] ??= {})[op.method] = operationObject(op);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Sautikit API', version: 'v1',
      description: 'Self-hosted programmable voice: numbers, calls, voice actions, per-second billing in KES. '
        + 'Bodies are JSON; where the product pages use camelCase both spellings are accepted, and responses are snake_case. '
        + 'Errors are `{"error":{"code","message","field"}}` with a stable code (docs/errors.md). '
        + 'Lists of calls, recordings, transactions and deliveries are bare JSON arrays, newest first; the next page is in the `Link: <…>; rel="next"` header.',
    },
    servers: [{ url: serverUrl }],
    tags: [
      { name: 'Numbers', description: 'Claim numbers and point them at your webhooks.' },
      { name: 'Calls', description: 'Place calls, list and inspect them, control them live.' },
      { name: 'Conferences', description: 'Rooms exist while someone is in them (the `conference` action creates them).' },
      { name: 'Recordings', description: 'Call and room recordings (WAV).' },
      { name: 'Wallet', description: 'Balance, ledger and rates (KES, per-second billing).' },
      { name: 'Settings', description: 'Destination and callback allow-lists, spend limit, the signing secret.' },
      { name: 'Webhooks', description: 'Workspace-level event subscriptions and their delivery history.' },
      { name: 'SIP', description: 'Agents\' softphones.' },
      { name: 'Sandbox', description: 'The built-in telephone network: phones that call your numbers and answer your calls.' },
      { name: 'Admin', description: 'The operator\'s endpoints (admin key): workspaces, keys, credits, inventory, trunks, rates.' },
      { name: 'System', description: 'Health and this document.' },
    ],
    components: {
      securitySchemes: {
        workspaceKey: { type: 'http', scheme: 'bearer', description: 'A workspace API key (`sk_live_…`), shown once when created. `Authorization: Basic` with the key as the user name and an empty password (`curl -u KEY:`) works too.' },
        adminKey: { type: 'http', scheme: 'bearer', description: 'The operator\'s admin key (`sk_admin_…`).' },
      },
      schemas,
    },
    security: [{ workspaceKey: [] }],
    paths,
  };
}
