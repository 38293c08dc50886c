import { callStatuses } from '../store/repos/call-repo.js';
import type { Schema } from './openapi-schemas.js';

/**
 * The path parameters and query strings of the routes as JSON schemas:
 * fastify validates requests with them (AJV) before a handler runs, and the
 * handlers get typed, coerced values (`limit` is a number, with its default).
 * What a schema cannot say stays in the handlers: a cursor that decodes to
 * no id, a prefix or number that is not E.164, a timestamp Date.parse cannot
 * read, a resource that does not exist.
 *
 * A failing value is answered 400 `validation_failed` naming the parameter
 * (plugins/errors.ts, `validationErrorOf`), with the message of its
 * `x-error-message`: one text, or one per AJV keyword with `_` for the
 * others. `{name}` in it stands for the parameter as the client spelled it.
 */
export const errorMessageKeyword = 'x-error-message';

export type ErrorMessages = string | Record<string, string>;

/**
 * The OpenAPI parameters of a route schema (openapi.ts): one per property,
 * and one per pattern property named by its title. The parameter's schema is
 * the property's without what the parameter says itself (description,
 * example) or what only the server reads (the error message).
 */
export function parametersOf(schema: Schema | undefined, location: 'path' | 'query'): Array<Record<string, unknown>> {
  if (!schema) return [];
  const required = new Set((schema['required'] as string[] | undefined) ?? []);
  const properties = Object.entries((schema['properties'] ?? {}) as Record<string, Schema>);
  const patterns = Object.values((schema['patternProperties'] ?? {}) as Record<string, Schema>).map((p) => [String(p['title']), p] as const);
  return [...properties, ...patterns].map(([name, property]) => {
    const { description, examples, title: _title, [errorMessageKeyword]: _message, ...rest } = property;
    const example = (examples as string[] | undefined)?.[0];
    return {
      name, in: location, required: location === 'path' || required.has(name), description, schema: rest,
      // The example as it goes in a URL (`+` written `%2B`), for the curl lines of docs/api.md.
      ...(example !== undefined ? { example: encodeURIComponent(example) } : {}),
    };
  });
}

/** A parameter: its schema, what it means, the message of a value that fails it and an example value (as meant, not encoded). */
function parameter(schema: Schema, description: string, message?: ErrorMessages, example?: string): Schema {
  return { ...schema, description, ...(message ? { [errorMessageKeyword]: message } : {}), ...(example !== undefined ? { examples: [example] } : {}) };
}

function objectOf(properties: Record<string, Schema>, required: string[] = [], extra: Schema = {}): Schema {
  return { type: 'object', properties, ...(required.length ? { required } : {}), ...extra };
}

// Path parameters: fastify has decoded them; they are looked up as they are (a miss is 404), so only their type is checked.

const pathParam = (description: string, example?: string): Schema => parameter({ type: 'string' }, description, undefined, example);
const pathParams = (params: Record<string, Schema>): Schema => objectOf(params, Object.keys(params));

export interface IdParams { id: string }
export interface RoomParams { name: string }
export interface ParticipantParams { name: string; callId: string }
export interface PhoneParams { number: string }
export interface AddressParams { address: string }

const room = pathParam('The room name', 'support-queue-001');
export const params = {
  resource: pathParams({ id: pathParam('The resource id') }),
  number: pathParams({ id: pathParam('The number id, or the number itself (`%2B254700000001`)', '+254700000001') }),
  call: pathParams({ id: pathParam('The call id', 'call_0mhx2k9a70000q3v8r1ty') }),
  recording: pathParams({ id: pathParam('The recording id', 'rec_0mhx3c2d10000h6k3m1zq') }),
  webhook: pathParams({ id: pathParam('The endpoint id', 'wh_0mhx4d5g10000k2j7h9fd') }),
  delivery: pathParams({ id: pathParam('The delivery id', 'dlv_0mhx4a1c30000p9s2d7kx') }),
  sipCredential: pathParams({ id: pathParam('The credential id', 'sipc_0mhx4b7e20000r1t5y8ua') }),
  workspace: pathParams({ id: pathParam('The workspace id', 'ws_0mhx1z8kq0000d2f7g3hb') }),
  key: pathParams({ id: pathParam('The key id', 'key_0mhx4c2f90000b6n8m3lc') }),
  trunk: pathParams({ id: pathParam('The trunk id', 'trk_0mhx4e8h40000v3c6x1sb') }),
  room: pathParams({ name: room }),
  participant: pathParams({ name: room, callId: pathParam('The participant\'s call id', 'call_0mhx2k9a70000q3v8r1ty') }),
  phone: pathParams({ number: pathParam('A sandbox phone number, E.164 (`+` written `%2B`)', '+254720000002') }),
  node: pathParams({ id: pathParam('The node id (`--node-id`)', 'node-a') }),
  sipBan: pathParams({ address: pathParam('The banned source address (IPv4, or IPv6 with `:` written `%3A`)', '203.0.113.9') }),
};

