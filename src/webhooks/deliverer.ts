import type { CallbackPolicy } from '../shared/callback-url-policy.js';
import type { Clock } from '../shared/clock.js';
import { silentLogger, type Logger } from '../shared/log.js';
import type { Store } from '../store/store.js';
import type { OutboxItem } from '../store/repos/outbox-repo.js';
import { HttpFailure, type SafeHttpClient } from './safe-http-client.js';
import { signedHeaders } from './signer.js';
import { activeSecrets, workspaceSecrets } from './signing-secrets.js';

export interface DelivererOptions {
  /** Seconds before each attempt; its length is the number of attempts (8). */
  schedule: readonly number[];
  clock: Clock;
  logger?: Logger;
  /** A receiver that has not answered in this time is retried later. Default 10 s. */
  timeoutMs?: number;
  /** How often the outbox is polled for due rows. Default 1000 ms. */
  pollIntervalMs?: number;
  /** Deliveries in flight to one endpoint (or one status URL origin) at once. Default 4. */
  perTargetConcurrency?: number;
  /** Deliveries in flight in all. Default 64. */
  maxInFlight?: number;
}

/**
 * Workspace webhooks get the envelope of SPEC §9. Status callbacks (a call's
 * status_url, a room's statusEventsCallbackUrl, a stream's statusCallback)
 * get the event's fields at the top level too, as the product pages read
 * them (`req.body.ConferenceName`, `req.body.event`), beside the envelope.
 */
function bodyFor(item: OutboxItem): Record<string, unknown> {
  return item.endpointId ? { ...item.envelope } : { ...item.envelope.data, ...item.envelope };
}

/** Deliveries are limited per endpoint, or per origin for status URLs. */
function targetOf(item: OutboxItem): string {
  return item.endpointId ?? new URL(item.targetUrl).origin;
}

type Outcome = { status: 'delivered' | 'stopped' | 'failed' | 'pending'; statusCode: number | null; error: string | null };

/**
 * Sends outbox rows at least once: signs, posts, records every attempt, and
 * retries on the schedule. 2xx ends a delivery, 410 stops it, anything else
 * (or no answer within the timeout) is retried until the attempts run out.
 * Rows are leased before sending, so several deliverers (or a restarted one)
 * never lose a delivery; a crash mid-attempt only means it is sent again.
 */
export class WebhookDeliverer {
  readonly #store: Store;
  readonly #http: SafeHttpClient;
  readonly #options: Required<Omit<DelivererOptions, 'logger'>> & { logger: Logger };
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #perTarget = new Map<string, number>();
  readonly #credentialCache = new Map<string, { until: number; value: Promise<{ secrets: string[] | undefined; policy: CallbackPolicy }> }>();
  #timer: NodeJS.Timeout | undefined;
  #ticking = false;
  #again = false;
  #closed = false;

