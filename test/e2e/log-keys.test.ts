import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/shared/log.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';

/** The keys of a JSON object text's top level, in order, duplicates kept (JSON.parse would keep only the last). */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(text.slice(i, end + 1)) as string);
      expectKey = false;
      i = end;
    } else if (c === '{' || c === '[') {
      depth += 1;
      expectKey = c === '{' && depth === 1;
    } else if (c === '}' || c === ']') {
      depth -= 1;
    } else if (c === ',' && depth === 1) {
      expectKey = true;
    }
  }
  return keys;
}

/**
 * The log of a real call (debug level, the platform's pino logger): every line
 * names each key once (child loggers must not bind `component`, `stream` or
 * `callId` again), and a `waitUrl` that answers 404 is logged as such.
 */
describe('log lines of a call', () => {
  let api: TestApi;
  let app: HttpReceiver;
  const lines: string[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(line);
        done();
      },
    });
    api = await startTestApi('sqlite', { logger: createLogger('debug', sink) });
    app = await HttpReceiver.start();
    app.respond = (req) => {
      if (req.url === '/voice') {
        return { status: 200, body: JSON.stringify({ actions: [
          { say: { text: 'Welcome.' } },
          { getDigits: { numDigits: 1, timeout: 1, nested: [{ say: { text: 'Press a key.' } }] } },
          { conference: { name: 'log-room', startOnEnter: false, waitUrl: `${app.url}/hold-music` } },
        ] }) };
      }
      if (req.url === '/hold-music') return { status: 404, contentType: 'text/plain', body: 'no such page' };
      return { status: 204 };
    };
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await api?.close();
  });

  it('no line repeats a key, across the engine, media, sandbox, conference and webhooks', async () => {
    const number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470' } })).json();
    await api.call('PATCH', `/v1/numbers/${number.id}`, { body: { routing_url: `${app.url}/voice`, status_url: `${app.url}/status` } });
    const placed = (await api.call('POST', '/v1/sandbox/calls', { body: { to: number.number, script: [{ wait: 4 }, { hangup: true }], max_duration: 20 } })).json();
    const callId: string = placed.call_id;
    // The waitUrl's 404 is logged with what happened (not "answered no say, play or pause").
    const waitLine = await until(async () => lines.find((l) => l.includes('/hold-music') && l.includes(callId) && /404/.test(l)), 30_000);
    expect(waitLine).not.toMatch(/no say, play or pause/);
    await until(async () => (await api.call('GET', `/v1/calls/${callId}`)).json().status === 'completed', 30_000);
    await app.waitFor((reqs) => reqs.some((r) => r.url === '/status' && r.json?.type === 'call.hangup'), 15_000);

    const ofTheCall = lines.filter((l) => l.includes(callId));
    expect(ofTheCall.length).toBeGreaterThan(5);
    const components = new Set(lines.map((l) => (JSON.parse(l) as { component?: string }).component));
    expect([...components]).toEqual(expect.arrayContaining(['engine', 'conference', 'webhooks']));
    const repeated = lines.map((line) => {
      const keys = topLevelKeys(line);
      return { line, dups: keys.filter((k, i) => keys.indexOf(k) !== i) };
    }).filter((l) => l.dups.length > 0);
    expect(repeated.slice(0, 5), 'lines with a key twice').toEqual([]);
  }, 60_000);
});
