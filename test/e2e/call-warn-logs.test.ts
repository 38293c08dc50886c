import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/shared/log.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';

type LogLine = { level: number; msg: string; callId?: string; [field: string]: unknown };
const warn = 40;

/** SPEC §14: every webhook failure and every call-ending error is a log line at warn with the call id. */
describe('warn log lines of failing calls', () => {
  let api: TestApi;
  let app: HttpReceiver;
  const lines: LogLine[] = [];

  beforeAll(async () => {
    // The platform's real logger (pino, JSON lines), writing to memory.
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as LogLine);
        done();
      },
    });
    api = await startTestApi('sqlite', { logger: createLogger('warn', sink), flags: { 'webhook-retry-schedule': '0,0,0,0,0,0,0,0' } });
    app = await HttpReceiver.start();
    app.respond = () => ({ status: 500, contentType: 'text/plain', body: 'the app is broken' });
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await api?.close();
  });

  it('a voice callback answering 500, the call ending with no actions, and its status callback given up: each a warn line with the call id', async () => {
    const number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470' } })).json();
    await api.call('PATCH', `/v1/numbers/${number.id}`, { body: { routing_url: `${app.url}/voice`, status_url: `${app.url}/status` } });
    const placed = (await api.call('POST', '/v1/sandbox/calls', { body: { to: number.number, script: [{ wait: 1 }], max_duration: 20 } })).json();
    const callId: string = placed.call_id;
    const warned = (msg: RegExp) => lines.find((l) => l.level === warn && l.callId === callId && msg.test(l.msg));
    const webhook = await until(async () => warned(/the webhook answered HTTP 500/));
    expect(webhook).toMatchObject({ code: 'webhook_http_error', url: `${app.url}/voice` });
    expect(await until(async () => warned(/call ended by an error/))).toMatchObject({ status: 'failed', cause: 'no_actions' });
    // The status callback (call.initiated, …) fails 8 times (the schedule's length) and is given up.
    expect(await until(async () => warned(/webhook delivery failed for good/), 20_000)).toMatchObject({ url: `${app.url}/status`, statusCode: 500 });
  }, 60_000);
});
