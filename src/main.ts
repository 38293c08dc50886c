import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApiServer } from './api/server.js';
import type { ApiContext } from './api/api-context.js';
import { Wallet } from './billing/wallet.js';
import type { Config } from './config/config.js';
import { runFirstStart, type FirstStartCredentials } from './first-start.js';
import { systemClock, type Clock } from './shared/clock.js';
import { createLogger, type Logger } from './shared/log.js';
import { Store } from './store/store.js';
import { WebhookDeliverer } from './webhooks/deliverer.js';
import { EventPublisher } from './webhooks/event-publisher.js';
import { SafeHttpClient } from './webhooks/safe-http-client.js';
import { VoiceCallbackFetcher } from './webhooks/voice-callback-fetcher.js';

export interface Platform {
  config: Config;
  store: Store;
  /** Puts events in the outbox (with the repos of the transaction that causes them). */
  events: EventPublisher;
  /** Fetches voice actions from customers' servers. */
  voiceCallbacks: VoiceCallbackFetcher;
  /** The HTTP address actually bound (port 0 picks one). */
  httpUrl: string;
  publicUrl: string;
  /** Set on the first start only. */
  credentials: FirstStartCredentials | undefined;
  /** Stops everything; idempotent. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  clock?: Clock;
}

/**
 * The composition root: config → store → billing → webhooks → api. Builds every room,
 * wires them together, and answers a handle that stops them in reverse order.
 */
export async function startPlatform(config: Config, options: StartOptions = {}): Promise<Platform> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const clock = options.clock ?? systemClock;
  const store = await Store.open({ url: config.databaseUrl });
  const http = new SafeHttpClient();
  const deliverer = new WebhookDeliverer(store, http, { schedule: config.webhookRetrySchedule, clock, logger: logger.child({ component: 'webhooks' }) });
  let api: FastifyInstance | undefined;
  try {
    const credentials = await runFirstStart(store, config, clock);
    const wallet = new Wallet(store);
    const events = new EventPublisher(config.webhookRetrySchedule[0] ?? 0, deliverer.wake);
    const voiceCallbacks = new VoiceCallbackFetcher(http, { now: () => clock.now() });
    // Deliveries left pending by an earlier run (even one killed with SIGKILL) resume now.
    deliverer.start();
    const components: Record<string, boolean> = { api: false, store: true };
    let publicUrl = config.publicUrl;
    const ctx: ApiContext = {
      store, wallet, clock, logger,
      get publicUrl() { return publicUrl; },
      allowPrivateCallbacksByDefault: config.environment === 'development',
      wakeDeliverer: deliverer.wake,
      readiness: () => ({ ready: Object.values(components).every(Boolean), components: { ...components } }),
    };
    api = await buildApiServer(ctx);
    await api.listen({ port: config.httpPort, host: config.host });
    const address = api.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const httpUrl = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;
    // With port 0 the default public URL names the port actually bound.
    if (config.httpPort === 0 && config.publicUrl.endsWith(':0')) publicUrl = httpUrl;
    components['api'] = true;
    logger.info({ httpUrl, publicUrl, database: store.dialect }, 'sautikit started');

    let closed: Promise<void> | undefined;
    const server = api;
    return {
      config, store, events, voiceCallbacks, httpUrl, credentials,
      get publicUrl() { return publicUrl; },
      close: () => {
        closed ??= (async () => {
          components['api'] = false;
          await server.close();
          await deliverer.close();
          await http.close();
          await store.close();
          logger.info('sautikit stopped');
        })();
        return closed;
      },
    };
  } catch (error) {
    await api?.close();
    await deliverer.close();
    await http.close();
    await store.close();
    throw error;
  }
}
