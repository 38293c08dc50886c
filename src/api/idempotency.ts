import { createHash } from 'node:crypto';
import { AppError, quoteInput } from '../shared/errors.js';
import type { Store } from '../store/store.js';

/** A stable hash of a JSON body: keys sorted, so field order does not matter. */
export function requestHash(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Runs `handler` once per idempotency key (SPEC §4): the same key with the
 * same body answers the stored response; with another body, or while the
 * first request is still running, 409 `idempotency_conflict`.
 */
export async function withIdempotency(
  store: Store,
  input: { workspaceId: string; scope: string; key: string | undefined; body: unknown; now: Date; field: string },
  handler: () => Promise<{ status: number; body: unknown }>,
): Promise<{ status: number; body: unknown; replayed: boolean }> {
  if (!input.key) return { ...(await handler()), replayed: false };
  const hash = requestHash(input.body);
  const existing = await store.idempotency.reserve(input.workspaceId, input.scope, input.key, hash, input.now);
  if (existing) {
    if (existing.requestHash !== hash) {
      throw new AppError('idempotency_conflict', `${input.field} '${quoteInput(input.key)}' was already used with a different request body`, input.field);
    }
    if (existing.state === 'in_progress') {
      throw new AppError('idempotency_conflict', `a request with ${input.field} '${quoteInput(input.key)}' is still being processed`, input.field);
    }
    return { status: existing.status, body: existing.body, replayed: true };
  }
  let result: { status: number; body: unknown };
  try {
    result = await handler();
  } catch (error) {
    await store.idempotency.abandon(input.workspaceId, input.scope, input.key);
    throw error;
  }
  await store.idempotency.complete(input.workspaceId, input.scope, input.key, result.status, result.body);
  return { ...result, replayed: false };
}
