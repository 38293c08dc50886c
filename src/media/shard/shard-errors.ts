/**
 * Errors across the thread: a shard turns what it caught into a
 * `ShardError` (plain data), the main thread turns that back into the class
 * the in-process backend throws, so `instanceof` and `code` answer the same
 * on both backends.
 */
import { FetchRefusedError } from '../../shared/fetch-policy.js';
import { MediaEndpointClosedError } from '../media-errors.js';
import { UrlAudioError } from '../sources/url-audio.js';
import type { ShardError } from './shard-protocol.js';

/** On the shard: what to send back for `error`. */
export function toShardError(error: unknown): ShardError {
  if (error instanceof UrlAudioError) return { kind: 'urlAudio', code: error.code, message: error.message };
  if (error instanceof FetchRefusedError) return { kind: 'fetchRefused', url: error.url, message: error.message };
  if (error instanceof MediaEndpointClosedError) return { kind: 'endpointClosed', endpoint: error.endpoint, message: error.message };
  const code = (error as { code?: unknown } | null)?.code;
  return { kind: 'other', message: error instanceof Error ? error.message : String(error), ...(typeof code === 'string' ? { code } : {}) };
}

/** On the main thread: the error the in-process backend would have thrown. */
export function fromShardError(error: ShardError): Error {
  switch (error.kind) {
    case 'urlAudio':
      return new UrlAudioError(error.code, error.message);
    case 'fetchRefused':
      return new FetchRefusedError(error.message, error.url);
    case 'endpointClosed':
      return new MediaEndpointClosedError(error.endpoint, error.message);
    case 'other':
      return Object.assign(new Error(error.message), error.code === undefined ? {} : { code: error.code });
  }
}
