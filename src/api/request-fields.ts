import { AppError } from '../shared/errors.js';

/**
 * Reading what the URL carries beyond its route schema (route-schemas.ts):
 * paging cursors and path parameters decoded once more. Bodies are
 * validated by their route schemas (body-schemas/).
 */

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
