import { Ajv } from 'ajv';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../shared/errors.js';
import { aliasKeyword } from '../body-schemas/body-schema.js';
import { errorMessageKeyword } from '../route-schemas.js';

/** Deepest nesting of arrays and objects a request body may have (voice actions nest a few levels). */
export const maxBodyDepth = 64;

/** Whether a parsed JSON value nests deeper than `max` levels; iterative, so any depth is safe to measure. */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== 'object') continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Refuses bodies nested deeper than `maxBodyDepth` before any route reads
 * them: code that walks a body recursively (the idempotency hash, voice
 * actions) would otherwise overflow the stack on `[[[[…]]]]` and answer 500.
 */
function registerBodyDepthLimit(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    if (nestsDeeperThan(request.body, maxBodyDepth)) {
      throw new AppError('validation_failed', `the request body nests deeper than ${maxBodyDepth} levels of arrays and objects`, 'body');
    }
  });
}

/**
 * The validators of the route schemas: one AJV for what arrives in the URL,
 * one for JSON bodies. AJV runs `verbose`, so that each error carries the
 * schema it failed and its `x-error-message` (plugins/errors.ts).
 * Bodies nested too deep are refused first.
 */
const sharedAjvOptions = { verbose: true, allErrors: false, allowUnionTypes: true, keywords: [errorMessageKeyword, aliasKeyword] };

/**
 * The validator of JSON bodies. A JSON body already has its types: a value of the wrong type is an error, never
 * converted, and nothing is added or removed (the idempotency hash sees the body as sent). Defaults in body schemas
 * are for the reader; handlers apply them. Also checks bodies another node forwards (src/api/live/live-operations.ts).
 */
export function bodyAjv(): Ajv {
  return new Ajv({ ...sharedAjvOptions, coerceTypes: false, useDefaults: false, removeAdditional: false });
}

export function registerValidation(app: FastifyInstance): void {
  // Path and query values arrive as text: coerced to the schema's types, with their defaults (fastify's own settings).
  const forUrl = new Ajv({ ...sharedAjvOptions, coerceTypes: 'array', useDefaults: true, removeAdditional: true });
  const forBody = bodyAjv();
  registerBodyDepthLimit(app);
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? forBody : forUrl).compile(schema));
  // A request without a body (or with JSON null) is validated as `{}`: its required fields are named, not "body must be an object".
  app.addHook('preValidation', async (request) => {
    if ((request.body === undefined || request.body === null) && request.routeOptions.schema?.body) request.body = {};
  });
}
