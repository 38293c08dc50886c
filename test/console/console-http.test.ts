import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../helpers/test-api.js';

/** The console's HTTP contract without a browser: cookies, redirects, CSRF on sign-out, headers. */
describe('console over HTTP', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi('sqlite');
  }, 60_000);
  afterAll(() => api?.close());

  const signIn = (key: string, headers: Record<string, string> = {}) => api.app.inject({
    method: 'POST', url: '/console/sign-in', payload: `key=${encodeURIComponent(key)}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });

  it('the session cookie is HttpOnly and SameSite=Strict, Secure when the page came over https, and never the key', async () => {
    const plain = await signIn(api.credentials.api_key);
    expect(plain.statusCode).toBe(303);
    expect(plain.headers.location).toBe('/console');
    const cookie = String(plain.headers['set-cookie']);
    expect(cookie).toMatch(/^sautikit_console=[\w-]{43}; Path=\/console; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    expect(cookie).not.toContain(api.credentials.api_key);
    const secure = await signIn(api.credentials.api_key, { 'x-forwarded-proto': 'https' });
    expect(String(secure.headers['set-cookie'])).toMatch(/; Secure$/);
  });

  it('pages need a session; the admin key goes to the admin pages; a cross-site sign-in is refused', async () => {
    expect((await api.app.inject({ method: 'GET', url: '/' })).headers.location).toBe('/console');
    const anonymous = await api.app.inject({ method: 'GET', url: '/console/calls' });
    expect(anonymous.statusCode).toBe(303);
    expect(anonymous.headers.location).toBe('/console/sign-in');
    expect((await signIn(api.credentials.admin_key)).headers.location).toBe('/console/admin/workspaces');
    expect((await signIn('nope')).statusCode).toBe(401);
    expect((await signIn(api.credentials.api_key, { origin: 'https://evil.example', host: 'console.test' })).statusCode).toBe(403);
  });

  it('pages forbid other hosts by policy; sign-out without the CSRF token is refused and keeps the session', async () => {
    const cookie = String((await signIn(api.credentials.api_key)).headers['set-cookie']).split(';')[0]!;
    const overview = await api.app.inject({ method: 'GET', url: '/console', headers: { cookie } });
    expect(overview.statusCode).toBe(200);
    expect(overview.headers['content-security-policy']).toContain("default-src 'self'");
    expect(overview.body).not.toMatch(/(src|href)="(https?:)?\/\//);
    const refused = await api.app.inject({ method: 'POST', url: '/console/sign-out', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: '' });
    expect(refused.statusCode).toBe(403);
    expect((await api.app.inject({ method: 'GET', url: '/console', headers: { cookie } })).statusCode).toBe(200);
    const token = /name="_csrf" value="([^"]+)"/.exec(overview.body)![1]!;
    const out = await api.app.inject({ method: 'POST', url: '/console/sign-out', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${token}` });
    expect(out.statusCode).toBe(303);
    expect((await api.app.inject({ method: 'GET', url: '/console', headers: { cookie } })).headers.location).toBe('/console/sign-in');
  });

  it('serves htmx 2 from the npm package', async () => {
    const js = await api.app.inject({ method: 'GET', url: '/console/assets/htmx.min.js' });
    expect(js.statusCode).toBe(200);
    expect(js.body).toMatch(/version:"2\./);
  });
});

describe('console live streams', () => {
  it('a live view streams server-sent events, and an open stream does not hold the server\'s shutdown', async () => {
    const api = await startTestApi('sqlite');
    try {
      const signedIn = await api.app.inject({
        method: 'POST', url: '/console/sign-in', payload: `key=${encodeURIComponent(api.credentials.api_key)}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      const cookie = String(signedIn.headers['set-cookie']).split(';')[0]!;
      const stream = await fetch(`${api.platform.httpUrl}/console/live/calls`, { headers: { cookie } });
      expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const reader = stream.body!.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      expect(first).toMatch(/^data: .*No calls match/s);
      // Without the console ending its streams, an open one holds the HTTP server's close for about 5 s (until the connection is dropped).
      const started = performance.now();
      const closing = api.platform.close().then(() => performance.now() - started);
      // The server ends the stream itself (a clean end of the response), rather than the connection being cut at the end of the grace period.
      const rest = async (): Promise<string> => {
        let text = '';
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return text;
          text += new TextDecoder().decode(value);
        }
      };
      await expect(rest()).resolves.toBeTypeOf('string');
      expect(await closing).toBeLessThan(3000);
    } finally {
      await api.close();
    }
  }, 60_000);
});
