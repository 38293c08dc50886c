import { afterAll, beforeAll, beforeEach, describe } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { dialectUsable, openTestStore, testDialects } from './dialects.js';
import { startTestApi, type TestApi, type TestPlatformOptions } from './test-api.js';

/**
 * A suite run once per dialect (SQLite, PostgreSQL) over one fresh store.
 * Without a PostgreSQL server (outside CI) its tests are skipped.
 */
export function describeOnEachDialect(title: string, body: (store: () => Store, dialect: 'sqlite' | 'postgres') => void): void {
  describe.each(testDialects)(`${title} on %s`, (dialect) => {
    let opened: { store: Store; cleanup: () => Promise<void> } | undefined;
    beforeAll(async () => {
      if (await dialectUsable(dialect)) opened = await openTestStore(dialect);
    });
    afterAll(async () => {
      await opened?.cleanup();
    });
    beforeEach((ctx) => {
      if (!opened) ctx.skip();
    });
    body(() => opened!.store, dialect);
  });
}

/** The same for the REST API over a first-start-seeded store. */
export function describeApiOnEachDialect(title: string, body: (api: () => TestApi) => void, options: TestPlatformOptions = {}): void {
  describe.each(testDialects)(`${title} on %s`, (dialect) => {
    let api: TestApi | undefined;
    beforeAll(async () => {
      if (await dialectUsable(dialect)) api = await startTestApi(dialect, options);
    });
    afterAll(async () => {
      await api?.close();
    });
    beforeEach((ctx) => {
      if (!api) ctx.skip();
    });
    body(() => api!);
  });
}
