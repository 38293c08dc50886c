import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';

/** GET /v1/sandbox/calls/{id}/audio: what the sandbox phone heard, to its own workspace only. */
describe('sandbox call audio', () => {
  let api: TestApi;
  let app: HttpReceiver;

  beforeAll(async () => {
    api = await startTestApi('sqlite');
    app = await HttpReceiver.start();
    app.respond = () => ({ status: 200, body: JSON.stringify({ actions: [{ say: { text: 'You have reached the sandbox audio test.' } }, { hangup: {} }] }) });
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await api?.close();
  });

  it('answers the WAV the phone heard; another workspace gets 404', async () => {
    const number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: `${app.url}/voice` } })).json();
    const placed = (await api.call('POST', '/v1/sandbox/calls', { body: { to: number.number, max_duration: 20 } })).json();
    const report = await until(async () => {
      const r = (await api.call('GET', `/v1/sandbox/calls/${placed.id}`)).json();
      return r.ended_at ? r : undefined;
    }, 30_000);
    expect(report.audio_seconds_heard).toBeGreaterThan(1);

    const audio = await api.call('GET', `/v1/sandbox/calls/${placed.id}/audio`);
    expect(audio.statusCode).toBe(200);
    expect(audio.headers['content-type']).toBe('audio/wav');
    const wav = audio.rawPayload;
    expect(wav.subarray(0, 4).toString()).toBe('RIFF');
    const seconds = (wav.length - 44) / 16_000;
    expect(seconds).toBeGreaterThanOrEqual(report.audio_seconds_heard);
    const pcm = new Int16Array(wav.buffer.slice(wav.byteOffset + 44, wav.byteOffset + wav.length - (wav.length % 2)));
    expect(pcm.some((s) => Math.abs(s) > 1000)).toBe(true);

    const other = (await api.call('POST', '/v1/admin/workspaces', { key: api.credentials.admin_key, body: { name: 'other' } })).json();
    const refused = await api.call('GET', `/v1/sandbox/calls/${placed.id}/audio`, { key: other.api_key });
    expect(refused.statusCode).toBe(404);
    expect(refused.json().error.code).toBe('not_found');
  }, 60_000);
});
