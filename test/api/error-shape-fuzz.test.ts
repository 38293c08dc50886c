import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../src/api/openapi.js';
import { echoedRun, errorShapeProblem, rawRequest } from '../helpers/raw-http.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';

/**
 * Hostile requests to every operation of the OpenAPI document (SPEC §3,
 * issue 14): hostile path parameters, query strings, headers and bodies, with
 * and without a key of either kind, through fastify.inject and over a raw
 * socket. Whatever is sent, the answer is never 5xx, every 4xx is the JSON of
 * SPEC §3 with a catalogue code sent with the catalogue's status, and no
 * error repeats more than 200 characters of any one input.
 *
 * Bounded: a fixed seed (fast-check prints it with the counterexample; set
 * FUZZ_SEED to replay another) and a fixed number of runs per operation.
 */
const seed = Number(process.env['FUZZ_SEED'] ?? 14_2026);
const injectRuns = 48;
const socketRuns = 8;

interface Operation {
  method: string;
  path: string;
  query: string[];
  bodyFields: string[];
  /** The kind of key the operation takes. */
  key: 'workspace' | 'admin' | 'none';
}

function operationsOf(doc: Record<string, unknown>): Operation[] {
  const out: Operation[] = [];
  for (const [path, methods] of Object.entries(doc['paths'] as Record<string, Record<string, Record<string, unknown>>>)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = (op['parameters'] ?? []) as Array<{ name: string; in: string }>;
      const schema = (op['requestBody'] as { content: Record<string, { schema: Record<string, unknown> }> } | undefined)?.content['application/json']?.schema;
      const objectSchema = (schema?.['type'] === 'array' ? schema['items'] : schema) as { properties?: Record<string, unknown> } | undefined;
      const security = JSON.stringify(op['security'] ?? []);
      out.push({
        method: method.toUpperCase(), path, query: params.filter((p) => p.in === 'query').map((p) => p.name),
        bodyFields: Object.keys(objectSchema?.properties ?? {}),
        key: security.includes('adminKey') ? 'admin' : security.includes('workspaceKey') ? 'workspace' : 'none',
      });
    }
  }
  return out;
}

const operations = operationsOf(buildOpenApiDocument('http://127.0.0.1:8080'));

/** A value as it goes on the wire and as it was meant (for the echo check). */
interface Piece {
  wire: string;
  meant: string;
}

const encoded = (s: string): Piece => ({ wire: encodeURIComponent(s), meant: s });
const raw = (s: string): Piece => ({ wire: s, meant: s });

const huge = fc.tuple(fc.constantFrom('a', 'é', '😀', '\u0000', '/', '.', '%', '+', 'Z9'), fc.integer({ min: 201, max: 12_000 }))
  .map(([c, n]) => c.repeat(Math.ceil(n / c.length)));
const escapes = fc.constantFrom('%C0%AE', '%zz', '%', '%E0%A4%A', '%FF%FE', '%00', '..', '../..', '%2e%2e%2f', '%2F', '%u002e', '%%32%65', '%25', '%C0');
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('', ' ', 'null', 'true', '-1', '0', '1e309', '+254711222333', 'sip:agent@pbx.invalid', 'completed', '__proto__', 'constructor'),
);
/** Plausible values, so that requests get past the first checks (no real hosts: nothing leaves the machine). */
const plausible = fc.constantFrom<unknown>(
  '+254711222333', '+254', 'sip:agent@pbx.invalid', 'http://127.0.0.1:9/x', 'completed', 'active', 'mobile', '3.50', 'udp', 'agent1',
  'correct-horse-battery', 5, 0, -1, 1.5, 1e308, true, false, null, [], {}, ['*'], ['+254'], [{ wait: 1 }], { after: 1 },
);

/** Over a raw socket, text may also go into the path as it is: spaces, control characters and UTF-8 the parser must refuse. */
const pathParam = (onSocket: boolean): fc.Arbitrary<Piece> => fc.oneof(
  ...(onSocket ? [{ weight: 2, arbitrary: text.map(raw) }] : []),
  { weight: 4, arbitrary: fc.constantFrom('call_0mhx2k9a70000q3v8r1ty', '%2B254700000001', 'support-queue-001', 'ws_0mhx1z8kq0000d2f7g3hb', '%2B254720000002').map((s) => ({ wire: s, meant: decodeURIComponent(s) })) },
  { weight: 4, arbitrary: text.map(encoded) },
  { weight: 2, arbitrary: escapes.map(raw) },
  // Longer than 200 characters, and within the router's 256 per segment: the routes see them.
  { weight: 2, arbitrary: fc.integer({ min: 201, max: 256 }).map((n) => raw('y'.repeat(n))) },
  { weight: 1, arbitrary: huge.map(encoded) },
  { weight: 1, arbitrary: fc.integer({ min: 201, max: 4000 }).map((n) => raw('x'.repeat(n))) },
);

