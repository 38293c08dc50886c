import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkHop, FETCH_NOT_ALLOWED, FetchRefusedError, guardedGet, guardedLookup, isFetchRefused, lookupFor, MAX_REDIRECTS, PolicyDispatchers, policyKey,
  type FetchPolicy,
} from '../../src/shared/fetch-policy.js';
import { SafeHttpClient } from '../../src/webhooks/safe-http-client.js';
import { loopbackNameFromHosts } from '../helpers/hosts-file.js';
import { publicTestHostUnavailable, startPublicTestHost, type PublicTestHost } from '../helpers/public-test-host.js';
import { until } from '../helpers/until.js';

const strict: FetchPolicy = { allowedCallbackHosts: [], allowPrivateCallbacks: false };
const loopbackAllowed: FetchPolicy = { allowedCallbackHosts: [], allowPrivateCallbacks: true };

/** Why `fn` threw, as the refusal's message, or 'ok'. */
function refusal(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (error) {
    if (error instanceof FetchRefusedError) return error.message;
    throw error;
  }
}

describe('checkHop: the URL of each hop', () => {
  it('refuses loopback, private and link-local hosts by name or literal while private addresses are off', () => {
    for (const url of ['http://localhost/a.wav', 'http://localhost./a.wav', 'http://LOCALHOST:8080/', 'http://media.localhost/', 'http://127.0.0.1/',
      'http://[::1]/', 'http://[::ffff:127.0.0.1]/', 'http://10.1.2.3/', 'http://169.254.169.254/latest/meta-data', 'http://2130706433/', 'ws://localhost:9000/']) {
      expect(refusal(() => checkHop(url, strict, 'url')), url).toMatch(/private or loopback/);
    }
  });

  it('refuses other schemes, credentials and hosts outside allowed_callback_hosts', () => {
    expect(refusal(() => checkHop('file:///etc/passwd', strict))).toMatch(/http\(s\)/);
    expect(refusal(() => checkHop('https://user:pw@cdn.example.com/a.wav', strict))).toMatch(/credentials/);
    const listed = { allowedCallbackHosts: ['cdn.example.com', '*.media.example.com'], allowPrivateCallbacks: false };
    expect(refusal(() => checkHop('https://evil.example.net/a.wav', listed, 'waitUrl'))).toBe("waitUrl host 'evil.example.net' is not in allowed_callback_hosts");
    expect(refusal(() => checkHop('https://cdn.example.com/a.wav', listed))).toBe('ok');
    expect(refusal(() => checkHop('wss://bot.media.example.com/ws', listed))).toBe('ok');
  });

  it('allows public hosts, and private ones when allow_private_callbacks is on', () => {
    expect(checkHop('https://cdn.example.com/a.wav', strict).hostname).toBe('cdn.example.com');
    expect(checkHop('http://203.0.113.7:8080/a.wav', strict).port).toBe('8080');
    expect(checkHop('http://localhost:8080/a.wav', loopbackAllowed).hostname).toBe('localhost');
    expect(checkHop('ws://127.0.0.1:9000/', loopbackAllowed).protocol).toBe('ws:');
  });

  it('keys equal policies alike and different ones apart', () => {
    expect(policyKey({ allowedCallbackHosts: ['B.example.com', 'a.example.com'], allowPrivateCallbacks: false }))
      .toBe(policyKey({ allowedCallbackHosts: ['a.example.com', 'b.example.com'], allowPrivateCallbacks: false }));
    expect(policyKey(strict)).not.toBe(policyKey(loopbackAllowed));
  });
});

describe('guardedLookup: the address after DNS resolution', () => {
  const lookup = (host: string, all: boolean) => new Promise<unknown>((resolve, reject) => {
    guardedLookup(host, { all, family: 0 }, (error, address) => (error ? reject(error) : resolve(address)));
  });

  it('refuses a name resolving to loopback, with and without all', async () => {
    for (const all of [false, true]) {
      const error = await lookup('localhost', all).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FetchRefusedError);
      expect(isFetchRefused(error)).toBe(true);
      expect((error as Error).message).toMatch(/^localhost resolves to non-public address (127\.0\.0\.1|::1)/);
    }
  });

  const hostsName = loopbackNameFromHosts();
  it.skipIf(!hostsName)(`refuses a name that /etc/hosts maps to loopback and the URL check does not know (${hostsName ?? 'none here'})`, async () => {
    expect(refusal(() => checkHop(`http://${hostsName}/a.wav`, strict))).toBe('ok');
    await expect(lookup(hostsName!, false)).rejects.toBeInstanceOf(FetchRefusedError);
  });

  it('passes public addresses through, and is not used when private addresses are allowed', async () => {
    await expect(lookup('203.0.113.9', false)).resolves.toBe('203.0.113.9');
    await expect(lookup('198.51.100.20', true)).resolves.toEqual([{ address: '198.51.100.20', family: 4 }]);
    expect(lookupFor(loopbackAllowed)).toBeUndefined();
    expect(lookupFor(strict)).toBe(guardedLookup);
  });
});