  constructor(store: Store, http: SafeHttpClient, options: DelivererOptions) {
    this.#store = store;
    this.#http = http;
    this.#options = {
      timeoutMs: 10_000, pollIntervalMs: 1000, perTargetConcurrency: 4, maxInFlight: 64, logger: silentLogger, ...options,
    };
  }

  start(): void {
    this.#schedule(0);
  }

  /** Looks for due rows now (new events were just written). */
  wake = (): void => {
    if (!this.#closed) this.#schedule(0);
  };

  /** Stops polling and waits for deliveries in flight. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    await Promise.allSettled([...this.#inFlight.values()]);
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#tick(), delayMs);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    if (this.#ticking) {
      this.#again = true;
      return;
    }
    this.#ticking = true;
    try {
      do {
        this.#again = false;
        await this.#launchDue();
      } while (this.#again && !this.#closed);
    } catch (error) {
      this.#options.logger.error({ err: error }, 'webhook deliverer tick failed');
    } finally {
      this.#ticking = false;
      this.#schedule(this.#options.pollIntervalMs);
    }
  }

  async #launchDue(): Promise<void> {
    const free = this.#options.maxInFlight - this.#inFlight.size;
    if (free <= 0 || this.#closed) return;
    const now = this.#options.clock.now();
    const due = await this.#store.outbox.due(now, Math.max(free * 4, 50));
    // Pick what fits each target's concurrency, then lease the picks in one statement.
    const planned = new Map<string, number>();
    const picks: string[] = [];
    for (const item of due) {
      if (picks.length >= free) break;
      if (this.#inFlight.has(item.id)) continue;
      const target = targetOf(item);
      const busy = (this.#perTarget.get(target) ?? 0) + (planned.get(target) ?? 0);
      if (busy >= this.#options.perTargetConcurrency) continue;
      planned.set(target, (planned.get(target) ?? 0) + 1);
      picks.push(item.id);
    }
    const leased = await this.#store.outbox.claim(picks, now, new Date(now.getTime() + this.#options.timeoutMs + 5000));
    for (const item of leased) {
      if (this.#closed) break;
      const target = targetOf(item);
      this.#perTarget.set(target, (this.#perTarget.get(target) ?? 0) + 1);
      const run = this.#deliver(item).finally(() => {
        this.#inFlight.delete(item.id);
        const left = (this.#perTarget.get(target) ?? 1) - 1;
        if (left <= 0) this.#perTarget.delete(target);
        else this.#perTarget.set(target, left);
        this.wake();
      });
      this.#inFlight.set(item.id, run);
    }
  }

  async #deliver(item: OutboxItem): Promise<void> {
    const attempt = item.attempts + 1;
    const started = performance.now();
    const log = this.#options.logger.child({ deliveryId: item.id, eventId: item.envelope.id, callId: item.callId ?? undefined, type: item.type, attempt });
    let outcome: Outcome;
    try {
      outcome = await this.#send(item, attempt);
    } catch (error) {
      log.error({ err: error }, 'delivery attempt crashed');
      outcome = { status: 'pending', statusCode: null, error: error instanceof Error ? error.message : String(error) };
    }
    const now = this.#options.clock.now();
    if (outcome.status === 'pending' && attempt >= this.#options.schedule.length) outcome.status = 'failed';
    const delay = this.#options.schedule[attempt] ?? 0;
    await this.#store.outbox.recordAttempt({
      id: item.id, attempt, statusCode: outcome.statusCode, latencyMs: performance.now() - started, error: outcome.error, now,
      next: outcome.status === 'pending' ? { status: 'pending', nextAttemptAt: new Date(now.getTime() + delay * 1000) } : { status: outcome.status },
    });
    // A delivery given up for good is a warn line, with the call id of a call's event (SPEC §14).
    if (outcome.status === 'failed') log.warn({ statusCode: outcome.statusCode, error: outcome.error, url: item.targetUrl }, 'webhook delivery failed for good');
    else log.debug({ status: outcome.status, statusCode: outcome.statusCode, error: outcome.error }, 'delivery attempt');
  }

  /** Secrets and policy of a target, read at most once a second (a burst of deliveries shares one read). */
  async #credentials(item: OutboxItem, now: Date): Promise<{ secrets: string[] | undefined; policy: CallbackPolicy }> {
    const key = `${item.workspaceId}/${item.endpointId ?? ''}`;
    const cached = this.#credentialCache.get(key);
    if (cached && cached.until > performance.now()) return cached.value;
    const value = (async () => {
      let secrets: string[] | undefined;
      if (item.endpointId) {
        const endpoint = await this.#store.webhookEndpoints.getAny(item.endpointId);
        secrets = endpoint ? activeSecrets(endpoint.secret, endpoint.previousSecret, endpoint.previousSecretExpiresAt, now) : undefined;
      } else {
        secrets = await workspaceSecrets(this.#store, item.workspaceId, now);
      }
      return { secrets, policy: await this.#store.settings.get(item.workspaceId) };
    })();
    this.#credentialCache.set(key, { until: performance.now() + 1000, value });
    if (this.#credentialCache.size > 10_000) this.#credentialCache.clear();
    return value;
  }

  async #send(item: OutboxItem, attempt: number): Promise<Outcome> {
    const now = this.#options.clock.now();
    const { secrets, policy } = await this.#credentials(item, now);
    if (!secrets) return { status: 'stopped', statusCode: null, error: 'the workspace or endpoint no longer exists' };
    const rawBody = JSON.stringify(bodyFor(item));
    try {
      const res = await this.#http.post(item.targetUrl, {
        body: rawBody, policy, timeoutMs: this.#options.timeoutMs, maxResponseBytes: 64 * 1024,
        headers: signedHeaders({ rawBody, secrets, eventId: item.envelope.id, attempt, now }),
      });
      if (res.status >= 200 && res.status < 300) return { status: 'delivered', statusCode: res.status, error: null };
      if (res.status === 410) return { status: 'stopped', statusCode: 410, error: 'the receiver answered 410 Gone' };
      return { status: 'pending', statusCode: res.status, error: `HTTP ${res.status}` };
    } catch (error) {
      if (error instanceof HttpFailure) {
        // A URL the workspace's policy refuses will not start working on retry.
        if (error.kind === 'not_allowed') return { status: 'failed', statusCode: null, error: `refused: ${error.message}` };
        // A receiver whose answer is too large did answer; its status is unknown, so retry.
        return { status: 'pending', statusCode: null, error: `${error.kind}: ${error.message}` };
      }
      throw error;
    }
  }
}