// Query strings: each value arrives as a string, or as an array when the parameter is repeated.

export const limitParam = (fallback: number, max: number): Schema => parameter(
  { type: 'integer', minimum: 1, maximum: max, default: fallback }, `Page size (default ${fallback}, at most ${max})`, `limit must be a whole number from 1 to ${max}`,
);
const cursorParam = parameter({ type: 'string', pattern: '^[A-Za-z0-9_-]{1,200}$' }, 'Opaque cursor from the `Link: <…>; rel="next"` header of the previous page', 'cursor is not valid');

export interface PageQuery { limit: number; cursor?: string }
export const pageQuery = (fallback: number, max: number): Schema => objectOf({ limit: limitParam(fallback, max), cursor: cursorParam });

export interface LimitQuery { limit: number }
export const limitQuery = (fallback: number, max: number): Schema => objectOf({ limit: limitParam(fallback, max) });

/** A filter of the calls list: one non-empty value. */
const filter = (description: string, extra: Schema = {}, message?: ErrorMessages, example?: string): Schema =>
  parameter({ type: 'string', minLength: 1, ...extra }, description, message ?? '{name} must be a single value', example);

export interface CallListQuery extends PageQuery {
  status?: string; direction?: 'inbound' | 'outbound'; from?: string; to?: string; number_id?: string; conference?: string; parent_call_id?: string;
  since?: string; until?: string;
  [metadata: `metadata.${string}`]: string | undefined;
}
export const callListQuery = objectOf({
  limit: limitParam(50, 1000), cursor: cursorParam,
  status: filter('One call status (`in-progress`, `completed`, …)', { enum: callStatuses }, { enum: `status must be one of ${callStatuses.join(', ')}`, _: '{name} must be a single value' }, 'completed'),
  direction: filter('`inbound` or `outbound`', { enum: ['inbound', 'outbound'] }, { enum: 'direction must be inbound or outbound', _: '{name} must be a single value' }),
  from: filter('Caller (E.164 or sip: URI)'), to: filter('Callee (E.164 or sip: URI)'),
  number_id: filter('Calls on one of your numbers'), conference: filter('Calls that joined this room'),
  parent_call_id: filter('Legs created by this call\'s `dial`'),
  // Read with Date.parse by the route (an ISO-8601 date alone is taken too).
  since: parameter({ type: 'string' }, 'Created at or after (ISO 8601)', 'since must be an ISO-8601 timestamp'),
  until: parameter({ type: 'string' }, 'Created before (ISO 8601)', 'until must be an ISO-8601 timestamp'),
}, [], {
  patternProperties: {
    // The title names the parameters in the OpenAPI document.
    '^metadata\\.': parameter({ type: 'string', title: 'metadata.KEY' }, 'Calls whose metadata KEY equals the value (`metadata.campaign=march`)', '{name} must be a single value'),
  },
});

export interface ConferenceListQuery { status?: 'active' | 'completed' }
export const conferenceListQuery = objectOf({
  status: parameter({ type: 'string', enum: ['active', 'completed'] }, '`active` (default) or `completed` (ended rooms are not kept: always empty)',
    'status must be active or completed', 'active'),
});

export interface AvailableNumbersQuery { prefix?: string; limit: number }
export const availableNumbersQuery = objectOf({
  // Checked as an E.164 prefix by the route ('+' may arrive as a space).
  prefix: parameter({ type: 'string' }, 'E.164 prefix (`+` written `%2B`; default: any)', 'prefix must be an E.164 prefix such as +25470', '+25470'),
  limit: limitParam(20, 100),
});

export interface RateQuery { to: string }
export const rateQuery = objectOf({
  to: parameter({ type: 'string', minLength: 1 }, 'E.164 number (`%2B254712345678`) or `sip:` URI', 'to is required, e.g. ?to=%2B254712345678', '+254712345678'),
}, ['to']);
