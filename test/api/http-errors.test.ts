import { errorCodes as fastifyErrorCodes, type FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parserErrorAnswer } from '../../src/api/plugins/client-errors.js';
import { clientErrorOf } from '../../src/api/plugins/errors.js';
import { clipText, errorBody, errorCatalogue, maxEchoedInput, quoteInput } from '../../src/shared/errors.js';
import { echoedRun, errorShapeProblem, rawRequest, type RawResponse } from '../helpers/raw-http.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';

describe('quoteInput and errorBody', () => {
  it('quoteInput() repeats short input as it is and clips long input to 200 characters ending in an ellipsis', () => {
    expect(quoteInput('call_123')).toBe('call_123');
    expect(quoteInput({ a: 1 })).toBe('{"a":1}');
    expect(quoteInput(undefined)).toBe('undefined');
    const clipped = quoteInput('x'.repeat(10_000));
    expect(clipped).toHaveLength(maxEchoedInput);
    expect(clipped.endsWith('…')).toBe(true);
  });

  it('clipText() does not split a surrogate pair', () => {
    const text = `${'a'.repeat(8)}😀${'b'.repeat(10)}`;
    expect(clipText(text, 10)).toBe(`${'a'.repeat(8)}…`);
    expect(clipText(text, 11)).toBe(`${'a'.repeat(8)}😀…`);
  });

  it('errorBody() clips an over-long message and field', () => {
    const body = errorBody('validation_failed', 'm'.repeat(5000), 'f'.repeat(5000));
    expect(body.error.message.length).toBeLessThanOrEqual(1000);
    expect(body.error.field).toHaveLength(200);
    expect(errorBody('not_found', 'no such thing')).toEqual({ error: { code: 'not_found', message: 'no such thing' } });
  });
});

describe('fastify errors and the catalogue', () => {
  const request = { url: '/v1/x?y=1', method: 'GET', headers: {} } as FastifyRequest;
  const ours = new Set(['FST_ERR_CTP_INSTANCE_ALREADY_STARTED']);

  it('every fastify error with a 4xx status keeps its status through a catalogue code; the others are 500 (logged)', () => {
    const seen: string[] = [];
    for (const [name, Ctor] of Object.entries(fastifyErrorCodes)) {
      const error = new (Ctor as new (...args: string[]) => Error & { statusCode?: number })('a', 'b', 'c');
      const answer = clientErrorOf(error, request);
      const status = error.statusCode ?? 500;
      if (status >= 400 && status < 500 && !ours.has(name)) {
        expect(answer, name).toBeDefined();
        expect(answer!.status, name).toBe(status);
        expect(errorCatalogue[answer!.code].status, name).toBe(status);
        seen.push(`${name} → ${answer!.code}`);
      } else if (name === 'FST_ERR_HANDLER_TIMEOUT') {
        expect(answer?.code).toBe('service_unavailable');
      } else {
        expect(answer, name).toBeUndefined();
      }
    }
    expect(seen).toEqual(expect.arrayContaining([
      'FST_ERR_BAD_URL → invalid_url', 'FST_ERR_MAX_PARAM_LENGTH → url_too_long', 'FST_ERR_CTP_BODY_TOO_LARGE → payload_too_large',
      'FST_ERR_CTP_INVALID_MEDIA_TYPE → unsupported_media_type', 'FST_ERR_CTP_INVALID_JSON_BODY → invalid_json', 'FST_ERR_CTP_EMPTY_JSON_BODY → invalid_json',
      'FST_ERR_CTP_INVALID_CONTENT_LENGTH → malformed_request', 'FST_ERR_VALIDATION → validation_failed', 'FST_ERR_NOT_FOUND → route_not_found',
    ]));
  });

  it('an unknown error with a 4xx status keeps it (or is 400 malformed_request); one without is a 500', () => {
    const withStatus = (statusCode: number) => Object.assign(new Error('x'), { statusCode });
    expect(clientErrorOf(withStatus(431), request)?.code).toBe('header_too_large');
    expect(clientErrorOf(withStatus(418), request)?.code).toBe('malformed_request');
    expect(clientErrorOf(withStatus(502), request)).toBeUndefined();
    expect(clientErrorOf(new TypeError('bug'), request)).toBeUndefined();
  });
});

