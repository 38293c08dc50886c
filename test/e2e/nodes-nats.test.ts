import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { createSocket } from 'node:dgram';
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
import { toneWav } from '../helpers/wav.js';

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
  const crossRoom = `nodes-cross-${tag}`;
  const fromA = '+254711000301';
  const fromB = '+254711000302';
  let crossNumber: string;
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
      if (req.url.startsWith('/xroom')) {
        // The participant on B records the room: the file is written on the home, A, and filed under B's call.
        const onB = req.json?.From === fromB;
        return { status: 200, body: JSON.stringify({ actions: [{ conference: {
          name: crossRoom, startOnEnter: true, beep: false, record: onB, statusEventsCallbackUrl: `${app.url}/xroom-events`, statusEvents: 'join leave mute unmute start end',
        } }, { say: { text: 'The conference has ended.' } }] }) };
      }
      if (req.url === '/speech.wav') return { status: 200, contentType: 'audio/wav', body: toneWav(600, 1.5) };
      if (req.url === '/beep.wav') return { status: 200, contentType: 'audio/wav', body: toneWav(1000, 1) };
      return { status: 204 };
    };
    a = await startNode(idA, () => credentials.api_key);
    credentials = a.platform.credentials!;
    b = await startNode(idB, () => credentials.api_key);
    expect(b.platform.credentials).toBeUndefined();
    number = (await a.call('POST', '/v1/numbers', { prefix: '+25470', routing_url: `${app.url}/answer` })).json().number;
    roomNumber = (await a.call('POST', '/v1/numbers', { prefix: '+25470', routing_url: `${app.url}/room` })).json().number;
    crossNumber = (await a.call('POST', '/v1/numbers', { prefix: '+25470', routing_url: `${app.url}/xroom` })).json().number;
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

  it('a room spans the nodes: a participant on B joins the room on A over an internal leg; both hear each other; muted, listed and kicked from either node; recorded on A', async () => {
    const report = (node: Node, id: string) => node.call('GET', `/v1/sandbox/calls/${id}`).then((r) => r.json());
    // On A (its own sandbox calls A): it speaks (600 Hz) from 5 s on (B has joined by then), then stays.
    const onA = (await a.call('POST', '/v1/sandbox/calls', { from: fromA, to: crossNumber, max_duration: 60, script: [{ wait: 5 }, { play: `${app.url}/speech.wav` }, { wait: 50 }] })).json();
    await until(async () => a.platform.engine.conferences.get(credentials.workspace_id, crossRoom)?.participants.length === 1);
    expect(await a.store.roomHomes.get(credentials.workspace_id, crossRoom)).toBe(idA);

    // On B (B's sandbox calls B): the room lives on A, so B joins it there. It beeps (1000 Hz, which sandbox phones count) at 3 s and at 12 s.
    const onB = (await b.call('POST', '/v1/sandbox/calls', { from: fromB, to: crossNumber, max_duration: 60,
      script: [{ wait: 3 }, { play: `${app.url}/beep.wav` }, { wait: 8 }, { play: `${app.url}/beep.wav` }, { wait: 40 }] })).json();
    const listed = await until(async (): Promise<Array<{ call_id: string }> | undefined> => {
      const r = await b.call('GET', `/v1/conferences/${crossRoom}/participants`);
      return r.statusCode === 200 && r.json().length === 2 ? r.json() : undefined;
    }, 20_000);
    expect(listed.map((p: { call_id: string }) => p.call_id).sort()).toEqual([onA.call_id, onB.call_id].sort());
    expect(listed.find((p: { call_id: string }) => p.call_id === onB.call_id)).toMatchObject({ caller: fromB, muted: false });
    // One room, on A; B runs its call and has no room of its own.
    expect((await b.store.calls.get(credentials.workspace_id, onB.call_id))?.nodeId).toBe(idB);
    expect(b.platform.engine.conferences.get(credentials.workspace_id, crossRoom)).toBeUndefined();
    expect((await b.call('GET', '/v1/conferences')).json()).toEqual(expect.arrayContaining([expect.objectContaining({ name: crossRoom, participant_count: 2 })]));

    // Each hears the other: A's phone the second of B's beep (its only sound), B's phone the 1.5 s of A's speech.
    await until(async () => (await report(a, onA.id)).audio_seconds_heard >= 0.9, 20_000);
    await until(async () => (await report(b, onB.id)).audio_seconds_heard >= 1.4, 20_000);

    // B's participant muted through A's API: A asks B (the call's node), which asks the room's home, A.
    const muted = await a.call('PATCH', `/v1/calls/${onB.call_id}`, { muted: true });
    expect(muted.statusCode).toBe(200);
    expect(a.platform.engine.conferences.get(credentials.workspace_id, crossRoom)?.participants.find((p) => p.callId === onB.call_id)).toMatchObject({ muted: true });
    expect((await b.call('GET', `/v1/conferences/${crossRoom}/participants`)).json().find((p: { call_id: string }) => p.call_id === onB.call_id)).toMatchObject({ muted: true });
    // B's second beep (12 s into its call) is not heard on A. (What was on its way when the mute came arrives first.)
    await new Promise((r) => setTimeout(r, 1000));
    const heardBefore = (await report(a, onA.id)).audio_seconds_heard;
    expect(heardBefore).toBeLessThan(1.5);
    await new Promise((r) => setTimeout(r, 10_000));
    expect((await report(a, onA.id)).audio_seconds_heard).toBe(heardBefore);
    // Unmuted through B's participant route, which A (the home) carries out.
    expect((await b.call('PATCH', `/v1/conferences/${crossRoom}/participants/${onB.call_id}`, { muted: false })).json()).toMatchObject({ call_id: onB.call_id, muted: false });

    // Kicked through B: the home removes the participant and tells B why, and B hangs its call up (kicked).
    expect((await b.call('DELETE', `/v1/conferences/${crossRoom}/participants/${onB.call_id}`)).statusCode).toBe(204);
    const kicked = await until(async () => {
      const call = (await a.call('GET', `/v1/calls/${onB.call_id}`)).json();
      return call.status === 'completed' ? call : undefined;
    });
    expect(kicked.hangup_cause).toBe('kicked');
    expect(a.platform.engine.conferences.get(credentials.workspace_id, crossRoom)?.participants.map((p) => p.callId)).toEqual([onA.call_id]);

    // Ended through B: A's participant goes on with its list (the say), the room's home row goes, its recording is on A.
    expect((await b.call('POST', `/v1/conferences/${crossRoom}/end`)).statusCode).toBe(200);
    await until(async () => (await a.store.roomHomes.get(credentials.workspace_id, crossRoom)) === undefined);
    const events = await until(async (): Promise<Array<Record<string, string | boolean>> | undefined> => {
      const data = app.requests.filter((r) => r.url === '/xroom-events').map((r) => r.json.data);
      return data.some((e) => e.event === 'end') ? data : undefined;
    }, 20_000);
    // Every event once, from the home alone, with the real call ids.
    const joins = events.filter((e) => e.event === 'join').map((e) => e.call_id);
    expect(joins.sort()).toEqual([onA.call_id, onB.call_id].sort());
    expect(events.filter((e) => e.event === 'mute')).toEqual([expect.objectContaining({ call_id: onB.call_id, muted: true })]);
    expect(events.filter((e) => e.event === 'leave' && e.call_id === onB.call_id)).toEqual([expect.objectContaining({ reason: 'kicked' })]);
    const end = events.find((e) => e.event === 'end')!;
    expect(end.recording_url).toEqual(expect.any(String));
    const recordingPath = new URL(String(end.recording_url)).pathname;
    const viaA = await a.call('GET', recordingPath);
    const viaB = await b.call('GET', recordingPath);
    expect(viaA.statusCode).toBe(200);
    expect(viaB.statusCode).toBe(200);
    expect(viaB.rawPayload.subarray(0, 4).toString()).toBe('RIFF');
    expect(Buffer.compare(viaA.rawPayload, viaB.rawPayload)).toBe(0);
    const recording = await a.store.db.selectFrom('recordings').selectAll().where('call_id', '=', onB.call_id).executeTakeFirst();
    expect(recording?.path.startsWith(a.dataDir)).toBe(true);
    // What each phone heard, once over: A one beep (B's first; a beep is counted when it ends), B the speech and no beep.
    const heardOnA = await until(async () => ((await report(a, onA.id)).ended_at ? report(a, onA.id) : undefined), 30_000);
    expect(heardOnA.beeps_heard).toBe(1);
    expect((await report(b, onB.id)).beeps_heard).toBe(0);
  }, 90_000);

  it('an INVITE posing as another node\'s participant without the shared key is refused 403, and joins nothing', async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const answers: string[] = [];
    socket.on('message', (m) => answers.push(m.toString().split('\r\n')[0]!));
    const port = socket.address().port;
    const sip = a.platform.sipAddress;
    const forged = [
      `INVITE sip:conference@127.0.0.1:${sip.port} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-forged-${tag}`, 'Max-Forwards: 70',
      `From: <sip:intruder@127.0.0.1:${port}>;tag=forged`, `To: <sip:conference@127.0.0.1:${sip.port}>`, `Call-ID: forged-${tag}`, 'CSeq: 1 INVITE',
      `Contact: <sip:intruder@127.0.0.1:${port}>`, `X-Sautikit-Room: ${crossRoom}-forged`, `X-Sautikit-Workspace: ${credentials.workspace_id}`,
      'X-Sautikit-Call-Id: call_forged', `X-Sautikit-Join: ${encodeURIComponent('{}')}`, `X-Sautikit-Time: ${Date.now()}`, 'X-Sautikit-Signature: c2lnbmVk',
      'Content-Length: 0', '', '',
    ].join('\r\n');
    socket.send(forged, sip.port, '127.0.0.1');
    try {
      expect(await until(async () => answers.find((line) => !line.startsWith('SIP/2.0 1')), 10_000)).toBe('SIP/2.0 403 Forbidden');
    } finally {
      socket.close();
    }
    expect(await a.store.roomHomes.get(credentials.workspace_id, `${crossRoom}-forged`)).toBeUndefined();
  });
});
