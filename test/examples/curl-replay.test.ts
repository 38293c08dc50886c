import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';
import { sandboxReport, wavInfo } from './helpers.js';
import { jqCallSummary, PAGE_BASE_URL, pageCurls } from './page-curls.js';

const run = promisify(execFile);

/** The pages use real curl in bash; `npm test` must need nothing extra, so without them (outside CI) this suite is skipped. */
const hasCurl = await run('bash', ['-c', 'command -v curl']).then(() => true, () => {
  if (process.env['CI']) throw new Error('bash and curl are needed in CI to replay the pages\' curl commands');
  return false;
});

/**
 * The pages' curl commands, run by the real curl against a local server.
 * The only additions: the base URL, and `-w` printing the HTTP status on a last line.
 */
describe.runIf(hasCurl)('the product pages\' curl commands, replayed', () => {
  let api: TestApi;
  let dir: string;
  let numberId: string;
  const curl = async (command: string, vars: Record<string, string> = {}) => {
    const script = `${command.replaceAll(PAGE_BASE_URL, api.platform.httpUrl)} -w '\\n%{http_code}'`;
    const { stdout } = await run('bash', ['-c', script], { cwd: dir, env: { ...process.env, SAUTIKIT_API_KEY: api.credentials.api_key, ...vars } });
    const cut = stdout.lastIndexOf('\n');
    const body = stdout.slice(0, cut);
    return { status: Number(stdout.slice(cut + 1)), body, json: body ? JSON.parse(body) : undefined };
  };

  beforeAll(async () => {
    api = await startTestApi('sqlite', { flags: { 'webhook-retry-schedule': '0,1,1,1,1,1,1,1' } });
    dir = mkdtempSync(path.join(os.tmpdir(), 'sautikit-curl-'));
    // The pages' caller IDs must be the workspace's: +254700000001 as the quick start claims it, +254711000001 owned from the first start.
    numberId = (await api.call('POST', '/v1/numbers', { body: { number: '+254700000001' } })).json().id;
    expect((await api.call('GET', '/v1/numbers')).json().map((n: { number: string }) => n.number)).toContain('+254711000001');
    // Page 002 places its call with no action_url: "it fetches the routing_url configured on +254711000001".
    expect((await api.call('PATCH', '/v1/numbers/%2B254711000001', { body: { routing_url: 'https://your-app.example.com/ai/answer' } })).statusCode).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await api?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('004: PATCH /v1/numbers/{number_id} sets the routing_url', async () => {
    const res = await curl(pageCurls.ivrRoutingUrl.replace('{number_id}', numberId));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: numberId, number: '+254700000001', routing_url: 'https://yourapp.example.com/ivr/welcome' });
  });

  it('000: the outbound campaign call answers 201 with the call object', async () => {
    const res = await curl(pageCurls.callCenterCampaign);
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ id: expect.stringMatching(/^call_/), direction: 'outbound', from: '+254700000001', to: '+254711222333', status: 'queued', currency: 'KES', parent_call_id: null });
    // Every field of the call object in SPEC §4.
    expect(Object.keys(res.json)).toEqual(expect.arrayContaining(['id', 'direction', 'from', 'to', 'status', 'parent_call_id', 'number_id', 'conference', 'created_at', 'ringing_at',
      'answered_at', 'ended_at', 'duration_seconds', 'ring_seconds', 'hangup_cause', 'hangup_by', 'price', 'currency', 'rate_per_minute', 'client_request_id', 'metadata', 'recording']));
  });

  it('001: /v1/calls/originate with voice_callback_url answers 201 with the call object', async () => {
    const res = await curl(pageCurls.conferenceCenterOriginate);
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ id: expect.stringMatching(/^call_/), direction: 'outbound', from: '+254700000001', to: '+254722111111', status: 'queued' });
  });

  it('002: to as an array and clientRequestId answer an array of one call; the same body again is the same call', async () => {
    const first = await curl(pageCurls.aiOutboundCall);
    expect(first.status).toBe(201);
    expect(first.json).toEqual([expect.objectContaining({ id: expect.stringMatching(/^call_/), direction: 'outbound', from: '+254711000001', to: '+254712345678', client_request_id: 'lead-42' })]);
    const again = await curl(pageCurls.aiOutboundCall);
    expect(again.status).toBe(201);
    expect(again.json.map((c: { id: string }) => c.id)).toEqual(first.json.map((c: { id: string }) => c.id));
  });

  it('003: dialling a participant with an action_url answers 201 with the call object', async () => {
    const res = await curl(pageCurls.conferenceDialParticipant);
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ id: expect.stringMatching(/^call_/), direction: 'outbound', from: '+254700000001', to: '+254733000001' });
  });

  it('001: GET /v1/calls?limit=5 through the jq filter gives {id, direction, status, duration_seconds}, newest first', async () => {
    const res = await curl(pageCurls.conferenceCenterList);
    expect(res.status).toBe(200);
    expect(Array.isArray(res.json)).toBe(true);
    const rows = jqCallSummary(res.json);
    expect(rows).toHaveLength(4); // the four calls placed above (the idempotent replay made none)
    for (const row of rows) {
      expect(Object.keys(row)).toEqual(['id', 'direction', 'status', 'duration_seconds']);
      expect(row).toMatchObject({ id: expect.stringMatching(/^call_/), direction: 'outbound', status: expect.any(String) });
    }
    const created = res.json.map((c: { created_at: string }) => Date.parse(c.created_at));
    expect(created).toEqual([...created].sort((a: number, b: number) => b - a));
  });

  it('001: curl -L …/calls/$CALL_ID/recording -o conference-recording.wav writes a playable 8 kHz WAV', async () => {
    // A recorded room: the caller is alone in support-queue-001 with record: true for 3 s.
    const app = await HttpReceiver.start();
    try {
      app.respond = () => ({ status: 200, body: JSON.stringify({ actions: [{ say: { text: 'You are now connected.' } }, { conference: { name: 'support-queue-001', record: true, startOnEnter: true } }] }) });
      const number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: `${app.url}/room` } })).json();
      const placed = (await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000401', to: number.number, script: [{ wait: 4 }, { hangup: true }], max_duration: 20 } })).json();
      await sandboxReport(api, placed.id);
      await until(async () => (await api.call('GET', `/v1/calls/${placed.call_id}`)).json().recording);

      const res = await curl(pageCurls.conferenceCenterRecording, { CALL_ID: placed.call_id });
      expect(res.status).toBe(200);
      const wav = readFileSync(path.join(dir, 'conference-recording.wav'));
      expect(wavInfo(wav)).toMatchObject({ riff: 'RIFF', wave: 'WAVE', channels: 1, sampleRate: 8000, bitsPerSample: 16 });
      expect(wav.readUInt32LE(4)).toBe(wav.length - 8);
      expect(wavInfo(wav).dataBytes).toBeGreaterThan(8000 * 2);
    } finally {
      await app.close();
    }
  }, 60_000);
});
