import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../src/api/openapi.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';

/**
 * The key each route takes is decided by the hook of its scope (workspace,
 * admin, public), never by the handler: every operation of the OpenAPI
 * document is tried with the other kind of key (403 `forbidden`), with no
 * key and an unknown one (401 `unauthorized`), before anything else of the
 * request (its body, its parameters) is looked at.
 */
interface DocumentedOperation {
  method: string;
  path: string;
  auth: 'workspace' | 'admin' | 'none';
}

function documentedOperations(): DocumentedOperation[] {
  const doc = buildOpenApiDocument('http://127.0.0.1:8080') as { paths: Record<string, Record<string, { security: Array<Record<string, unknown>> }>> };
  return Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => {
    const scheme = Object.keys(op.security[0] ?? {})[0];
    return { method: method.toUpperCase(), path, auth: scheme === 'adminKey' ? 'admin' : scheme === 'workspaceKey' ? 'workspace' : 'none' } as const;
  }));
}

const operations = documentedOperations();
/** Path parameters filled in, and a body that is not JSON: the key is refused before the body is read. */
const urlOf = (op: DocumentedOperation) => op.path.replace(/\{\w+\}/g, 'x_1');

describe('each scope takes one kind of key', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi('sqlite', { rateLimit: { perSecond: 1e6, burst: 1e6 } });
  });
  afterAll(() => api.close());

  const send = (op: DocumentedOperation, key: string | null) => api.app.inject({
    method: op.method as 'GET', url: urlOf(op),
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(op.method === 'GET' || op.method === 'DELETE' ? {} : { 'content-type': 'application/json' }) },
    ...(op.method === 'GET' || op.method === 'DELETE' ? {} : { payload: '{"not json' }),
  });

  it('the document has operations of every kind', () => {
    const kinds = new Set(operations.map((op) => op.auth));
    expect([...kinds].sort()).toEqual(['admin', 'none', 'workspace']);
  });

  for (const op of operations.filter((o) => o.auth !== 'none')) {
    it(`${op.method} ${op.path} refuses the ${op.auth === 'admin' ? 'workspace' : 'admin'} key (403) and a missing or unknown key (401)`, async () => {
      const other = op.auth === 'admin' ? api.credentials.api_key : api.credentials.admin_key;
      const wrongKind = await send(op, other);
      expect([wrongKind.statusCode, wrongKind.json().error.code], wrongKind.body).toEqual([403, 'forbidden']);
      for (const key of [null, 'sk_live_0000000000']) {
        const res = await send(op, key);
        expect([res.statusCode, res.json().error.code], res.body).toEqual([401, 'unauthorized']);
      }
    });
  }

  it('public operations need no key', async () => {
    for (const op of operations.filter((o) => o.auth === 'none')) {
      expect((await send(op, null)).statusCode, op.path).toBeLessThan(400);
    }
  });

  it('a request no route takes under /v1 needs a key (401) before it is told 404 or 405; elsewhere it does not', async () => {
    const inject = (method: 'GET' | 'PUT', url: string, key: string | null) => api.app.inject({ method, url, headers: key ? { authorization: `Bearer ${key}` } : {} });
    const codeOf = async (...args: Parameters<typeof inject>) => {
      const res = await inject(...args);
      return [res.statusCode, res.json().error.code];
    };
    expect(await codeOf('GET', '/v1/nothing-here', null)).toEqual([401, 'unauthorized']);
    expect(await codeOf('GET', '/v1/admin/nothing-here', api.credentials.api_key)).toEqual([404, 'route_not_found']);
    expect(await codeOf('GET', '/v1/nothing-here', api.credentials.admin_key)).toEqual([404, 'route_not_found']);
    expect(await codeOf('PUT', '/v1/wallet', null)).toEqual([401, 'unauthorized']);
    expect(await codeOf('PUT', '/v1/wallet', api.credentials.admin_key)).toEqual([405, 'method_not_allowed']);
    expect(await codeOf('PUT', '/v1/openapi.json', null)).toEqual([405, 'method_not_allowed']);
    expect(await codeOf('GET', '/nothing-here', null)).toEqual([404, 'route_not_found']);
  });
});
