import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import { AppError, quoteInput, type ErrorCode } from '../../shared/errors.js';
import { errorMessageKeyword, type ErrorMessages } from '../route-schemas.js';

/** Longest path segment (an id, a room name, a number) the router accepts; room names are up to 128 characters. */
export const maxPathSegmentLength = 256;

/**
 * Fastify's own errors that a client can cause (node_modules/fastify/lib/errors.js)
 * and the code each is answered with. The others are errors in our code or
 * set-up (a route registered twice, a bad option) and are answered 500.
 */
const fastifyCodes: Record<string, ErrorCode> = {
  FST_ERR_BAD_URL: 'invalid_url',
  FST_ERR_INVALID_URL: 'invalid_url',
  FST_ERR_MAX_PARAM_LENGTH: 'url_too_long',
  FST_ERR_NOT_FOUND: 'route_not_found',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'malformed_request',
  FST_ERR_ROUTE_MISSING_CONTENT_TYPE: 'malformed_request',
  FST_ERR_ROUTE_MISSING_CONTENT: 'malformed_request',
  FST_ERR_VALIDATION: 'validation_failed',
  FST_ERR_HANDLER_TIMEOUT: 'service_unavailable',
  // Carries 400 but is a set-up error of ours (a parser added after start).
  FST_ERR_CTP_INSTANCE_ALREADY_STARTED: 'internal_error',
};

/**
 * Any other error that carries a 4xx status (a body stream that broke off, a
 * fastify error added in a later version) is answered with the code of its
 * status, or `malformed_request` (400) for a status the catalogue has no code
 * of: never 500, and always a code whose catalogue status is the one sent.
 */
const codesByStatus: Partial<Record<number, ErrorCode>> = {
  400: 'malformed_request', 404: 'route_not_found', 405: 'method_not_allowed', 408: 'request_timeout', 413: 'payload_too_large',
  414: 'url_too_long', 415: 'unsupported_media_type', 417: 'expectation_failed', 431: 'header_too_large',
};

function pathOf(url: string): string {
  return url.split('?')[0] ?? '';
}

function messageFor(code: ErrorCode, error: Error, request: FastifyRequest): string {
  switch (code) {
    case 'invalid_url': return `the URL path ${quoteInput(pathOf(request.url))} has a malformed percent-escape (write bytes as UTF-8, %2B for +)`;
    case 'url_too_long': return `a segment of the URL path is longer than ${maxPathSegmentLength} characters`;
    case 'invalid_json': return `the request body is not valid JSON: ${quoteInput(error.message)}`;
    case 'unsupported_media_type': {
      const type = request.headers['content-type'];
      return type ? `the request body must be JSON (Content-Type: application/json), not ${quoteInput(type)}` : 'the request body needs Content-Type: application/json';
    }
    case 'payload_too_large': return 'the request body is larger than the server accepts';
    case 'route_not_found': return `no endpoint ${quoteInput(request.method)} ${quoteInput(pathOf(request.url))}`;
    // A message from another library may quote the request (a JSON parser's does): clipped like input.
    default: return quoteInput(error.message);
  }
}

/**
 * What the client is told for an error thrown while serving a request, or
 * undefined when the error is a bug of ours (answered 500 and logged).
 */
export function clientErrorOf(error: unknown, request: FastifyRequest): AppError | undefined {
  if (error instanceof AppError) return error;
  if (!(error instanceof Error)) return undefined;
  const fastifyCode = 'code' in error && typeof error.code === 'string' ? fastifyCodes[error.code] : undefined;
  const status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : undefined;
  if (error instanceof SyntaxError && status === 400) return new AppError('invalid_json', messageFor('invalid_json', error, request), 'body');
  const code = fastifyCode ?? (status !== undefined && status >= 400 && status < 500 ? (codesByStatus[status] ?? 'malformed_request') : undefined);
  if (code === undefined || code === 'internal_error') return undefined;
  return new AppError(code, messageFor(code, error, request), code === 'invalid_json' ? 'body' : undefined);
}

function sendError(reply: FastifyReply, error: AppError): void {
  void reply.status(error.status).type('application/json; charset=utf-8').send(error.toJSON());
}

/** The methods routes are registered with (HEAD comes with GET). */
const routedMethods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/**
 * A request no route takes: 405 `method_not_allowed` with `Allow` when the
 * path has routes for other methods, else 404 `route_not_found`. The same
 * answer whether fastify routed the method (OPTIONS, PROPFIND) or Node's
 * parser refused it (FOO).
 */