const queryPairs = (names: string[]): fc.Arbitrary<Array<[Piece, Piece]>> => fc.array(fc.tuple(
  fc.oneof(fc.constantFrom(...names, 'limit', 'cursor', 'metadata.campaign', 'status').map(raw), text.map(encoded), escapes.map(raw), huge.map(encoded)),
  fc.oneof(fc.constantFrom('1', '50', '0', '99999', 'completed', '%2B254', 'active', '').map(raw), text.map(encoded), escapes.map(raw), huge.map(encoded)),
), { maxLength: 5 });

/** Header values: printable ASCII through inject (it refuses anything else); over a raw socket also control characters, UTF-8 and over 16 KiB. */
const printable = (s: string) => s.replace(/[^\x20-\x7e]/g, '?');
const headerValue = (onSocket: boolean): fc.Arbitrary<string> => fc.oneof(
  text.map(printable), fc.integer({ min: 201, max: 8000 }).map((n) => 'h'.repeat(n)),
  ...(onSocket ? [
    text.map((s) => s.replace(/[\r\n]/g, '')), fc.constantFrom('\u0000', 'a\u0001b', 'x\u007fy', 'é', '\r'),
    fc.integer({ min: 16_000, max: 20_000 }).map((n) => 'H'.repeat(n)),
  ] : []),
);
const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8') },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.constantFrom(
    'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', ';;;', 'application/json; charset=latin1',
    `application/${'j'.repeat(3000)}`, 'application/*',
  ) },
);
/** Mostly the key the operation takes, so that requests reach the routes; sometimes the other kind, none, or a bad one. */
const auth = fc.oneof(
  { weight: 6, arbitrary: fc.constant('right' as const) },
  { weight: 1, arbitrary: fc.constantFrom('workspace', 'admin', 'none', 'unknown', 'malformed', 'huge') },
);
const extraHeader = (onSocket: boolean) => fc.option(
  fc.tuple(fc.constantFrom('x-fuzz', 'idempotency-key', 'accept', 'accept-version', 'x-forwarded-for', 'content-encoding'), headerValue(onSocket)), { nil: undefined });

const deep = (open: string, close: string, inner = '') => fc.integer({ min: 1, max: 20_000 }).map((n) => open.repeat(n) + inner + close.repeat(n));
const body = (fields: string[]): fc.Arbitrary<string | undefined> => fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.dictionary(
    fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...(fields.length ? fields : ['x'])) }, { weight: 1, arbitrary: text }, { weight: 1, arbitrary: huge }),
    fc.oneof(plausible, fc.jsonValue({ maxDepth: 2 }), text, huge, fc.array(huge, { maxLength: 2 }), fc.dictionary(text, text, { maxKeys: 20 })),
    { maxKeys: 6 },
  ).map((o) => JSON.stringify(o)) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  // Plausible fields with a deeply nested one beside them: the route's own checks pass and it walks the body.
  { weight: 1, arbitrary: fc.tuple(fc.dictionary(fc.constantFrom(...(fields.length ? fields : ['x'])), plausible, { maxKeys: 4 }), fc.integer({ min: 1, max: 20_000 }))
    .map(([o, n]) => JSON.stringify(o).replace(/\}$/, `${Object.keys(o).length ? ',' : ''}"deep":${'['.repeat(n)}${']'.repeat(n)}}`)) },
  { weight: 1, arbitrary: fc.oneof(deep('[', ']'), deep('{"a":', '}', '1'), deep('{"actions":[', ']}')) },
  { weight: 1, arbitrary: fc.oneof(text, huge, fc.constantFrom('{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}', '{', '[1,]', '\u0000', 'x'.repeat(1_100_000))) },
);

interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
  inputs: string[];
}

function request(op: Operation, keys: { workspace: string; admin: string }, onSocket = false): fc.Arbitrary<FuzzRequest> {
  const names = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  return fc.record({
    params: fc.tuple(...names.map(() => pathParam(onSocket))), query: queryPairs(op.query), auth, contentType, extraHeader: extraHeader(onSocket), body: body(op.bodyFields),
  }).map(({ params, query, auth: who, contentType: type, extraHeader: extra, body: payload }) => {
    let i = 0;
    const path = op.path.replace(/\{\w+\}/g, () => params[i++]!.wire);
    const qs = query.map(([k, v]) => `${k.wire}=${v.wire}`).join('&');
    const headers: Record<string, string> = {};
    const kind = who === 'right' ? (op.key === 'none' ? 'workspace' : op.key) : who;
    const authorization = { workspace: `Bearer ${keys.workspace}`, admin: `Bearer ${keys.admin}`, none: undefined, unknown: 'Bearer sk_live_0000000000', malformed: 'Basic Zm9vOmJhcg==', huge: `Bearer ${'k'.repeat(8000)}` }[kind];
    if (authorization) headers['authorization'] = authorization;
    if (type) headers['content-type'] = type;
    if (extra) headers[extra[0]] = extra[1];
    const inputs = [
      ...params.flatMap((p) => [p.wire, p.meant]), ...query.flatMap(([k, v]) => [k.wire, k.meant, v.wire, v.meant]), ...Object.values(headers),
      payload ?? '', ...stringsIn(payload),
    ].filter((input) => input.length > 200);
    return { method: op.method, url: qs ? `${path}?${qs}` : path, headers, body: payload, inputs };
  });
}

