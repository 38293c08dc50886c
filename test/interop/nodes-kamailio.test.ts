/**
 * Several nodes behind Kamailio's dispatcher (SPEC §16): three real
 * `sautikit start` processes on 127.0.0.2-4 share one PostgreSQL database,
 * deploy/kamailio/kamailio.cfg (the shipped file, settings given with -A)
 * spreads a SIPp carrier's calls over them, and the test kills one node with
 * SIGKILL and drains another through the API. The nodes reach each other
 * over NATS: a room spans two of them and is controlled through the third,
 * and a call is hung up through a node that does not run it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startCli, type RunningServer } from '../helpers/cli-process.js';
import { postgresAvailable, testPostgresUrl } from '../helpers/dialects.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { natsAvailable, testNatsUrl } from '../helpers/nats.js';
import { until } from '../helpers/until.js';
import { SipUserAgent } from '../../src/sip/index.js';
import { sipp, startKamailio, type RunningKamailio } from './peers.js';
import { TonePhone } from './tone-phone.js';

const kamailioCfg = fileURLToPath(new URL('../../deploy/kamailio/kamailio.cfg', import.meta.url));
const scenario = fileURLToPath(new URL('./scenarios/carrier-dispatched-call.xml', import.meta.url));
const nodes = { a: '127.0.0.2', b: '127.0.0.3', c: '127.0.0.4' } as const;
type NodeName = keyof typeof nodes;

interface CallRow { id: string; node_id: string; status: string; hangup_cause: string | null; price_cents: number | null; created_at: string }

describe.skipIf(!(await postgresAvailable()) || !(await natsAvailable()))('three nodes behind Kamailio\'s dispatcher on one PostgreSQL database', () => {
  const database = `sautikit_nodes_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const databaseUrl = testPostgresUrl.replace(/\/[^/]*$/, `/${database}`);
  const work = mkdtempSync(path.join(os.tmpdir(), 'sautikit-nodes-'));
  const servers: Partial<Record<NodeName, RunningServer>> = {};
  const sipPorts: Partial<Record<NodeName, number>> = {};
  let kamailio: RunningKamailio;
  let kamailioPort: number;
  let app: HttpReceiver;
  let db: pg.Client;
  let admin: string;
  let apiKey: string;
  let number: string;
  let roomNumber: string;
  let carrierUa: SipUserAgent;
  const room = `kamailio-room-${process.pid}`;

  const startNode = async (name: NodeName): Promise<RunningServer> => {
    const index = Object.keys(nodes).indexOf(name);
    sipPorts[name] ??= await freePort();
    const server = await startCli([
      '--host', nodes[name], '--sip-port', String(sipPorts[name]), '--rtp-ports', `${41000 + index * 200}-${41199 + index * 200}`,
      '--node-id', `node-${name}`, '--database-url', databaseUrl, '--nats-url', testNatsUrl, '--data', path.join(work, name), '--sandbox', 'false',
      '--shutdown-grace', '60', '--rtp-timeout', '0', '--webhook-retry-schedule', '0,1,1,1,1,1,1,1',
    ]);
    servers[name] = server;
    return server;
  };
  const api = async (via: NodeName, method: string, url: string, options: { key?: string; body?: unknown } = {}) => {
    const res = await fetch(`${servers[via]!.baseUrl}${url}`, {
      method, headers: { authorization: `Bearer ${options.key ?? apiKey}`, ...(options.body ? { 'content-type': 'application/json' } : {}) },
      ...(options.body ? { body: JSON.stringify(options.body) } : {}),
    });
    return { status: res.status, json: await res.json() as any };
  };
  const nodesView = async (via: NodeName): Promise<Record<string, Record<string, unknown>>> => Object.fromEntries(
    ((await api(via, 'GET', '/v1/admin/nodes', { key: admin })).json as Array<Record<string, unknown>>).map((n) => [n['id'], n]));
  const calls = async (): Promise<CallRow[]> => (await db.query<CallRow>('select id, node_id, status, hangup_cause, price_cents, created_at from calls order by created_at')).rows;
  /** Runs SIPp as the carrier: `count` calls into Kamailio, each `holdMs` long. */
  const carrier = async (count: number, holdMs: number) => sipp(['-sf', scenario, '-s', number.slice(1), '-i', '127.0.0.1', '-p', String(await freePort()),
    '-mp', String(await freePort()), '-m', String(count), '-r', '20', '-d', String(holdMs), `127.0.0.1:${kamailioPort}`]);
  const hangupsOf = (callId: string) => app.requests.filter((r) => r.json?.type === 'call.hangup' && r.json?.data?.call_id === callId);
  /**
   * Waits for `count` calls not in `seen` (ids of calls before), all in
   * progress (`live`) or all ended and priced, and answers them.
   */
  const newCalls = (seen: Set<string>, count: number, state: 'live' | 'priced'): Promise<CallRow[]> => until(async () => {
    const rows = (await calls()).filter((r) => !seen.has(r.id));
    return rows.length === count && rows.every((r) => state === 'live' ? r.status === 'in-progress' : r.price_cents !== null) ? rows : undefined;
  }, 40_000, 250);
  const idsNow = async () => new Set((await calls()).map((r) => r.id));
  /** How many of `rows` each node ran. */
  const byNode = (rows: CallRow[]) => {
    const counts: Record<string, number> = {};
    for (const row of rows) counts[row.node_id] = (counts[row.node_id] ?? 0) + 1;
    return counts;
  };

  beforeAll(async () => {
    const root = new pg.Client({ connectionString: testPostgresUrl });
    await root.connect();
    await root.query(`create database ${database}`);
    await root.end();
    db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    app = await HttpReceiver.start();
    // Each call waits on the line until the carrier hangs up (SIPp sends no RTP: --rtp-timeout 0 on the nodes).
    app.respond = (req) => {
      if (req.url === '/voice') return { status: 200, body: JSON.stringify([{ pause: { length: 120 } }]) };
      if (req.url === '/room') return { status: 200, body: JSON.stringify([{ conference: { name: room, beep: false, record: true } }]) };
      return { status: 200 };
    };
    // The first node seeds the database (keys, numbers, credit); the others find it seeded.
    await startNode('a');
    const credentials = JSON.parse(readFileSync(path.join(work, 'a', 'credentials.json'), 'utf8'));
    admin = credentials.admin_key;
    apiKey = credentials.api_key;
    await Promise.all([startNode('b'), startNode('c')]);
    kamailioPort = await freePort();
    // The carrier trunk: calls come from Kamailio's address.
    const trunk = await api('a', 'POST', '/v1/admin/trunks', { key: admin, body: {
      name: 'carrier-via-kamailio', host: '127.0.0.1', port: kamailioPort, transport: 'udp', prefixes: ['+2547200'], inbound_addresses: ['127.0.0.1'], options_ping: 0,
    } });
    expect(trunk.status, JSON.stringify(trunk.json)).toBe(201);
    number = (await api('a', 'POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: `${app.url}/voice`, status_url: `${app.url}/status` } })).json.number;
    roomNumber = (await api('a', 'POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: `${app.url}/room` } })).json.number;
    // A second carrier, the project's own user agent, for calls whose audio the test sends and hears.
    carrierUa = new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], publicHost: '127.0.0.1' });
    await carrierUa.start();
    const list = path.join(work, 'dispatcher.list');
    writeFileSync(list, Object.keys(nodes).map((n) => `1 sip:${nodes[n as NodeName]}:${sipPorts[n as NodeName]} 0 0\n`).join(''));
    kamailio = await startKamailio(kamailioCfg, {}, ['-A', `LISTEN=udp:127.0.0.1:${kamailioPort}`, '-A', `DISPATCHER_LIST="${list}"`, '-A', 'PING_INTERVAL=1', '-A', 'FR_TIMER=2000']);
  }, 120_000);

  afterAll(async () => {
    await carrierUa?.close();
    await kamailio?.stop();
    for (const server of Object.values(servers)) {
      if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
      await server.stop();
    }
    await app?.close();
    await db?.end();
    const root = new pg.Client({ connectionString: testPostgresUrl });
    await root.connect();
    await root.query(`drop database if exists ${database} with (force)`);
    await root.end();
    rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('spreads calls over the nodes, survives a killed node (its calls end node_failed once), and drains a node through the API', async () => {
    // Every node heart-beats and is listed alive by any node.
    await until(async () => Object.values(await nodesView('b')).filter((n) => n['alive'] && n['state'] === 'active').length === 3, 20_000, 250);
    expect(Object.keys(await nodesView('c')).sort()).toEqual(['node-a', 'node-b', 'node-c']);

    // 1. Six short calls: round-robin puts two on each node, and each BYE reaches the node that answered (billed, completed).
    const first = await carrier(6, 1500);
    expect(first.code, first.output).toBe(0);
    const spread = await newCalls(new Set(), 6, 'priced');
    expect(byNode(spread)).toEqual({ 'node-a': 2, 'node-b': 2, 'node-c': 2 });
    for (const row of spread) expect(row, row.id).toMatchObject({ status: 'completed', hangup_cause: 'normal_clearing' });

    // 2. A room across nodes: two callers (tones of 440 and 1000 Hz) land on two nodes; the highCall joins the lowCall's room over an
    // internal leg; each hears the other; the one away from the room's home is muted through the third node's API.
    let seen = await idsNow();
    const viaKamailio = (n: string) => `sip:${n.slice(1)}@127.0.0.1:${kamailioPort}`;
    const low = await TonePhone.call(carrierUa, viaKamailio(roomNumber), 'sip:+254711555001@127.0.0.1', 440);
    const [lowCall] = await newCalls(seen, 1, 'live');
    const high = await TonePhone.call(carrierUa, viaKamailio(roomNumber), 'sip:+254711555002@127.0.0.1', 1000);
    const [highCall] = await newCalls(new Set([...seen, lowCall!.id]), 1, 'live');
    expect(highCall!.node_id).not.toBe(lowCall!.node_id);
    const homeRow = await until(async () => (await db.query<{ node_id: string }>('select node_id from room_homes where room = $1', [room])).rows[0], 10_000, 100);
    expect(homeRow.node_id).toBe(lowCall!.node_id);
    const third = (Object.keys(nodes) as NodeName[]).find((n) => `node-${n}` !== lowCall!.node_id && `node-${n}` !== highCall!.node_id)!;
    const listed = await until(async () => {
      const r = await api(third, 'GET', `/v1/conferences/${room}/participants`);
      return r.status === 200 && r.json.length === 2 ? r.json as Array<{ call_id: string }> : undefined;
    }, 10_000, 100);
    expect(listed.map((p) => p.call_id).sort()).toEqual([lowCall!.id, highCall!.id].sort());
    await until(async () => low.toneCount(1000) >= 25 && high.toneCount(440) >= 25, 10_000, 100);
    const muted = await api(third, 'PATCH', `/v1/calls/${highCall!.id}`, { body: { muted: true } });
    expect(muted.status, JSON.stringify(muted.json)).toBe(200);
    const mutedAt = Date.now();
    await new Promise((r) => setTimeout(r, 2500));
    // Muted: the lowCall caller no longer hears the highCall (jitter buffers drained within 0.5 s); the highCall still hears the lowCall.
    expect(low.toneCount(1000, mutedAt + 500)).toBe(0);
    expect(high.toneCount(440, mutedAt + 500)).toBeGreaterThan(50);
    expect((await api(third, 'GET', `/v1/conferences/${room}/participants`)).json.find((p: { call_id: string }) => p.call_id === highCall!.id)).toMatchObject({ muted: true });
    await high.close();
    await low.close();
    await newCalls(seen, 2, 'priced');
    // The room ended on its home; its recording is served by the third node.
    await until(async () => (await db.query('select 1 from room_homes where room = $1', [room])).rows.length === 0, 10_000, 100);
    const [recording] = (await db.query<{ id: string }>('select id from recordings where conference = $1', [room])).rows;
    const audio = await fetch(`${servers[third]!.baseUrl}/v1/recordings/${recording!.id}/audio`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(audio.status).toBe(200);
    expect(Buffer.from(await audio.arrayBuffer()).subarray(0, 4).toString()).toBe('RIFF');

    // 3. A call hung up through a node that does not run it: that node asks the holder over NATS; the holder sends the BYE and call.hangup once.
    seen = await idsNow();
    const heldPhone = await TonePhone.call(carrierUa, viaKamailio(number), 'sip:+254711555003@127.0.0.1', 440);
    const [running] = await newCalls(seen, 1, 'live');
    const other = (Object.keys(nodes) as NodeName[]).find((n) => `node-${n}` !== running!.node_id)!;
    const byeReceived = new Promise<void>((resolve) => heldPhone.session.once('ended', () => resolve()));
    const hungUp = await api(other, 'PATCH', `/v1/calls/${running!.id}`, { body: { status: 'completed' } });
    expect(hungUp.status, JSON.stringify(hungUp.json)).toBe(200);
    await byeReceived;
    expect(await until(async () => (await calls()).find((r) => r.id === running!.id && r.price_cents !== null), 10_000, 250)).toMatchObject({ status: 'completed', hangup_cause: 'api_hangup' });
    await until(async () => hangupsOf(running!.id).length > 0, 10_000, 250);
    await heldPhone.close();

    // 4. Three long calls, one on each node; node B is killed (SIGKILL) in the middle of them.
    seen = await idsNow();
    const longRun = carrier(3, 30_000);
    const long = await newCalls(seen, 3, 'live');
    expect(byNode(long)).toEqual({ 'node-a': 1, 'node-b': 1, 'node-c': 1 });
    servers.b!.child.kill('SIGKILL');
    await servers.b!.stop();
    const onB = long.find((r) => r.node_id === 'node-b')!;
    // A peer's reaper ends B's call once it has been silent 15 s: node_failed, billed, one call.hangup.
    const reaped = await until(async () => (await calls()).find((r) => r.id === onB.id && r.status !== 'in-progress'), 40_000, 250);
    expect(reaped).toMatchObject({ status: 'completed', hangup_cause: 'node_failed' });
    expect(reaped!.price_cents).not.toBeNull();
    await until(async () => hangupsOf(onB.id).length > 0, 10_000, 250);
    // A's and C's calls go on.
    for (const row of long.filter((r) => r.node_id !== 'node-b')) expect((await calls()).find((r) => r.id === row.id)!.status).toBe('in-progress');
    expect((await nodesView('a'))['node-b']).toMatchObject({ alive: false });
    // New calls no longer reach B (its probes failed): they go to A and C.
    seen = await idsNow();
    const afterKill = await carrier(4, 500);
    expect(afterKill.code, afterKill.output).toBe(0);
    expect(byNode(await newCalls(seen, 4, 'priced'))['node-b']).toBeUndefined();
    await longRun;
    // A's and C's long calls ended by the carrier's BYE; B's, ended once by the reaper, got exactly one call.hangup.
    for (const row of long.filter((r) => r.node_id !== 'node-b')) {
      expect(await until(async () => (await calls()).find((r) => r.id === row.id && r.price_cents !== null), 10_000, 250)).toMatchObject({ status: 'completed', hangup_cause: 'normal_clearing' });
    }
    expect(hangupsOf(onB.id)).toHaveLength(1);
    expect(hangupsOf(onB.id)[0]!.json.data).toMatchObject({ hangup_cause: 'node_failed' });

    // 5. Drain A through C's API while a call runs on it: it finishes its call, takes no new one, and exits 0.
    seen = await idsNow();
    const drainRun = carrier(2, 8_000);
    const held = await newCalls(seen, 2, 'live');
    const onA = held.find((r) => r.node_id === 'node-a');
    expect(onA, JSON.stringify(held)).toBeDefined();
    const drained = await api('c', 'POST', '/v1/admin/nodes/node-a/drain', { key: admin });
    expect(drained.status).toBe(202);
    expect(drained.json).toMatchObject({ id: 'node-a', state: 'draining' });
    await until(async () => (await fetch(`${servers.a!.baseUrl}/healthz`).then((r) => r.status, () => 0)) === 503, 10_000, 100);
    expect((await nodesView('c'))['node-a']).toMatchObject({ state: 'draining', alive: true });
    // Its API takes no new calls either.
    const refused = await api('a', 'POST', '/v1/calls', { body: { from: number, to: '+254720000001', action_url: `${app.url}/voice` } });
    expect(refused.status).toBe(503);
    expect(refused.json).toMatchObject({ error: { code: 'shutting_down' } });
    // Dispatcher probing sees A's 503 to OPTIONS within a second or two; meanwhile an INVITE A refuses (503) fails over.
    await new Promise((r) => setTimeout(r, 2500));
    seen = await idsNow();
    const duringDrain = await carrier(3, 500);
    expect(duringDrain.code, duringDrain.output).toBe(0);
    expect(byNode(await newCalls(seen, 3, 'priced'))).toEqual({ 'node-c': 3 });
    // Nobody signals it: once its call is over (the carrier's BYE at 8 s), A exits by itself, cleanly.
    expect((await drainRun).code).toBe(0);
    await until(async () => servers.a!.child.exitCode !== null || servers.a!.child.signalCode !== null, 30_000, 100);
    expect(servers.a!.child.exitCode).toBe(0);
    expect((await calls()).find((r) => r.id === onA!.id)).toMatchObject({ status: 'completed', hangup_cause: 'normal_clearing' });

    // 6. Started again, A is active and takes calls again.
    await startNode('a');
    await until(async () => (await nodesView('c'))['node-a']?.['state'] === 'active', 10_000, 250);
    await new Promise((r) => setTimeout(r, 2500));
    seen = await idsNow();
    const again = await carrier(4, 500);
    expect(again.code, again.output).toBe(0);
    const back = byNode(await newCalls(seen, 4, 'priced'));
    expect(Object.keys(back).sort()).toEqual(['node-a', 'node-c']);
  }, 240_000);
});
