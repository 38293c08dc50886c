import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, InjectOptions } from 'fastify';
import type { LightMyRequestResponse } from 'fastify';
import { buildApiServer, type ApiServerOptions } from '../../src/api/server.js';
import { Wallet } from '../../src/billing/wallet.js';
import { loadConfig } from '../../src/config/load-config.js';
import { runFirstStart, type FirstStartCredentials } from '../../src/first-start.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/log.js';
import type { Store } from '../../src/store/store.js';
import { openTestStore, type TestDialect } from './dialects.js';

export interface TestApi {
  app: FastifyInstance;
  store: Store;
  credentials: FirstStartCredentials;
  /** Sends a request with a key (the first workspace's by default). */
  call(method: InjectOptions['method'], url: string, options?: { key?: string | null; body?: unknown; headers?: Record<string, string> }): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** The REST API over a fresh store, first-start seeded, driven with in-process HTTP requests. */
export async function startTestApi(dialect: TestDialect, serverOptions: ApiServerOptions = {}): Promise<TestApi> {
  const { store, cleanup } = await openTestStore(dialect);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sautikit-api-'));
  const config = loadConfig({ env: {}, flags: { data: dataDir } });
  const credentials = (await runFirstStart(store, config, systemClock))!;
  const app = await buildApiServer({
    store, wallet: new Wallet(store), clock: systemClock, logger: silentLogger, publicUrl: 'http://sautikit.test',
    allowPrivateCallbacksByDefault: true, wakeDeliverer: () => undefined, readiness: () => ({ ready: true, components: { api: true } }),
  }, serverOptions);
  return {
    app, store, credentials,
    call: (method, url, options = {}) => {
      const key = options.key === undefined ? credentials.api_key : options.key;
      return app.inject({
        method, url,
        headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
        ...(options.body !== undefined ? { payload: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) } : {}),
      });
    },
    close: async () => {
      await app.close();
      await cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