describe('errors of HTTP itself answer SPEC §3', () => {
  let api: TestApi;
  let key: string;
  beforeAll(async () => {
    api = await startTestApi('sqlite');
    key = api.credentials.api_key;
  });
  afterAll(() => api.close());

  const send = (lines: string[], body = '') => rawRequest(api.platform.httpUrl, `${lines.join('\r\n')}\r\n\r\n${body}`);
  const get = (target: string, ...headers: string[]) => send([`GET ${target} HTTP/1.1`, 'Host: api.test', `Authorization: Bearer ${key}`, ...headers, 'Connection: close']);

  function expectError(res: RawResponse, status: number, code: string): { code: string; message: string; field?: string } {
    expect(res.status, res.raw).toBe(status);
    expect(errorShapeProblem(res.status, res.headers['content-type'], res.body), res.raw).toBeUndefined();
    const { error } = JSON.parse(res.body);
    expect(error.code, res.raw).toBe(code);
    return error;
  }

  it('a malformed URL escape (%C0%AE, %zz) is 400 invalid_url', async () => {
    for (const path of ['/v1/numbers/%C0%AE', '/v1/calls/%zz', '/v1/conferences/a%E0%A4%A/participants', '/nowhere/%C0%AE']) {
      expectError(await get(path), 400, 'invalid_url');
    }
  });

  it('a character a URL may not hold is 400 invalid_url', async () => {
    expectError(await get('/v1/numbers/a\x01b'), 400, 'invalid_url');
  });

  it('a 10 KB path parameter is 414 url_too_long and is not echoed', async () => {
    const param = 'q'.repeat(10_240);
    const error = expectError(await get(`/v1/numbers/${param}`), 414, 'url_too_long');
    expect(echoedRun(JSON.stringify(error), param)).toBeUndefined();
  });

  it('a 128-character room name is routed (404 not_found), not refused as too long', async () => {
    expectError(await get(`/v1/conferences/${'r'.repeat(128)}`), 404, 'not_found');
  });

  it('a 10 KB path on no route is 404 route_not_found, echoing at most 200 characters of it', async () => {
    const path = `/nope/${'p'.repeat(10_240)}`;
    const res = await get(path);
    const error = expectError(res, 404, 'route_not_found');
    expect(error.message).toContain('/nope/ppp');
    expect(echoedRun(res.body, path)).toBeUndefined();
  });

  it('a 20 KB URL is 414 url_too_long, answered by the server itself', async () => {
    const res = await get(`/v1/numbers/${'u'.repeat(20_000)}`);
    expectError(res, 414, 'url_too_long');
    expect(res.headers['connection']).toBe('close');
  });

  it('a 64 KiB header is 431 header_too_large, then the connection closes', async () => {
    const res = await get('/v1/numbers', `X-Big: ${'h'.repeat(64 * 1024)}`);
    expectError(res, 431, 'header_too_large');
    expect(res.headers['connection']).toBe('close');
  });

  it('a method Node does not know (FOO) is 405 method_not_allowed with Allow on a path that exists, 404 elsewhere', async () => {
    const res = await send(['FOO /v1/numbers HTTP/1.1', 'Host: api.test', 'Connection: close']);
    expectError(res, 405, 'method_not_allowed');
    expect(res.headers['allow']).toBe('GET, HEAD, POST');
    expectError(await send(['FOO /nowhere HTTP/1.1', 'Host: api.test', 'Connection: close']), 404, 'route_not_found');
  });

  it('a method Node knows but no route has (PROPFIND, PUT, OPTIONS) is 405 with Allow, or 404 route_not_found on an unknown path', async () => {
    for (const method of ['PROPFIND', 'PUT', 'OPTIONS', 'LINK']) {
      const res = await send([`${method} /v1/numbers/num_1 HTTP/1.1`, 'Host: api.test', `Authorization: Bearer ${key}`, 'Content-Length: 0', 'Connection: close']);
      expectError(res, 405, 'method_not_allowed');
      expect(res.headers['allow'], method).toBe('GET, HEAD, PATCH, DELETE');
    }
    expectError(await send(['PROPFIND /v1/nothing HTTP/1.1', 'Host: api.test', `Authorization: Bearer ${key}`, 'Connection: close']), 404, 'route_not_found');
  });

  it('an absolute-form target (as proxies send it) is authenticated like the path alone', async () => {
    const res = await send(['GET http://api.test/v1/numbers HTTP/1.1', 'Host: api.test', `Authorization: Bearer ${key}`, 'Connection: close']);
    expect(res.status, res.raw).toBe(200);
    expect(Array.isArray(JSON.parse(res.body))).toBe(true);
    expectError(await send(['GET http://api.test/v1/numbers HTTP/1.1', 'Host: api.test', 'Connection: close']), 401, 'unauthorized');
  });

  it('CONNECT is 405 method_not_allowed (this is not a proxy)', async () => {
    expectError(await send(['CONNECT example.com:443 HTTP/1.1', 'Host: example.com:443']), 405, 'method_not_allowed');
  });

  it('an HTTP/1.1 request without Host is 400 malformed_request', async () => {
    expectError(await send(['GET /v1/numbers HTTP/1.1', `Authorization: Bearer ${key}`, 'Connection: close']), 400, 'malformed_request');
  });

  it('Expect other than 100-continue is 417 expectation_failed', async () => {
    expectError(await get('/v1/numbers', 'Expect: something-else'), 417, 'expectation_failed');
  });

  it('requests the HTTP parser cannot read are 400 malformed_request', async () => {
    const post = ['POST /v1/numbers HTTP/1.1', 'Host: api.test', `Authorization: Bearer ${key}`, 'Content-Type: application/json'];
    for (const request of [
      [...post, 'Content-Length: abc', 'Connection: close'],
      [...post, 'Content-Length: 2', 'Transfer-Encoding: chunked', 'Connection: close'],
      [...post, 'Content-Length: 2', 'Content-Length: 3', 'Connection: close'],
      ['GET /v1/numbers HTTP/1.1', 'Host: api.test', 'Bad Header: x', 'Connection: close'],
      ['GET /v1/numbers HTTP/9.9', 'Host: api.test', 'Connection: close'],
      ['\x00\x01 garbage'],
    ]) {
      expectError(await send(request, '{}'), 400, 'malformed_request');
    }
    // A chunked body with a bad chunk size.
    expectError(await send([...post, 'Transfer-Encoding: chunked', 'Connection: close'], 'zz\r\n{}\r\n0\r\n\r\n'), 400, 'malformed_request');
  });

  it('body errors: not JSON, empty JSON, another media type, too large, shorter than its Content-Length', async () => {
    const post = (headers: string[], body: string) => send(['POST /v1/numbers HTTP/1.1', 'Host: api.test', `Authorization: Bearer ${key}`, ...headers, 'Connection: close'], body);
    expectError(await post(['Content-Type: application/json', 'Content-Length: 5'], '{"a":'), 400, 'invalid_json');
    expectError(await post(['Content-Type: application/json', 'Content-Length: 0'], ''), 400, 'invalid_json');
    expectError(await post(['Content-Type: application/x-www-form-urlencoded', 'Content-Length: 3'], 'a=b'), 415, 'unsupported_media_type');
    expectError(await post(['Content-Type: ;;;', 'Content-Length: 2'], '{}'), 415, 'unsupported_media_type');
    expectError(await post([`Content-Type: application/${'x'.repeat(5000)}`, 'Content-Length: 2'], '{}'), 415, 'unsupported_media_type');
    expectError(await post(['Content-Type: application/json', `Content-Length: ${2 * 1024 * 1024}`], '{}'), 413, 'payload_too_large');
    // The client stops sending before the promised length: the parser reports it when the client half-closes.
    const res = await rawRequest(api.platform.httpUrl,
      `POST /v1/numbers HTTP/1.1\r\nHost: api.test\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{}`, { halfClose: true });
    expectError(res, 400, 'malformed_request');
  });

  it('parser errors that are hard to cause on demand: a timeout is 408, chunk extensions over the limit 413, a reset gets no answer', () => {
    const answer = (code: string) => parserErrorAnswer(api.app, Object.assign(new Error(code), { code }))?.error.code;
    expect(answer('ERR_HTTP_REQUEST_TIMEOUT')).toBe('request_timeout');
    expect(answer('HPE_CHUNK_EXTENSIONS_OVERFLOW')).toBe('payload_too_large');
    expect(answer('HPE_HEADER_OVERFLOW')).toBe('header_too_large');
    expect(answer('HPE_SOMETHING_NEW')).toBe('malformed_request');
    expect(answer('ECONNRESET')).toBeUndefined();
  });

  it('the same answers through fastify.inject', async () => {
    const unknownMethod = await api.app.inject({ method: 'PUT', url: '/v1/wallet', headers: { authorization: `Bearer ${key}` } });
    expect(unknownMethod.statusCode).toBe(405);
    expect(unknownMethod.headers['allow']).toBe('GET, HEAD');
    expect(unknownMethod.json().error.code).toBe('method_not_allowed');
    const badEscape = await api.app.inject({ method: 'GET', url: '/v1/numbers/%C0%AE', headers: { authorization: `Bearer ${key}` } });
    expect([badEscape.statusCode, badEscape.json().error.code]).toEqual([400, 'invalid_url']);
    const doubleEscape = await api.app.inject({ method: 'GET', url: '/v1/numbers/%25zz', headers: { authorization: `Bearer ${key}` } });
    expect([doubleEscape.statusCode, doubleEscape.json().error.code]).toEqual([404, 'not_found']);
    const phone = await api.app.inject({ method: 'GET', url: '/v1/sandbox/phones/%25C0', headers: { authorization: `Bearer ${key}` } });
    expect([phone.statusCode, phone.json().error.code]).toEqual([400, 'validation_failed']);
  });

  it('a body nested deeper than 64 levels is 400 validation_failed, also where it is hashed for idempotency', async () => {
    const workspaces = (await api.call('GET', '/v1/admin/workspaces', { key: api.credentials.admin_key })).json();
    for (const depth of [65, 10_000, 200_000]) {
      const junk = '['.repeat(depth) + ']'.repeat(depth);
      const credit = await api.call('POST', `/v1/admin/workspaces/${workspaces[0].id}/credits`, {
        key: api.credentials.admin_key, headers: { 'idempotency-key': `deep-${depth}` }, body: `{"amount":"1.00","junk":${junk}}`,
      });
      expect([credit.statusCode, credit.json().error], credit.body).toEqual([400, { code: 'validation_failed', message: expect.stringContaining('64 levels'), field: 'body' }]);
      const call = await api.call('POST', '/v1/calls', { body: `{"to":"+254711222333","clientRequestId":"deep-${depth}","junk":${junk}}` });
      expect(call.json().error.code).toBe('validation_failed');
    }
    const nested = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
    // 64 levels pass the depth check and reach the schema (which names the unknown field); 65 do not.
    expect((await api.call('PATCH', '/v1/settings', { body: nested(64) })).json().error).toEqual({ code: 'validation_failed', message: expect.stringContaining('not a field'), field: 'a' });
    expect((await api.call('PATCH', '/v1/settings', { body: nested(65) })).json().error).toMatchObject({ message: expect.stringContaining('64 levels') });
  });

  it('error messages quote at most 200 characters of what was sent', async () => {
    const long = 'z'.repeat(5000);
    const cases = [
      await api.call('GET', `/v1/calls?metadata.${long}=1&metadata.${long}=2`),
      await api.call('GET', `/v1/conferences/${long.slice(0, 250)}/participants`),
      await api.call('POST', '/v1/webhooks', { body: { url: `https://${long}.example.com/x`, events: [long] } }),
      await api.call('PATCH', '/v1/settings', { body: { allowed_destinations: [long] } }),
      await api.call('POST', '/v1/calls', { body: { to: '+254711222333', from: '+254700000001', metadata: { [long]: 'x' } } }),
      await api.call('GET', `/v1/recordings/${'r'.repeat(250)}`),
      await api.call('PATCH', '/v1/admin/trunks/trk_x', { key: api.credentials.admin_key, body: { prefixes: [long] } }),
    ];
    for (const res of cases) {
      expect(res.statusCode, res.body).toBeGreaterThanOrEqual(400);
      expect(errorShapeProblem(res.statusCode, res.headers['content-type'] as string, res.body), res.body).toBeUndefined();
      expect(echoedRun(res.body, long, 199), res.body).toBeUndefined();
    }
  });
});
