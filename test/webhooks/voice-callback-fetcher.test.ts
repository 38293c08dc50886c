import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { verifySautikitSignature } from '../../src/index.js';
import { SafeHttpClient } from '../../src/webhooks/safe-http-client.js';
import { VoiceCallbackFetcher, type VoiceCallbackBody } from '../../src/webhooks/voice-callback-fetcher.js';
import { freePort } from '../helpers/cli-process.js';
import { HttpReceiver } from '../helpers/http-receiver.js';

const body: VoiceCallbackBody = { CallId: 'call_1', From: '+254711000001', To: '+254700000001', Direction: 'inbound', CallStatus: 'in-progress', AccountId: 'ws_1', campaign: 'june' };
const policy = { allowedCallbackHosts: [], allowPrivateCallbacks: true };
const secrets = ['whsec_voice'];

describe('voiceCallbackFetcher', () => {
  let http: SafeHttpClient;
  let fetcher: VoiceCallbackFetcher;
  const open: Array<{ close(): Promise<void> }> = [];
  beforeAll(() => {
    http = new SafeHttpClient();
    fetcher = new VoiceCallbackFetcher(http, { timeoutMs: 500, maxResponseBytes: 4096 });
  });
  afterEach(async () => {
    for (const o of open.splice(0)) await o.close();
  });
  afterAll(() => http.close());

  async function receiver(respond: HttpReceiver['respond']): Promise<HttpReceiver> {
    const r = await HttpReceiver.start();
    r.respond = respond;
    open.push(r);
    return r;
  }

  it('POSTs the signed SPEC §5 body to the URL with its query string and reads {"actions":[…]}', async () => {
    const app = await receiver(() => ({ status: 200, body: '{"actions":[{"say":{"text":"Hello"}}]}' }));
    const result = await fetcher.fetchActions({ url: `${app.url}/calls/agent-join?queue=call_9`, body, secrets, policy });
    expect(result).toEqual({ ok: true, errors: [], answer: { format: 'json', value: { actions: [{ say: { text: 'Hello' } }] }, url: `${app.url}/calls/agent-join?queue=call_9` } });
    const req = app.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/calls/agent-join?queue=call_9');
    expect(req.json).toEqual(body);
    expect(req.headers['content-type']).toBe('application/json');
    expect(verifySautikitSignature(req.rawBody, req.headers['sautikit-signature'], 'whsec_voice').ok).toBe(true);
    expect(req.headers['sautikit-event-id']).toMatch(/^req_/);
  });

  it('with method GET sends the fields in the query string, no body, and signs the path and query the app reads', async () => {
    const app = await receiver(() => ({ status: 200, body: '[{"hangup":{}}]' }));
    const result = await fetcher.fetchActions({ url: `${app.url}/menu?step=2`, body: { ...body, Digits: '42' }, method: 'GET', secrets, policy });
    expect(result.ok).toBe(true);
    const req = app.requests[0]!;
    expect(req.method).toBe('GET');
    expect(req.rawBody).toBe('');
    expect(req.headers['content-type']).toBeUndefined();
    const query = new URL(req.url, app.url).searchParams;
    expect(Object.fromEntries(query)).toEqual({ step: '2', CallId: 'call_1', From: '+254711000001', To: '+254700000001', Direction: 'inbound', CallStatus: 'in-progress', AccountId: 'ws_1', campaign: 'june', Digits: '42' });
    expect(verifySautikitSignature(req.url, req.headers['sautikit-signature'], 'whsec_voice').ok).toBe(true);
    expect(verifySautikitSignature('/menu?step=2', req.headers['sautikit-signature'], 'whsec_voice').ok).toBe(false);
  });

  it('reads a bare array and <Response> XML', async () => {
    const arr = await receiver(() => ({ status: 200, body: '[{"hangup":{}}]' }));
    expect(await fetcher.fetchActions({ url: arr.url, body, secrets, policy })).toMatchObject({ ok: true, answer: { format: 'json', value: [{ hangup: {} }] } });
    const xml = await receiver(() => ({ status: 200, contentType: 'application/xml', body: '<Response><Say>Hi</Say></Response>' }));
    expect(await fetcher.fetchActions({ url: xml.url, body, secrets, policy })).toMatchObject({ ok: true, answer: { format: 'xml', text: '<Response><Say>Hi</Say></Response>' } });
    const textXml = await receiver(() => ({ status: 200, contentType: 'text/html', body: '  <Response><Hangup/></Response>' }));
    expect(await fetcher.fetchActions({ url: textXml.url, body, secrets, policy })).toMatchObject({ ok: true, answer: { format: 'xml' } });
  });

  it('records invalid JSON, HTTP errors, timeouts and oversized answers as errors', async () => {
    const bad = await receiver(() => ({ status: 200, body: '{"actions": [' }));
    expect(await fetcher.fetchActions({ url: bad.url, body, secrets, policy })).toEqual({ ok: false, errors: [expect.objectContaining({ code: 'webhook_invalid_response', url: bad.url })] });
    const down = await receiver(() => ({ status: 503 }));
    expect(await fetcher.fetchActions({ url: down.url, body, secrets, policy })).toEqual({ ok: false, errors: [{ code: 'webhook_http_error', message: 'the webhook answered HTTP 503', url: down.url }] });
    const slow = await receiver(() => ({ status: 200, body: '[]', delayMs: 1500 }));
    expect(await fetcher.fetchActions({ url: slow.url, body, secrets, policy })).toEqual({ ok: false, errors: [expect.objectContaining({ code: 'webhook_timeout' })] });
    const huge = await receiver(() => ({ status: 200, body: `[${'{"pause":{}},'.repeat(1000)}{"hangup":{}}]` }));
    expect(await fetcher.fetchActions({ url: huge.url, body, secrets, policy })).toEqual({ ok: false, errors: [expect.objectContaining({ code: 'webhook_response_too_large' })] });
    expect(slow.requests).toHaveLength(1);
  });

  it('tries the fallback_url after the routing_url fails, keeping the first error', async () => {
    const primary = await receiver(() => ({ status: 500 }));
    const fallback = await receiver(() => ({ status: 200, body: '[{"say":{"text":"Sorry, we are having trouble."}}]' }));
    const result = await fetcher.fetchActions({ url: primary.url, fallbackUrl: fallback.url, body, secrets, policy });
    expect(result).toMatchObject({ ok: true, answer: { url: fallback.url }, errors: [{ code: 'webhook_http_error', url: primary.url }] });
  });

  it('retries once when the connection fails, then gives up', async () => {
    let connections = 0;
    const flaky: Server = createServer((req, res) => {
      req.resume();
      res.end('[{"hangup":{}}]');
    });
    flaky.on('connection', (socket) => {
      connections += 1;
      if (connections === 1) socket.destroy();
    });
    await new Promise<void>((r) => flaky.listen(0, '127.0.0.1', r));
    open.push({ close: () => new Promise<void>((r) => { flaky.closeAllConnections(); flaky.close(() => r()); }) });
    const url = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}/`;
    expect(await fetcher.fetchActions({ url, body, secrets, policy })).toMatchObject({ ok: true, answer: { value: [{ hangup: {} }] } });
    expect(connections).toBe(2);

    const nobody = `http://127.0.0.1:${await freePort()}/`;
    expect(await fetcher.fetchActions({ url: nobody, body, secrets, policy })).toEqual({ ok: false, errors: [expect.objectContaining({ code: 'webhook_unreachable', url: nobody })] });
  });

  it('refuses a callback URL on 127.0.0.1 when private callbacks are off', async () => {
    const app = await receiver(() => ({ status: 200, body: '[]' }));
    const result = await fetcher.fetchActions({ url: app.url, body, secrets, policy: { allowedCallbackHosts: [], allowPrivateCallbacks: false } });
    expect(result).toEqual({ ok: false, errors: [expect.objectContaining({ code: 'webhook_not_allowed' })] });
    expect(app.requests).toHaveLength(0);
  });
});
