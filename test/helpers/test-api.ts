import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { ApiServerOptions } from '../../src/api/server.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { FirstStartCredentials } from '../../src/first-start.js';
import { startPlatform, type Platform, type StartOptions } from '../../src/main.js';
import type { Clock } from '../../src/shared/clock.js';
import { silentLogger, type Logger } from '../../src/shared/log.js';
import type { Store } from '../../src/store/store.js';
import { openTestStore, type TestDialect } from './dialects.js';

export interface TestApi {
  app: FastifyInstance;
  store: Store;
  platform: Platform;
  credentials: FirstStartCredentials;
  /** Sends a request with a key (the first workspace's by default). */
  call(method: InjectOptions['method'], url: string, options?: { key?: string | null; body?: unknown; headers?: Record<string, string> }): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export interface TestPlatformOptions extends ApiServerOptions {
  /** Extra start options as flags (`sandbox: 'false'`, `webhook-retry-schedule`, …). */
  flags?: Record<string, string>;
  /** The platform's clock (billing and spend checks read it; audio runs in real time). */
  clock?: Clock;
  /** The compiled media worker, for `media-workers` > 0 (see `compileShardWorker`). */
  mediaWorkerUrl?: URL;
  /** Back-off of failed trunk registrations (shortened in tests). */
  trunkRegistrationTiming?: StartOptions['trunkRegistrationTiming'];
  /** The platform's logger (default: silent); tests that check log lines pass one writing to memory. */
  logger?: Logger;
  /** Between heartbeats (calls marked alive, the node's row, the reaper); default 5 s. */
  livenessIntervalMs?: number;
}

/**
 * The whole platform (API, SIP, media, sandbox, engine) on free ports over a
 * fresh store, first-start seeded; the API is driven with in-process requests.
 */
export async function startTestApi(dialect: TestDialect, options: TestPlatformOptions = {}): Promise<TestApi> {
  const { store, cleanup } = await openTestStore(dialect);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sautikit-api-'));
  // Platforms in tests take RTP ports from 20000-29999; media tests bind fixed ports above 31000.
  const config = loadConfig({
    env: {},
    flags: { data: dataDir, 'http-port': '0', 'sip-port': '0', 'rtp-ports': '20000-29999', 'log-level': 'silent', ...options.flags },
  });
  const { flags: _flags, clock, mediaWorkerUrl, trunkRegistrationTiming, logger, livenessIntervalMs, ...api } = options;
  const platform = await startPlatform(config, {
    store, logger: logger ?? silentLogger, api, ...(clock ? { clock } : {}), ...(mediaWorkerUrl ? { mediaWorkerUrl } : {}), ...(trunkRegistrationTiming ? { trunkRegistrationTiming } : {}),
    ...(livenessIntervalMs ? { livenessIntervalMs } : {}),
  });
  const credentials = platform.credentials!;
  return {
    app: platform.api, store, platform, credentials,
    call: (method, url, callOptions = {}) => {
      const key = callOptions.key === undefined ? credentials.api_key : callOptions.key;
      return platform.api.inject({
        method, url,
        headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(callOptions.body !== undefined ? { 'content-type': 'application/json' } : {}), ...callOptions.headers },
        ...(callOptions.body !== undefined ? { payload: typeof callOptions.body === 'string' ? callOptions.body : JSON.stringify(callOptions.body) } : {}),
      });
    },
    close: async () => {
      await platform.close();
      await cleanup().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
