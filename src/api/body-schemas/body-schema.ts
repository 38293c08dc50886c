import type { Schema } from '../openapi-schemas.js';
import { errorMessageKeyword, type ErrorMessages } from '../route-schemas.js';

/**
 * Building blocks of the request-body schemas (one file per resource beside
 * this one). Fastify validates each body with its route's schema before the
 * handler runs (plugins/validation.ts), a failing field is answered 400
 * `validation_failed` naming it as the client spelled it, with the message of
 * its `x-error-message` (`{name}` stands for the field's path, `to[1]`,
 * `rates[0].category`). The OpenAPI document shows the same schemas
 * (openapi.ts, `documentedSchema`), and `Infer` gives the handlers their type,
 * so the three cannot drift apart.
 */

/**
 * Marks a property as another spelling of one (the product pages' camelCase
 * beside snake_case): validated like it, read with `pick` (the first spelling
 * sent wins), and shown in the OpenAPI document as "also `routingUrl`" on the
 * property it spells.
 */
export const aliasKeyword = 'x-alias-of';

const withMessages = (schema: Schema, messages: ErrorMessages | undefined): Schema => (messages ? { ...schema, [errorMessageKeyword]: messages } : schema);

/** Options of a string field: its limits, its default (for the reader: handlers apply it) and messages replacing the usual ones, per keyword. */
interface TextOptions { maxLength?: number; minLength?: number; pattern?: string; default?: string; messages?: Record<string, string> }

/** What a string field's keywords say, unless the field says otherwise. */
const textMessages = (options: TextOptions): Record<string, string> => ({
  required: '{name} is required', type: '{name} must be a string', maxLength: '{name} is too long', ...options.messages,
});

const textSchema = (types: string | string[], description: string, options: TextOptions): Schema => {
  const { messages: _messages, maxLength = 2048, ...keywords } = options;
  return withMessages({ type: types, description, maxLength, ...keywords }, textMessages(options));
};

/** A string (at most 2048 characters unless `maxLength` says otherwise). */
export const text = (description: string, options: TextOptions = {}) => textSchema('string', description, options) as { type: 'string' };

/** A string, or null (which clears the value where the route allows it). */
export const nullableText = (description: string, options: TextOptions = {}) =>
  textSchema(['string', 'null'], description, { ...options, messages: { type: '{name} must be a string or null', ...options.messages } }) as { type: ['string', 'null'] };

/** A string that may not be blank: missing, "" and "   " are all "{name} is required". */
export const requiredText = (description: string, options: TextOptions = {}) =>
  text(description, { minLength: 1, pattern: '\\S', ...options, messages: { pattern: '{name} is required', minLength: '{name} is required', ...options.messages } });

/** A whole number within a range. */
export const integer = (description: string, range: { min: number; max: number }, fallback?: number) => withMessages({
  type: 'integer', description, minimum: range.min, maximum: range.max, ...(fallback !== undefined ? { default: fallback } : {}),
}, `{name} must be a whole number from ${range.min} to ${range.max}`) as { type: 'integer' };

export const boolean = (description: string, fallback?: boolean) =>
  withMessages({ type: 'boolean', description, ...(fallback !== undefined ? { default: fallback } : {}) }, '{name} must be true or false') as { type: 'boolean' };

/** One of a few strings. */
export const oneOfValues = <const V extends string>(values: readonly V[], description: string, options: { default?: V; message?: string } = {}) => withMessages({
  enum: values, description, ...(options.default !== undefined ? { default: options.default } : {}),
}, options.message ?? `{name} must be one of ${values.join(', ')}`) as { enum: readonly V[] };

/** An array of strings (each at most 2048 characters). */
export const texts = (description: string, options: { maxItems: number; default?: string[]; messages?: Record<string, string> }) => withMessages({
  type: 'array', description, maxItems: options.maxItems, ...(options.default ? { default: options.default } : {}),
  items: withMessages({ type: 'string', maxLength: 2048 }, { type: '{name} must be a string', maxLength: '{name} is too long' }),
}, { type: '{name} must be an array of strings', maxItems: '{name} has too many items', ...options.messages }) as { type: 'array'; items: { type: 'string' } };

/** An amount of KES: `"500.00"` (or the number 500); its format is checked by the route (billing/rating.ts parses it). */
export const amount = (description: string, message: string) =>
  withMessages({ type: ['string', 'number'], description }, message) as { type: ['string', 'number'] };

/** A schema written out where the builders above do not fit; `S` keeps its literal types for `Infer`. */
export const schema = <const S extends Schema>(value: S): S => value;

/**
 * A field and its other spellings, each validated alike; the aliases carry
 * `x-alias-of`. `pick(body, [name, ...aliases])` reads whichever was sent.
 */
export function aliased<const N extends string, const A extends string, S extends object>(name: N, aliases: readonly A[], field: S): Record<N | A, S> {
  const out: Record<string, unknown> = { [name]: field };
  for (const alias of aliases) out[alias] = { ...field, [aliasKeyword]: name };
  return out as Record<N | A, S>;
}

/**
 * A JSON object with its properties; `required` ones must be present. A
 * property the schema does not know is refused, naming it (SPEC §14): a typo
 * such as `routingURL` must not be silently ignored.
 */
export function object<const P extends Record<string, object>, const R extends readonly (keyof P & string)[] = []>(
  properties: P, required?: R, extra: Schema = {},
): { type: 'object'; properties: P; required: R } {
  const out = {
    type: 'object', properties, ...(required && required.length > 0 ? { required } : {}), additionalProperties: false,
    [errorMessageKeyword]: { type: '{name} must be an object' }, ...extra,
  };
  return out as { type: 'object'; properties: P; required: R };
}

/** A whole request body: an object (anything else is "the request body must be a JSON object"). */
export const body = <const P extends Record<string, object>, const R extends readonly (keyof P & string)[] = []>(properties: P, required?: R, extra: Schema = {}) =>
  object(properties, required, { [errorMessageKeyword]: { type: 'the request body must be a JSON object' }, ...extra });

/** The first spelling of a field the body holds (null counts: it clears), with the name it was sent as. */
export function pick<B extends object, K extends keyof B & string>(data: B, names: readonly K[]): { name: K; value: Exclude<B[K], undefined> } | undefined {
  for (const name of names) {
    const value = data[name];
    if (value !== undefined) return { name, value: value as Exclude<B[K], undefined> };
  }
  return undefined;
}

// The TypeScript type of the values a schema admits (the subset of JSON Schema the builders above write).

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type ObjectOf<P, R> = Simplify<{ -readonly [K in keyof P & R]: Infer<P[K]> } & { -readonly [K in Exclude<keyof P, R>]?: Infer<P[K]> }>;
type OfType<T, S> =
  T extends 'string' ? string
  : T extends 'integer' | 'number' ? number
  : T extends 'boolean' ? boolean
  : T extends 'null' ? null
  : T extends 'array' ? (S extends { items: infer I } ? Array<Infer<I>> : unknown[])
  : T extends 'object' ? (S extends { properties: infer P } ? ObjectOf<P, S extends { required: readonly (infer R)[] } ? R : never>
    : S extends { additionalProperties: infer V } ? Record<string, Infer<V>> : Record<string, unknown>)
  : unknown;

/** The value a schema admits, as a TypeScript type: what a handler gets as `request.body`. */
export type Infer<S> =
  S extends { const: infer C } ? C
  : S extends { enum: readonly (infer E)[] } ? E
  : S extends { oneOf: readonly (infer O)[] } ? Infer<O>
  : S extends { type: infer T } ? OfType<T extends readonly (infer U)[] ? U : T, S>
  : unknown;