describe('guardedGet: redirects, each hop checked', () => {
  let server: Server;
  let base: string;
  const hits = new Map<string, number>();
  const dispatchers = new PolicyDispatchers();

  beforeAll(async () => {
    // /hop/N redirects to /hop/N-1 …, /hop/0 answers; /to?u=… redirects to u.
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
      const hop = /^\/hop\/(\d+)$/.exec(url.pathname);
      if (hop && hop[1] !== '0') res.writeHead(302, { location: `/hop/${Number(hop[1]) - 1}` }).end('moved');
      else if (url.pathname === '/to') res.writeHead(307, { location: url.searchParams.get('u')! }).end();
      else res.writeHead(200, { 'content-type': 'text/plain' }).end(`at ${url.pathname}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await dispatchers.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it(`follows ${MAX_REDIRECTS} redirects when the policy allows each hop`, async () => {
    hits.clear();
    const res = await guardedGet(`${base}/hop/5`, { policy: loopbackAllowed, dispatchers });
    expect(res.statusCode).toBe(200);
    expect(res.url).toBe(`${base}/hop/0`);
    expect(await res.body.text()).toBe('at /hop/0');
    expect(hits.get('/hop/0')).toBe(1);
  });

  it('refuses the 6th redirect without fetching it', async () => {
    hits.clear();
    const error = await guardedGet(`${base}/hop/6`, { policy: loopbackAllowed, dispatchers, field: 'play.url' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FetchRefusedError);
    expect(error).toMatchObject({ code: FETCH_NOT_ALLOWED, url: `${base}/hop/0`, message: `play.url redirected more than 5 times (the last to ${base}/hop/0)` });
    expect(hits.get('/hop/1')).toBe(1);
    expect(hits.get('/hop/0')).toBeUndefined();
  });

  it('checks every redirect target against allowed_callback_hosts', async () => {
    hits.clear();
    const listed = { allowedCallbackHosts: ['127.0.0.1'], allowPrivateCallbacks: true };
    const target = `${base.replace('127.0.0.1', 'localhost')}/hop/0`;
    const error = await guardedGet(`${base}/to?u=${encodeURIComponent(target)}`, { policy: listed, dispatchers }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FetchRefusedError);
    expect((error as Error).message).toBe(`the redirect to ${target} host 'localhost' is not in allowed_callback_hosts`);
    expect(hits.get('/to')).toBe(1);
    expect(hits.get('/hop/0')).toBeUndefined();
  });

  it('refuses a first hop on loopback before connecting', async () => {
    hits.clear();
    await expect(guardedGet(`${base}/hop/0`, { policy: strict, dispatchers })).rejects.toBeInstanceOf(FetchRefusedError);
    expect(hits.size).toBe(0);
  });

  describe.skipIf(publicTestHostUnavailable() !== undefined)(`from a public host (${publicTestHostUnavailable() ?? '203.0.113.0/24 in a network namespace'})`, () => {
    let host: PublicTestHost;
    beforeAll(async () => {
      host = await startPublicTestHost({ '/moved.wav': { status: 302, headers: { location: `${base}/private.wav` } } });
    }, 20_000);
    afterAll(() => host?.close());

    it('refuses a redirect to a literal private address (Node does not look literals up: the hop check must)', async () => {
      hits.clear();
      const error = await guardedGet(`${host.url}/moved.wav`, { policy: strict, dispatchers }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FetchRefusedError);
      expect(error).toMatchObject({ url: `${base}/private.wav` });
      // The host reports its requests over its stdout pipe, which may trail the HTTP answer the client already read.
      await until(async () => host.requests.length > 0);
      expect(host.requests).toEqual(['GET /moved.wav']);
      expect(hits.get('/private.wav')).toBeUndefined();
    });

    it('follows the same redirect when allow_private_callbacks is on', async () => {
      hits.clear();
      const res = await guardedGet(`${host.url}/moved.wav`, { policy: loopbackAllowed, dispatchers });
      expect(await res.body.text()).toBe('at /private.wav');
      expect(hits.get('/private.wav')).toBe(1);
    });
  });
});

describe('safeHttpClient (webhooks, voice callbacks) uses the same checks', () => {
  const hostsName = loopbackNameFromHosts();
  it.skipIf(!hostsName)(`refuses a POST to a name resolving to loopback after DNS (${hostsName ?? 'none in /etc/hosts'})`, async () => {
    let posts = 0;
    const server = createServer((_req, res) => {
      posts++;
      res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = new SafeHttpClient();
    try {
      const url = `http://${hostsName}:${(server.address() as AddressInfo).port}/hook`;
      await expect(client.post(url, { headers: {}, body: '{}', policy: strict })).rejects.toMatchObject({ kind: 'not_allowed', message: expect.stringMatching(/resolves to non-public address 127\./) });
      expect(posts).toBe(0);
      await expect(client.post(url, { headers: {}, body: '{}', policy: loopbackAllowed })).resolves.toMatchObject({ status: 200 });
      expect(posts).toBe(1);
    } finally {
      await client.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('docs/calls.md documents the refusal code the code records', () => {
  it(`has an entry for ${FETCH_NOT_ALLOWED} that states the redirect limit`, () => {
    const doc = readFileSync(new URL('../../docs/calls.md', import.meta.url), 'utf8');
    const entry = doc.slice(doc.indexOf(`### \`${FETCH_NOT_ALLOWED}\``));
    expect(entry.length).toBeLessThan(doc.length);
    expect(entry).toContain(`at most ${MAX_REDIRECTS} redirects`);
  });
});
