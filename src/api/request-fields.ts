import type { FastifyInstance } from 'fastify';
import { AppError } from '../shared/errors.js';

/**
 * Reading request input at the boundary. Each reader takes the accepted
 * spellings of a field (snake_case first, then the camelCase the product
 * pages use), checks its type and throws `validation_failed` naming the
 * field as the client spelled it.
 */
export type Body = Record<string, unknown>;

export function asBody(value: unknown): Body {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new AppError('validation_failed', 'the request body must be a JSON object', 'body');
  return value as Body;
}

/** The first spelling present in the body, with its name. */
export function pick(body: Body, names: readonly string[]): { name: string; value: unknown } | undefined {
  for (const name of names) if (body[name] !== undefined) return { name, value: body[name] };
  return undefined;
}

export function optionalString(body: Body, names: readonly string[], opts: { maxLength?: number; nullable?: boolean } = {}): string | null | undefined {
  const found = pick(body, names);
  if (!found) return undefined;
  if (found.value === null && opts.nullable) return null;
  if (typeof found.value !== 'string') throw new AppError('validation_failed', `${found.name} must be a string`, found.name);
  if (found.value.length > (opts.maxLength ?? 2048)) throw new AppError('validation_failed', `${found.name} is too long`, found.name);
  return found.value;
}

export function requiredString(body: Body, names: readonly string[], opts: { maxLength?: number } = {}): string {
  const value = optionalString(body, names, opts);
  if (value === undefined || value === null || value.trim() === '') throw new AppError('validation_failed', `${names[0]} is required`, names[0]);
  return value;
}

export function optionalBoolean(body: Body, names: readonly string[]): boolean | undefined {
  const found = pick(body, names);
  if (!found) return undefined;
  if (typeof found.value !== 'boolean') throw new AppError('validation_failed', `${found.name} must be true or false`, found.name);
  return found.value;
}

export function optionalInteger(body: Body, names: readonly string[], range: { min: number; max: number }): number | undefined {
  const found = pick(body, names);
  if (!found) return undefined;
  const n = typeof found.value === 'string' && /^\d+$/.test(found.value) ? Number(found.value) : found.value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < range.min || n > range.max) {
    throw new AppError('validation_failed', `${found.name} must be a whole number from ${range.min} to ${range.max}`, found.name);
  }
  return n;
}

export function optionalStringArray(body: Body, names: readonly string[], opts: { maxItems?: number } = {}): string[] | undefined {
  const found = pick(body, names);
  if (!found) return undefined;
  if (!Array.isArray(found.value) || found.value.some((v) => typeof v !== 'string')) {
    throw new AppError('validation_failed', `${found.name} must be an array of strings`, found.name);
  }
  if (found.value.length > (opts.maxItems ?? 1000)) throw new AppError('validation_failed', `${found.name} has too many items`, found.name);
  return found.value as string[];
}

/** Opaque paging cursors: the last id of the previous page, base64url-encoded. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(lastId, 'utf8').toString('base64url');
}

/** A cursor the route schema has taken (base64url, at most 200 characters) that must also decode to an id. */
export function decodeCursor(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const id = Buffer.from(raw, 'base64url').toString('utf8');
  if (!/^[a-z]+_[a-z0-9]+$/.test(id)) throw new AppError('validation_failed', 'cursor is not valid', 'cursor');
  return id;
}

/**
 * A path parameter decoded once more, as the number and sandbox-phone routes
 * read them (fastify has decoded it once; a doubly encoded `%252B` still
 * finds the number). A `%` that does not start a valid escape (`%zz`, `%C0`)
 * is kept as it is, so the lookup misses instead of throwing.
 */
export function decodeParam(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

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
export function registerBodyDepthLimit(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    if (nestsDeeperThan(request.body, maxBodyDepth)) {
      throw new AppError('validation_failed', `the request body nests deeper than ${maxBodyDepth} levels of arrays and objects`, 'body');
    }
  });
}
