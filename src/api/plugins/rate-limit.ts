import type { FastifyInstance } from 'fastify';
import { AppError } from '../../shared/errors.js';

export interface RateLimitOptions {
  /** Requests per second each API key may sustain. Default 50. */
  perSecond?: number;
  /** Requests a key may send at once above the sustained rate. Default 100. */
  burst?: number;
}

/**
 * A token bucket per API key: a runaway client gets 429 `rate_limited` with
 * `Retry-After` instead of starving everyone else. Runs after authentication,
 * so unauthenticated floods are answered 401 before they cost a bucket.
 */
export function registerRateLimit(app: FastifyInstance, options: RateLimitOptions = {}): void {
  const perSecond = options.perSecond ?? 50;
  const burst = options.burst ?? 100;
  const buckets = new Map<string, { tokens: number; at: number }>();
  app.addHook('onRequest', async (request, reply) => {
    const keyId = request.auth?.keyId;
    if (!keyId) return;
    const now = performance.now();
    const bucket = buckets.get(keyId) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    buckets.set(keyId, bucket);
    if (bucket.tokens < 1) {
      void reply.header('Retry-After', String(Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond))));
      throw new AppError('rate_limited', `more than ${perSecond} requests per second with this key`);
    }
    bucket.tokens -= 1;
  });
  // Buckets of idle keys are full again after burst/perSecond seconds: forget them.
  const sweep = setInterval(() => {
    const cutoff = performance.now() - (burst / perSecond) * 1000;
    for (const [key, bucket] of buckets) if (bucket.at < cutoff) buckets.delete(key);
  }, 60_000);
  sweep.unref();
  app.addHook('onClose', async () => clearInterval(sweep));
}
