import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentedRoutes } from '../../src/api/openapi.js';
import { operations } from '../../src/api/openapi-operations.js';
import { errorCatalogue } from '../../src/shared/errors.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';

describe('error catalogue and docs/errors.md', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const documented = [...doc.matchAll(/^### `([a-z_]+)`\n\nHTTP (\d{3})\./gm)].map((m) => [m[1], Number(m[2])] as const);

  it('documents every code with its status, and no code that does not exist', () => {
    const inCode = Object.entries(errorCatalogue).map(([code, { status }]) => [code, status] as const);
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries(inCode));
    expect(documented).toHaveLength(inCode.length);
  });

  it('includes the codes SPEC §3 names with their statuses', () => {
    expect(errorCatalogue).toMatchObject({
      unauthorized: { status: 401 }, not_found: { status: 404 }, validation_failed: { status: 400 }, insufficient_funds: { status: 402 },
      destination_not_allowed: { status: 403 }, callback_url_not_allowed: { status: 403 }, idempotency_conflict: { status: 409 }, rate_limited: { status: 429 },
    });
    expect(errorCatalogue).toHaveProperty('number_not_owned');
  });
});

describe('OpenAPI document', () => {
  let api: TestApi;
  const registered: string[] = [];
  const schemas = new Map<string, unknown>();
  beforeAll(async () => {
    api = await startTestApi('sqlite', {
      onRoute: (method, url, schema) => {
        // The web console's HTML pages (/ and /console/...) are not part of the REST API's document.
        if (url === '/' || url.startsWith('/console')) return;
        registered.push(`${method} ${url}`);
        schemas.set(`${method} ${url}`, schema);
      },
    });
  });
  afterAll(() => api.close());

  it('is served at /v1/openapi.json without a key', async () => {
    const res = await api.call('GET', '/v1/openapi.json', { key: null });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.paths['/v1/numbers/{id}'].patch.requestBody.content['application/json'].schema.properties).toHaveProperty('routing_url');
  });

  it('documents exactly the routes the server registers', () => {
    expect([...new Set(registered)].sort()).toEqual([...documentedRoutes()].sort());
  });

  it('documents the path parameters, query strings and request bodies with the schemas the routes validate them with', () => {
    for (const op of operations) {
      const route = `${op.method.toUpperCase()} ${op.path.replace(/\{(\w+)\}/g, ':$1')}`;
      const schema = schemas.get(route) as { params?: unknown; querystring?: unknown } | undefined;
      expect(schema?.params, `${route} params`).toEqual(op.params);
      expect(schema?.querystring, `${route} querystring`).toEqual(op.querystring);
      expect((schema as { body?: unknown } | undefined)?.body, `${route} body`).toEqual(op.body);
      if (op.path.includes('{')) expect(op.params, route).toBeDefined();
    }
  });
});

describe('rate limiting', () => {
  it('answers 429 rate_limited with Retry-After once a key exceeds its bucket', async () => {
    const api = await startTestApi('sqlite', { rateLimit: { perSecond: 1, burst: 3 } });
    try {
      const responses = [];
      for (let i = 0; i < 5; i++) responses.push(await api.call('GET', '/v1/wallet'));
      expect(responses.map((r) => r.statusCode)).toEqual([200, 200, 200, 429, 429]);
      expect(responses[4]!.json().error.code).toBe('rate_limited');
      expect(Number(responses[4]!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      // Another key has its own bucket.
      expect((await api.call('GET', '/v1/admin/rates', { key: api.credentials.admin_key })).statusCode).toBe(200);
    } finally {
      await api.close();
    }
  });
});

describe('event catalogue and docs/webhooks.md', () => {
  it('has a JSON example of every event type, and no other', async () => {
    const { eventTypes } = await import('../../src/webhooks/event-types.js');
    const doc = readFileSync(new URL('../../docs/webhooks.md', import.meta.url), 'utf8');
    const examples = [...doc.matchAll(/^### `([a-z_.]+)`\n\n```json\n(.+)\n```/gm)];
    expect(examples.map((m) => m[1])).toEqual([...eventTypes]);
    for (const [, type, json] of examples) {
      const envelope = JSON.parse(json!);
      expect(envelope).toMatchObject({ type, id: expect.any(String), created_at: expect.any(String), workspace_id: expect.any(String), data: expect.any(Object) });
    }
  });
});