/** The strings and keys of a JSON body, as a route sees them (collected without recursion: bodies nest deep). */
function stringsIn(payload: string | undefined): string[] {
  let value: unknown;
  try {
    value = payload === undefined ? undefined : JSON.parse(payload);
  } catch {
    return [];
  }
  const out: string[] = [];
  const stack = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === 'string') out.push(item);
    else if (item && typeof item === 'object') {
      if (!Array.isArray(item)) out.push(...Object.keys(item));
      stack.push(...Object.values(item));
    }
  }
  return out;
}

function toWire(req: FuzzRequest): Buffer {
  const bodyBytes = req.body === undefined ? undefined : Buffer.from(req.body, 'utf8');
  const lines = [`${req.method} ${req.url} HTTP/1.1`, 'Host: api.test', ...Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`)];
  if (bodyBytes) lines.push(`Content-Length: ${bodyBytes.length}`);
  lines.push('Connection: close');
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), bodyBytes ?? Buffer.alloc(0)]);
}

/** What is wrong with an answer, or undefined. */
function problemWith(req: FuzzRequest, status: number, contentType: string | undefined, text: string): string | undefined {
  if (!(status >= 200 && status < 500)) return `status ${status}: ${text.slice(0, 300)}`;
  if (status < 400) return undefined;
  const shape = errorShapeProblem(status, contentType, text);
  if (shape) return `${status} is not SPEC §3 (${shape}): ${text.slice(0, 300)}`;
  const { error } = JSON.parse(text) as { error: { message: string; field?: string } };
  for (const input of req.inputs) {
    // Compared with the message and field as sent, not with their JSON escapes (a NUL is 6 characters in JSON).
    for (const said of [error.message, error.field ?? '']) {
      const run = echoedRun(said, input);
      if (run) return `${status} repeats ${run.length} characters of the input: ${text.slice(0, 300)}`;
    }
  }
  return undefined;
}

describe('every operation answers hostile requests in SPEC §3 shape', () => {
  let api: TestApi;
  let keys: { workspace: string; admin: string };
  let sent = 0;
  const answers = new Map<string, number>();
  const tally = (status: number, text: string) => {
    let code = '';
    try {
      code = status >= 400 ? (JSON.parse(text) as { error: { code: string } }).error.code : '';
    } catch { /* counted without a code */ }
    const key = `${status}${code ? ` ${code}` : ''}`;
    answers.set(key, (answers.get(key) ?? 0) + 1);
  };
  const started = Date.now();
  beforeAll(async () => {
    api = await startTestApi('sqlite', { rateLimit: { perSecond: 1e6, burst: 1e6 } });
    keys = { workspace: api.credentials.api_key, admin: api.credentials.admin_key };
  });
  afterAll(async () => {
    console.log(`error-shape fuzz: ${sent} requests over ${operations.length} operations in ${((Date.now() - started) / 1000).toFixed(1)} s (seed ${seed}); answers: `
      + [...answers].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ×${n}`).join(', '));
    await api.close();
  });

  it('fuzzes the operations of the served document', async () => {
    const served = await api.call('GET', '/v1/openapi.json', { key: null });
    expect(operationsOf(served.json())).toEqual(operations);
    expect(operations.length).toBeGreaterThan(40);
  });

  for (const op of operations) {
    it(`${op.method} ${op.path}`, async () => {
      await fc.assert(fc.asyncProperty(request(op, keys), async (req) => {
        sent++;
        const res = await api.app.inject({ method: req.method as 'GET', url: req.url, headers: req.headers, ...(req.body !== undefined ? { payload: req.body } : {}) });
        tally(res.statusCode, res.body);
        const problem = problemWith(req, res.statusCode, res.headers['content-type'] as string | undefined, res.body);
        if (problem) throw new Error(`inject ${req.method} ${req.url.slice(0, 200)}: ${problem}`);
      }), { seed, numRuns: injectRuns, endOnFailure: true });
      await fc.assert(fc.asyncProperty(request(op, keys, true), async (req) => {
        sent++;
        const res = await rawRequest(api.platform.httpUrl, toWire(req));
        tally(res.status, res.body);
        const problem = problemWith(req, res.status, res.headers['content-type'], res.body);
        if (problem) throw new Error(`socket ${req.method} ${req.url.slice(0, 200)}: ${problem}`);
      }), { seed: seed + 1, numRuns: socketRuns, endOnFailure: true });
    }, 60_000);
  }
});