export function routeMiss(app: FastifyInstance, method: string, url: string): { error: AppError; allow?: string } {
  const path = pathOf(url);
  const allowed = routedMethods.filter((m) => m !== method && app.findRoute({ method: m, url: path }) !== null);
  if (allowed.length === 0) return { error: new AppError('route_not_found', `no endpoint ${quoteInput(method)} ${quoteInput(path)}`) };
  const allow = allowed.join(', ');
  return { error: new AppError('method_not_allowed', `${quoteInput(method)} is not a method of ${quoteInput(path)}; it has ${allow}`), allow };
}

/**
 * The input an AJV error is about, as the client spelled it: a parameter
 * (`limit`, `metadata.team`) or a body field's path (`to[1]`,
 * `rates[0].category`); JSON-pointer escapes undone. A numeric segment is
 * taken for an array index.
 */
function fieldOf(error: FastifySchemaValidationError, dataVar: string): string {
  const segments = error.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'required' && typeof error.params['missingProperty'] === 'string') segments.push(error.params['missingProperty']);
  if (error.keyword === 'additionalProperties' && typeof error.params['additionalProperty'] === 'string') segments.push(error.params['additionalProperty']);
  if (segments.length === 0) return dataVar;
  return segments.reduce((path, segment, i) => (i === 0 ? segment : /^\d+$/.test(segment) ? `${path}[${segment}]` : `${path}.${segment}`), '');
}

/** What AJV says when a schema gives no message (its own texts read "must be string"). */
const defaultMessages: Record<string, string> = { required: '{name} is required' };

/** A field the schema does not know: named, whatever the object's own messages say (SPEC §14). */
const unknownFieldMessage = '{name} is not a field of this request (check its spelling against docs/api.md)';

/**
 * Fastify's `schemaErrorFormatter`: a request that fails its route schema
 * (route-schemas.ts, body-schemas/) is 400 `validation_failed` naming the
 * parameter or field, with the message its schema gives for the failing
 * keyword (for a missing field: the message of the field). `{name}` in a
 * message is the field, `{key}` the property name a `propertyNames` schema
 * refused. AJV runs with `verbose`, so that each error carries the schema it
 * failed (plugins/validation.ts).
 */
export function validationErrorOf(errors: FastifySchemaValidationError[], dataVar: string): AppError {
  const error = errors[0];
  if (!error) return new AppError('validation_failed', `the ${dataVar} is not valid`, dataVar);
  const name = fieldOf(error, dataVar);
  const failed = (error as { parentSchema?: Record<string, unknown> }).parentSchema;
  const missing = error.params['missingProperty'];
  const schema = (error.keyword === 'required' && typeof missing === 'string' ? (failed?.['properties'] as Record<string, Record<string, unknown>> | undefined)?.[missing] : failed) ?? {};
  const messages = schema[errorMessageKeyword] as ErrorMessages | undefined;
  const message = error.keyword === 'additionalProperties' ? unknownFieldMessage
    : typeof messages === 'string' ? messages
    : messages?.[error.keyword] ?? messages?.['_'] ?? defaultMessages[error.keyword] ?? `{name} ${error.message ?? 'is not valid'}`;
  const key = (error as { propertyName?: string }).propertyName;
  const said = message.replace(/\{(name|key)\}/g, (_, which: string) => quoteInput(which === 'name' ? name : key ?? ''));
  return new AppError('validation_failed', said, quoteInput(name));
}

/** Fastify's `frameworkErrors` option: errors of routing (bad URL escapes, over-long path segments) before any hook runs. */
export function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const appError = clientErrorOf(error, request);
  if (!appError) request.log.error({ err: error }, 'unhandled routing error');
  sendError(reply, appError ?? new AppError('internal_error', 'an unexpected error occurred; it has been logged'));
}

/** Every error leaves as the JSON of SPEC §3: `{"error":{"code","message","field"?}}`, clipped (see `errorBody`). */
export function registerErrorHandling(app: FastifyInstance): void {
  // Node's own check answers a bare 400; this one answers SPEC §3 (RFC 9112 §3.2: HTTP/1.1 needs Host).
  app.addHook('onRequest', async (request) => {
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
      throw new AppError('malformed_request', 'an HTTP/1.1 request must have a Host header');
    }
  });
  app.setErrorHandler((error: FastifyError | AppError | Error, request, reply) => {
    let appError = clientErrorOf(error, request);
    if (!appError) {
      request.log.error({ err: error }, 'unhandled error');
      appError = new AppError('internal_error', 'an unexpected error occurred; it has been logged');
    }
    sendError(reply, appError);
  });
  app.setNotFoundHandler((request, reply) => {
    const { error, allow } = routeMiss(app, request.method, request.url);
    if (allow) void reply.header('Allow', allow);
    sendError(reply, error);
  });
}
