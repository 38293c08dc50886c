import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeSubject } from '../../src/cluster/node-bus.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { FirstStartCredentials } from '../../src/first-start.js';
import { startPlatform, type Platform } from '../../src/main.js';
import { silentLogger } from '../../src/shared/log.js';
import { Store } from '../../src/store/store.js';
import { postgresAvailable, testPostgresUrl } from '../helpers/dialects.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { natsAvailable, testNatsUrl } from '../helpers/nats.js';
import { until } from '../helpers/until.js';

const reachable = (await natsAvailable()) && (await postgresAvailable());
// Node ids and a schema of this run's own: suites running at once on the same NATS and PostgreSQL never meet.
const tag = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const idA = `node-a-${tag}`;
const idB = `node-b-${tag}`;
const schema = `t_nodes_${tag.replace(/-/g, '_')}`;

interface Node {
  platform: Platform;
  store: Store;
  dataDir: string;
  call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown): Promise<LightMyRequestResponse>;
}

/** One node of the platform: its own ports, data directory and sandbox, on the shared PostgreSQL schema and NATS. */
async function startNode(nodeId: string, key: () => string): Promise<Node> {
  const store = await Store.open({ url: testPostgresUrl, schema, poolSize: 4, nodeId });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `sautikit-${nodeId}-`));
  const config = loadConfig({
    env: {},
    flags: {
      data: dataDir, 'http-port': '0', 'sip-port': '0', 'rtp-ports': '20000-29999', 'log-level': 'silent',
      'node-id': nodeId, 'nats-url': testNatsUrl, 'webhook-retry-schedule': '0,1,1,1,1,1,1,1',
    },
  });
  const platform = await startPlatform(config, { store, logger: silentLogger });
  return {
    platform, store, dataDir,
    call: (method, url, body) => platform.api.inject({
      method, url, headers: { authorization: `Bearer ${key()}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    }),
  };
}

/** SPEC §16: any node's API acts on a live call held by another node, over NATS request/reply. */
describe.skipIf(!reachable)('two nodes on one PostgreSQL and NATS: live calls on the other node', () => {
  let a: Node;
  let b: Node;
  let app: HttpReceiver;
  let credentials: FirstStartCredentials;
  let number: string;
  let roomNumber: string;
  const room = `nodes-room-${tag}`;
  // A listener on A's subject that never answers: it sees what B asked A, so the tests know the work crossed NATS.
  let observer: NatsConnection;
  const askedOfA: Array<{ kind: string }> = [];

  beforeAll(async () => {
    observer = await connect({ servers: testNatsUrl });
    observer.subscribe(nodeSubject(idA), { callback: (_error, msg) => void askedOfA.push(msg.json<{ kind: string }>()) });
    app = await HttpReceiver.start();
    app.respond = (req) => {
      if (req.url.startsWith('/answer')) return { status: 200, body: JSON.stringify({ actions: [{ pause: { length: 30 } }] }) };
      if (req.url.startsWith('/room')) return { status: 200, body: JSON.stringify({ actions: [{ conference: { name: room, startOnEnter: true } }] }) };
      return { status: 204 };
    };
    a = await startNode(idA, () => credentials.api_key);
    credentials = a.platform.credentials!;
    b = await startNode(idB, () => credentials.api_key);
    expect(b.platform.credentials).toBeUndefined();
    number = (await a.call('POST', '/v1/numbers', { prefix: '+25470', routing_url: `${app.url}/answer` })).json().number;
    roomNumber = (await a.call('POST', '/v1/numbers', { prefix: '+25470', routing_url: `${app.url}/room` })).json().number;
    expect((await b.call('POST', '/v1/webhooks', { url: `${app.url}/hooks`, events: ['call.hangup'] })).statusCode).toBe(201);
  }, 60_000);

  afterAll(async () => {
    await b?.platform.close();
    await a?.platform.close();
    await app?.close();
    await observer?.close();
    for (const node of [a, b]) if (node) rmSync(node.dataDir, { recursive: true, force: true });
    const client = new pg.Client({ connectionString: testPostgresUrl });
    await client.connect();
    await client.query(`drop schema if exists ${schema} cascade`);
    await client.end();
  });

  const inProgress = (node: Node, id: string) => until(async () => (await node.call('GET', `/v1/calls/${id}`)).json().status === 'in-progress', 20_000);

  it('a call placed through A is live on A; B hangs it up; A sends call.hangup once; its recording is served by B', async () => {
    const created = await a.call('POST', '/v1/calls', { from: number, to: '+254722000101', action_url: `${app.url}/answer`, record: true });
    expect(created.statusCode).toBe(201);
    const callId: string = created.json().id;
    await inProgress(b, callId);
    expect((await a.store.calls.get(credentials.workspace_id, callId))?.nodeId).toBe(idA);
    expect(a.platform.engine.live(credentials.workspace_id, callId)).toBeDefined();
    expect(b.platform.engine.live(credentials.workspace_id, callId)).toBeUndefined();

    const ended = await b.call('PATCH', `/v1/calls/${callId}`, { status: 'completed' });
    expect(ended.statusCode).toBe(200);
    expect(ended.json()).toMatchObject({ id: callId, status: 'completed' });
    expect(a.platform.engine.live(credentials.workspace_id, callId)).toBeUndefined();

    // Both nodes run a deliverer on the one outbox: the event is delivered once, by whichever leased it.
    const hangups = () => app.requests.filter((r) => r.url === '/hooks' && r.json?.type === 'call.hangup' && r.json?.data?.call_id === callId);
    await until(async () => {
      const rows = (await a.store.outbox.listForCall(callId)).filter((row) => row.type === 'call.hangup');
      return rows.length > 0 && rows.every((row) => row.status === 'delivered');
    });
    expect(hangups()).toHaveLength(1);
    const [row] = (await a.store.outbox.listForCall(callId)).filter((r) => r.type === 'call.hangup');
    expect(row!.attempts).toBe(1);

    // The recording was written on A's disk; B fetches it from A (in chunks over NATS) and serves the same bytes.
    const fromA = await until(async () => {
      const r = await a.call('GET', `/v1/calls/${callId}/recording`);
      return r.statusCode === 200 ? r : undefined;
    });
    const fromB = await b.call('GET', `/v1/calls/${callId}/recording`);
    expect(fromB.statusCode).toBe(200);
    expect(fromB.headers['content-type']).toBe('audio/wav');
    expect(fromB.rawPayload.subarray(0, 4).toString()).toBe('RIFF');
    expect(Buffer.compare(fromB.rawPayload, fromA.rawPayload)).toBe(0);
    expect(askedOfA.map((m) => m.kind)).toEqual(expect.arrayContaining(['call.control', 'recording.chunk']));

    // Ended: 409 from either node, decided from the store.
    for (const node of [a, b]) {
      const again = await node.call('PATCH', `/v1/calls/${callId}`, { status: 'completed' });
      expect(again.statusCode).toBe(409);
      expect(again.json()).toMatchObject({ error: { code: 'call_not_active', field: 'id' } });
    }
  });

  it('actions sent to B are carried out on A: the sandbox phone hears the say; its sandbox call is reported by B', async () => {
    const placed = (await a.call('POST', '/v1/sandbox/calls', { to: number, max_duration: 40 })).json();
    await inProgress(a, placed.call_id);
    const seenFromB = await b.call('GET', `/v1/sandbox/calls/${placed.id}`);
    expect(seenFromB.statusCode).toBe(200);
    expect(seenFromB.json()).toMatchObject({ id: placed.id, call_id: placed.call_id, status: 'in-progress', audio_seconds_heard: 0 });

    const patched = await b.call('PATCH', `/v1/calls/${placed.call_id}`, { actions: [{ say: { text: 'Hello from node B, on node A.' } }, { hangup: {} }] });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ id: placed.call_id, status: 'in-progress' });

    const report = await until(async () => {
      const r = (await b.call('GET', `/v1/sandbox/calls/${placed.id}`)).json();
      return r.ended_at ? r : undefined;
    }, 30_000);
    expect(report).toMatchObject({ status: 'completed', hangup_by: 'platform' });
    expect(report.audio_seconds_heard).toBeGreaterThan(0.5);
    const audio = await b.call('GET', `/v1/sandbox/calls/${placed.id}/audio`);
    expect(audio.statusCode).toBe(200);
    expect(Buffer.compare(audio.rawPayload, (await a.call('GET', `/v1/sandbox/calls/${placed.id}/audio`)).rawPayload)).toBe(0);

    const unknown = await b.call('GET', '/v1/sandbox/calls/sbx_nowhere');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: { code: 'not_found' } });
    expect(askedOfA.map((m) => m.kind)).toEqual(expect.arrayContaining(['call.control']));
  });

  it('a live call whose node is not running answers 409 call_not_active (NATS: no responders)', async () => {
    const placed = (await a.call('POST', '/v1/sandbox/calls', { to: number, max_duration: 40 })).json();
    await inProgress(a, placed.call_id);
    await a.store.db.updateTable('calls').set({ node_id: `node-gone-${tag}` }).where('id', '=', placed.call_id).execute();
    const answer = await b.call('PATCH', `/v1/calls/${placed.call_id}`, { actions: [{ hangup: {} }] });
    expect(answer.statusCode).toBe(409);
    expect(answer.json()).toMatchObject({ error: { code: 'call_not_active', field: 'id', message: expect.stringContaining('is not running') } });
    await a.store.db.updateTable('calls').set({ node_id: idA }).where('id', '=', placed.call_id).execute();
    expect((await b.call('PATCH', `/v1/calls/${placed.call_id}`, { status: 'completed' })).statusCode).toBe(200);
  });

  it('a conference participant on A is listed, muted and kicked through B', async () => {
    const placed = (await a.call('POST', '/v1/sandbox/calls', { to: roomNumber, max_duration: 40 })).json();
    const participants = await until(async () => {
      const r = await b.call('GET', `/v1/conferences/${room}/participants`);
      return r.statusCode === 200 && r.json().length === 1 ? r.json() : undefined;
    });
    expect(participants).toEqual([expect.objectContaining({ call_id: placed.call_id, muted: false })]);
    expect(b.platform.engine.conferences.get(credentials.workspace_id, room)).toBeUndefined();
    expect((await b.call('GET', `/v1/conferences/${room}`)).json()).toMatchObject({ name: room, participant_count: 1 });

    const muted = await b.call('PATCH', `/v1/conferences/${room}/participants/${placed.call_id}`, { muted: true });
    expect(muted.statusCode).toBe(200);
    expect(muted.json()).toMatchObject({ call_id: placed.call_id, muted: true });
    expect(a.platform.engine.conferences.get(credentials.workspace_id, room)?.participants[0]).toMatchObject({ muted: true });
    expect((await b.call('PATCH', `/v1/calls/${placed.call_id}`, { muted: false, hold: true })).statusCode).toBe(200);
    expect(a.platform.engine.conferences.get(credentials.workspace_id, room)?.participants[0]).toMatchObject({ muted: false, hold: true });

    expect((await b.call('DELETE', `/v1/conferences/${room}/participants/${placed.call_id}`)).statusCode).toBe(204);
    await until(async () => (await b.call('GET', `/v1/calls/${placed.call_id}`)).json().status === 'completed');
    expect((await b.call('GET', `/v1/conferences/${room}`)).statusCode).toBe(404);
    expect(askedOfA.map((m) => m.kind)).toEqual(expect.arrayContaining(['conference.get', 'conference.participant.update', 'conference.participant.kick']));
  });
});
