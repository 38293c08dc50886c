import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../helpers/test-api.js';

/**
 * Path parameters and query strings are checked by the routes' JSON schemas
 * (src/api/route-schemas.ts) before a handler runs; a value that fails is
 * 400 validation_failed naming the parameter, with the message the
 * hand-written checks gave before.
 */
describe('query strings are validated by the route schemas', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi('sqlite');
  });
  afterAll(() => api.close());

  const errorOf = async (url: string, key?: string) => {
    const res = await api.call('GET', url, key ? { key } : {});
    expect(res.statusCode, res.body).toBe(400);
    return res.json().error as { code: string; message: string; field?: string };
  };

  it('limit: a whole number within the page size of the list, else the same message everywhere', async () => {
    const lists: Array<[string, number, string?]> = [
      ['/v1/calls', 1000], ['/v1/recordings', 1000], ['/v1/wallet/transactions', 1000], ['/v1/numbers/available', 100],
      ['/v1/admin/numbers', 10_000, api.credentials.admin_key],
    ];
    for (const [path, max, key] of lists) {
      for (const limit of ['0', String(max + 1), 'abc', '', '-1', '1&limit=2']) {
        expect(await errorOf(`${path}?limit=${limit}`, key), `${path}?limit=${limit}`)
          .toEqual({ code: 'validation_failed', message: `limit must be a whole number from 1 to ${max}`, field: 'limit' });
      }
      expect((await api.call('GET', `${path}?limit=${max}`, key ? { key } : {})).statusCode, path).toBe(200);
    }
  });

  it('cursor: base64url that decodes to an id, one value', async () => {
    for (const cursor of ['@@@', 'x'.repeat(201), 'YQ&cursor=Yg', Buffer.from('not an id').toString('base64url')]) {
      for (const path of ['/v1/calls', '/v1/recordings', '/v1/wallet/transactions']) {
        expect(await errorOf(`${path}?cursor=${cursor}`), `${path}?cursor=${cursor}`).toEqual({ code: 'validation_failed', message: 'cursor is not valid', field: 'cursor' });
      }
    }
  });

  it('the calls filters: known values, one of each', async () => {
    expect(await errorOf('/v1/calls?status=ringingg')).toMatchObject({ field: 'status', message: expect.stringMatching(/^status must be one of queued, /) });
    expect(await errorOf('/v1/calls?status=completed&status=busy')).toEqual({ code: 'validation_failed', message: 'status must be a single value', field: 'status' });
    expect(await errorOf('/v1/calls?direction=sideways')).toEqual({ code: 'validation_failed', message: 'direction must be inbound or outbound', field: 'direction' });
    expect(await errorOf('/v1/calls?to=')).toEqual({ code: 'validation_failed', message: 'to must be a single value', field: 'to' });
    expect(await errorOf('/v1/calls?since=yesterday')).toEqual({ code: 'validation_failed', message: 'since must be an ISO-8601 timestamp', field: 'since' });
    expect(await errorOf('/v1/calls?metadata.team=a&metadata.team=b'))
      .toEqual({ code: 'validation_failed', message: 'metadata.team must be a single value', field: 'metadata.team' });
    expect((await api.call('GET', '/v1/calls?status=completed&metadata.team=a&unknown=1&unknown=2')).statusCode).toBe(200);
  });

  it('the other lists: conference status, number prefix, the rate destination', async () => {
    expect(await errorOf('/v1/conferences?status=ended')).toEqual({ code: 'validation_failed', message: 'status must be active or completed', field: 'status' });
    expect(await errorOf('/v1/numbers/available?prefix=%2B254&prefix=%2B255')).toMatchObject({ field: 'prefix' });
    expect(await errorOf('/v1/numbers/available?prefix=kenya')).toMatchObject({ field: 'prefix' });
    for (const query of ['', '?to=', '?to=a&to=b']) {
      expect(await errorOf(`/v1/rates${query}`), query).toEqual({ code: 'validation_failed', message: 'to is required, e.g. ?to=%2B254712345678', field: 'to' });
    }
    expect(await errorOf('/v1/rates?to=hello')).toEqual({ code: 'validation_failed', message: 'to must be an E.164 number or a sip: URI', field: 'to' });
  });

  it('a wrong query is refused after the key: no key is still 401', async () => {
    expect((await api.call('GET', '/v1/calls?limit=0', { key: null })).statusCode).toBe(401);
    expect((await api.call('GET', '/v1/calls?limit=0', { key: api.credentials.admin_key })).statusCode).toBe(403);
  });
});
