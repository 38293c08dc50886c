import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialectUsable, testDialects } from '../helpers/dialects.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';

describe.each(testDialects)('calls and recordings API on %s', (dialect) => {
  let api: TestApi;
  let usable = false;
  const ids: string[] = [];
  beforeAll(async () => {
    usable = await dialectUsable(dialect);
    if (!usable) return;
    api = await startTestApi(dialect);
    const ws = api.credentials.workspace_id;
    const base = Date.parse('2026-11-20T08:00:00.000Z');
    for (let i = 0; i < 12; i++) {
      const call = await api.store.calls.create({
        workspaceId: ws, direction: i % 3 === 0 ? 'inbound' : 'outbound', from: '+254700000001', to: `+2547110000${String(i).padStart(2, '0')}`,
        metadata: { campaign: i < 6 ? 'june' : 'july' }, clientRequestId: `lead-${i}`, now: new Date(base + i * 60_000),
      });
      await api.store.calls.update(call.id, {
        status: i === 11 ? 'in-progress' : 'completed', answered_at: new Date(base + i * 60_000 + 5000).toISOString(),
        duration_seconds: 30 + i, price_cents: 175 + i, rate_per_minute_cents: 350,
      });
      ids.push(call.id);
    }
  });
  afterAll(async () => {
    if (usable) await api.close();
  });

  it('GET /v1/calls?limit=5 answers a bare array, newest first, with the fields the jq line reads', async ({ skip }) => {
    if (!usable) skip();
    const res = await api.call('GET', '/v1/calls?limit=5');
    expect(res.statusCode).toBe(200);
    const calls = res.json();
    expect(Array.isArray(calls)).toBe(true);
    expect(calls.map((c: { id: string }) => c.id)).toEqual(ids.slice(-5).reverse());
    // jq '.[] | {id, direction, status, duration_seconds}'
    expect(calls[1]).toMatchObject({ id: ids[10], direction: 'outbound', status: 'completed', duration_seconds: 40, price: '1.85', currency: 'KES', rate_per_minute: '3.50' });
    expect(res.headers['link']).toMatch(new RegExp(`^<${api.platform.publicUrl}/v1/calls\\?limit=5&cursor=[A-Za-z0-9_-]+>; rel="next"$`));
  });

  it('following Link rel="next" walks every call exactly once', async ({ skip }) => {
    if (!usable) skip();
    const seen: string[] = [];
    let url: string | undefined = '/v1/calls?limit=5';
    while (url) {
      const res = await api.call('GET', url);
      seen.push(...res.json().map((c: { id: string }) => c.id));
      const link = res.headers['link'] as string | undefined;
      url = link ? new URL(/<([^>]+)>/.exec(link)![1]!).pathname + new URL(/<([^>]+)>/.exec(link)![1]!).search : undefined;
    }
    expect(seen).toEqual([...ids].reverse());
  });

  it('GET /v1/calls filters by status, direction, to, metadata and time', async ({ skip }) => {
    if (!usable) skip();
    const q = async (query: string) => (await api.call('GET', `/v1/calls?${query}`)).json().map((c: { id: string }) => c.id);
    expect(await q('status=in-progress')).toEqual([ids[11]]);
    expect(await q('direction=inbound')).toEqual([ids[9], ids[6], ids[3], ids[0]]);
    expect(await q('to=%2B254711000004')).toEqual([ids[4]]);
    expect(await q('to=+254711000004')).toEqual([ids[4]]);
    expect(await q('metadata.campaign=june&direction=inbound')).toEqual([ids[3], ids[0]]);
    expect(await q('since=2026-11-20T08:10:00Z')).toEqual([ids[11], ids[10]]);
    expect(await q('until=2026-11-20T08:01:00Z')).toEqual([ids[0]]);
    const bad = await api.call('GET', '/v1/calls?status=ringingg');
    expect(bad.json().error).toMatchObject({ code: 'validation_failed', field: 'status' });
    expect((await api.call('GET', '/v1/calls?limit=1001')).json().error).toMatchObject({ field: 'limit' });
    expect((await api.call('GET', '/v1/calls?cursor=@@@')).json().error).toMatchObject({ field: 'cursor' });
  });

  it('GET /v1/calls/{id} has the call object with events and errors; another workspace gets 404', async ({ skip }) => {
    if (!usable) skip();
    await api.store.calls.addEvent(ids[2]!, 'status', 'initiated', {}, new Date());
    await api.store.calls.addEvent(ids[2]!, 'error', 'webhook_timeout', { message: 'routing_url did not answer in 10 s' }, new Date());
    const res = await api.call('GET', `/v1/calls/${ids[2]}`);
    expect(res.json()).toMatchObject({
      id: ids[2], client_request_id: 'lead-2', metadata: { campaign: 'june' }, recording: null,
      events: [{ status: 'initiated', timestamp: expect.any(String) }],
      errors: [{ code: 'webhook_timeout', message: 'routing_url did not answer in 10 s', timestamp: expect.any(String) }],
    });
    const other = (await api.call('POST', '/v1/admin/workspaces', { key: api.credentials.admin_key, body: { name: 'other' } })).json();
    expect((await api.call('GET', `/v1/calls/${ids[2]}`, { key: other.api_key })).statusCode).toBe(404);
    expect((await api.call('GET', '/v1/calls', { key: other.api_key })).json()).toEqual([]);
  });

  it('GET /v1/calls/{id}/recording serves the WAV; a call without one is 404', async ({ skip }) => {
    if (!usable) skip();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rec-'));
    const file = path.join(dir, 'r.wav');
    const wav = Buffer.alloc(44 + 1600);
    wav.write('RIFF', 0); wav.writeUInt32LE(36 + 1600, 4); wav.write('WAVE', 8);
    writeFileSync(file, wav);
    const rec = await api.store.recordings.create({ workspaceId: api.credentials.workspace_id, callId: ids[5]!, conference: null, path: file, durationSeconds: 1, channels: 1, now: new Date() });
    const res = await api.call('GET', `/v1/calls/${ids[5]}/recording`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('audio/wav');
    expect(res.rawPayload.subarray(0, 4).toString()).toBe('RIFF');
    expect((await api.call('GET', `/v1/calls/${ids[5]}`)).json().recording).toEqual({ id: rec.id, url: `${api.platform.publicUrl}/v1/calls/${ids[5]}/recording`, duration_seconds: 1 });
    expect((await api.call('GET', `/v1/calls/${ids[6]}/recording`)).statusCode).toBe(404);
    expect((await api.call('GET', `/v1/recordings/${rec.id}/audio`)).statusCode).toBe(200);
    expect((await api.call('DELETE', `/v1/recordings/${rec.id}`)).statusCode).toBe(204);
    expect((await api.call('GET', `/v1/calls/${ids[5]}/recording`)).statusCode).toBe(404);
  });
});
