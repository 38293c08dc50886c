/**
 * Errors of call media that callers branch on, by class and by `code`, the
 * same on both backends: the in-process one throws them, and the worker
 * thread backend rebuilds them from a shard's reply (`shard-errors.ts`).
 * URL audio has its own `UrlAudioError` and a refused fetch its
 * `FetchRefusedError`; these are the rest.
 */

/** A command for a leg that is closed (or that its worker no longer holds). */
export class MediaEndpointClosedError extends Error {
  readonly code = 'media_endpoint_closed';

  constructor(readonly endpoint: string, message = `media endpoint ${endpoint} is closed`) {
    super(message);
    this.name = 'MediaEndpointClosedError';
  }
}

/** The worker thread carrying a leg exited (crashed or stopped) before answering. Only the worker thread backend throws it. */
export class MediaWorkerExitedError extends Error {
  readonly code = 'media_worker_exited';

  constructor(readonly shard: number, message = `media shard ${shard} exited`) {
    super(message);
    this.name = 'MediaWorkerExitedError';
  }
}
