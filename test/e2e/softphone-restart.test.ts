import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallLeg } from '../../src/legs/call-leg.js';
import { MediaEngine } from '../../src/media/engine.js';
import { silentLogger } from '../../src/shared/log.js';
import type { IncomingCall } from '../../src/sip/ua/incoming-call.js';
import { SipUserAgent } from '../../src/sip/ua/sip-user-agent.js';
import { Store } from '../../src/store/store.js';
import { freePort, startCli, type RunningServer } from '../helpers/cli-process.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { until } from '../helpers/until.js';

/** What one softphone saw: the INVITEs that reached it and the CANCELs' Reason headers. */
interface Phone {
  ua: SipUserAgent;
  invites: IncomingCall[];
  cancels: Array<string | undefined>;
}

async function phone(): Promise<Phone> {
  const ua = new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], publicHost: '127.0.0.1' });
  await ua.start();
  return { ua, invites: [], cancels: [] };
}

/**
 * GIVEN an agent with two registered devices (a desk phone and a mobile) and a colleague whose
 * registration runs out while the server is down, WHEN the server restarts on the same data
 * folder and a caller's app dials both users, THEN both of the agent's devices ring without
 * registering again, the mobile answers, the desk phone gets CANCEL "answered elsewhere", and
 * the colleague's expired binding is not used.
 */
describe('softphone registrations across a restart of the real binary', () => {
  const data = mkdtempSync(path.join(os.tmpdir(), 'sautikit-registrations-'));
  let app: HttpReceiver;
  let media: MediaEngine;
  const phones: Phone[] = [];
  let server: RunningServer | undefined;

  beforeAll(async () => {
    app = await HttpReceiver.start();
    media = new MediaEngine({ portMin: 45600, portMax: 45799, logger: silentLogger });
  });
  afterAll(async () => {
    await server?.stop();
    for (const p of phones) await p.ua.close();
    await media?.close();
    await app?.close();
    rmSync(data, { recursive: true, force: true });
  });

  it('both registered devices of a user ring after a restart; the first to answer wins, the other is cancelled; an expired binding is not used', async () => {
    const args = ['--data', data, '--sip-port', String(await freePort())];
    server = await startCli(args);
    const { api_key: key } = JSON.parse(readFileSync(path.join(data, 'credentials.json'), 'utf8'));
    const call = async (method: string, url: string, body?: unknown) => {
      const res = await fetch(`${server!.baseUrl}${url}`, {
        method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}),
      });
      // Untyped like the JSON it is (JSON.parse answers any), as the product pages read it.
      return JSON.parse(await res.text());
    };
    const alice = await call('POST', '/v1/sip/credentials', { username: 'alice', password: 'alice-pass-1' });
    const bob = await call('POST', '/v1/sip/credentials', { username: 'bob', password: 'bob-pass-1' });
    const [desk, mobile, bobPhone] = [await phone(), await phone(), await phone()];
    phones.push(desk, mobile, bobPhone);
    for (const device of [desk, mobile]) await device.ua.register({ registrar: alice.registrar, aor: alice.aor, auth: { username: 'alice', password: 'alice-pass-1' }, expires: 300 });
    await bobPhone.ua.register({ registrar: bob.registrar, aor: bob.aor, auth: { username: 'bob', password: 'bob-pass-1' }, expires: 300 });
    expect((await call('GET', '/v1/sip/credentials')).map((c: { registered: boolean }) => c.registered)).toEqual([true, true]);

    // WHEN the server stops, and bob's registration runs out meanwhile (time passes while it is down).
    expect(await server.stop()).toBe(0);
    server = undefined;
    const offline = await Store.open({ url: path.join(data, 'sautikit.db') });
    try {
      expect((await offline.sipRegistrations.listByAor(alice.aor, new Date())).length).toBe(2);
      await offline.db.updateTable('sip_registrations').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('aor', '=', bob.aor).execute();
    } finally {
      await offline.close();
    }
    server = await startCli(args);

    // The phones do not register again; the desk phone only rings, the mobile answers once both rang.
    for (const p of phones) {
      p.ua.on('invite', (incoming) => {
        p.invites.push(incoming);
        incoming.on('cancelled', (reason) => p.cancels.push(reason));
      });
    }
    desk.ua.on('invite', (incoming) => incoming.ring());
    mobile.ua.on('invite', (incoming) => void (async () => {
      await until(async () => desk.invites.length > 0, 10_000, 20);
      const leg = await CallLeg.fromIncoming(incoming, media, silentLogger);
      if ('problem' in leg) return;
      leg.answer();
      setTimeout(() => void leg.hangup(), 1000);
    })());
    expect((await call('GET', '/v1/sip/credentials')).map((c: { username: string; registered: boolean }) => [c.username, c.registered])).toEqual([['alice', true], ['bob', false]]);

    app.respond = () => ({ status: 200, body: JSON.stringify([{ dial: { sip: bob.aor, timeout: 5 } }, { dial: { sip: alice.aor, timeout: 20 } }]) });
    const number = await call('POST', '/v1/numbers', { prefix: '+25470', routing_url: `${app.url}/inbound` });
    const placed = await call('POST', '/v1/sandbox/calls', { from: '+254711000002', to: number.number, max_duration: 30 });
    const parent = await until(async () => {
      const c = await call('GET', `/v1/calls/${placed.call_id}`);
      return c.status === 'completed' && c.price !== null ? c : undefined;
    }, 30_000);
    expect(parent.status).toBe('completed');

    const legs = await until(async () => {
      const list = await call('GET', `/v1/calls?parent_call_id=${placed.call_id}`);
      return list.length === 2 && list.some((l: { status: string; price: string | null }) => l.status === 'completed' && l.price !== null) ? list : undefined;
    }, 20_000);
    const toBob = legs.find((l: { to: string }) => l.to === bob.aor);
    const toAlice = legs.find((l: { to: string }) => l.to === alice.aor);
    // THEN bob's expired binding was not used: his leg failed for want of a route, his phone heard nothing.
    expect(toBob).toMatchObject({ status: 'failed', hangup_cause: 'no_route', duration_seconds: 0 });
    expect(bobPhone.invites).toHaveLength(0);
    // AND both of alice's devices rang: one call record for the dialled user, billed once, for the device that answered.
    expect(toAlice).toMatchObject({ status: 'completed', direction: 'outbound', parent_call_id: placed.call_id });
    expect(toAlice.duration_seconds).toBeGreaterThanOrEqual(1);
    expect(Number(toAlice.price)).toBeGreaterThan(0);
    expect(desk.invites).toHaveLength(1);
    expect(mobile.invites).toHaveLength(1);
    expect(desk.cancels).toEqual(['SIP;cause=200;text="Call completed elsewhere"']);
    expect(mobile.cancels).toEqual([]);
    // AND the expired row was swept at start.
    const rows = await Store.open({ url: path.join(data, 'sautikit.db') });
    try {
      expect(await rows.sipRegistrations.listByAor(bob.aor, new Date(0))).toEqual([]);
    } finally {
      await rows.close();
    }
  }, 90_000);
});
