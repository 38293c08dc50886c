import type { FastifyInstance, FastifyReply } from 'fastify';
import { AppError } from '../../shared/errors.js';

export interface RateLimitOptions {
  /** Requests per second each API key may sustain. Default 50. */
  perSecond?: number;
  /** Requests a key may send at once above the sustained rate. Default 100. */
  burst?: number;
}

export interface RateLimiter {
  /** Takes a token from the key's bucket, or throws 429 `rate_limited` with `Retry-After` on the reply. */
  take(keyId: string, reply: FastifyReply): void;
}

/**
 * A token bucket per API key: a runaway client gets 429 `rate_limited` with
 * `Retry-After` instead of starving everyone else. One limiter serves every
 * scope, so a key has one bucket whatever it calls; authentication takes the
 * token once it knows the key (plugins/auth.ts).
 */
export function createRateLimiter(app: FastifyInstance, options: RateLimitOptions = {}): RateLimiter {
  const perSecond = options.perSecond ?? 50;
  const burst = options.burst ?? 100;
  const buckets = new Map<string, { tokens: number; at: number }>();
  // Buckets of idle keys are full again after burst/perSecond seconds: forget them.
  const sweep = setInterval(() => {
    const cutoff = performance.now() - (burst / perSecond) * 1000;
    for (const [key, bucket] of buckets) if (bucket.at < cutoff) buckets.delete(key);
  }, 60_000);
  sweep.unref();
  app.addHook('onClose', async () => clearInterval(sweep));
  return {
    take(keyId, reply) {
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
    },
  };
}
