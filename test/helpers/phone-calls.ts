import type { TestApi } from './test-api.js';
import { until } from './until.js';

const ended = new Set(['completed', 'busy', 'no-answer', 'failed', 'canceled']);

/**
 * A sandbox phone's calls (newest first) once every one of them is over. The
 * platform closes its call record when it sends the BYE; the phone ends its side
 * when the BYE arrives, a moment later.
 */
export function phoneCalls(api: TestApi, number: string, timeoutMs = 30_000): Promise<any[]> {
  return until(async () => {
    const calls = (await api.call('GET', `/v1/sandbox/phones/${encodeURIComponent(number)}/calls`)).json() as Array<{ status: string }>;
    return calls.every((c) => ended.has(c.status)) ? calls : undefined;
  }, timeoutMs);
}
