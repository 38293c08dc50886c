import type { Worker } from 'node:worker_threads';

/**
 * The messages a bench's peer worker posts, read one at a time in order:
 * `next()` waits for the next one. `intercept` sees each message first and
 * keeps it out of the queue by answering true (a control message, such as a
 * request to stall the platform thread).
 */
export function workerInbox(worker: Worker, intercept?: (message: { type?: string }) => boolean): <T>() => Promise<T> {
  const messages: unknown[] = [];
  let notify: (() => void) | undefined;
  worker.on('message', (message: { type?: string }) => {
    if (intercept?.(message)) return;
    messages.push(message);
    notify?.();
  });
  return async <T>(): Promise<T> => {
    while (messages.length === 0) await new Promise<void>((r) => (notify = r));
    return messages.shift() as T;
  };
}
