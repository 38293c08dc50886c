import { afterEach, expect, it } from 'vitest';
import { WorkspaceRegistrar } from '../../src/engine/workspace-registrar.js';
import { workspaceSipDomain } from '../../src/shared/sip-domain.js';
import { serializeUri, SipUserAgent } from '../../src/sip/index.js';
import { provisionWorkspace } from '../../src/store/provision-workspace.js';
import { describeOnEachDialect } from '../helpers/each-dialect.js';
import { FAST_TIMERS } from '../sip/helpers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describeOnEachDialect('workspace registrar over the store', (testStore) => {
  /** A server with the workspace registrar, a credential `alice`, and two phones: a desk phone and a mobile. */
  async function setUp(name: string, now: () => number) {
    const store = testStore();
    const { workspace } = await provisionWorkspace(store, { name, allowPrivateCallbacks: true, now: new Date(now()) });
    await store.sipCredentials.create({ workspaceId: workspace.id, username: 'alice', password: 'wonderland', now: new Date(now()) });
    const domain = workspaceSipDomain(workspace.id, 'sip.test');
    const registrar = new WorkspaceRegistrar(store, 'sip.test', { now });
    const server = new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], registrar, timers: FAST_TIMERS });
    const phones = [0, 1].map(() => new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], timers: FAST_TIMERS }));
    await Promise.all([server, ...phones].map((ua) => ua.start()));
    cleanups.push(() => server.close(), ...phones.map((p) => () => p.close()));
    const aor = `sip:alice@${domain}`;
    const register = (phone: SipUserAgent, expires: number) =>
      phone.register({ registrar: `sip:127.0.0.1:${server.localAddress('udp').port}`, aor, auth: { username: 'alice', password: 'wonderland' }, expires });
    return { store, registrar, phones, aor, register };
  }

  it('bindings written on REGISTER come back in a new registrar after load(), un-registrations stay gone', async () => {
    const now = () => Date.now();
    const { store, registrar, phones, aor, register } = await setUp('persist', now);
    await register(phones[0]!, 300);
    await register(phones[1]!, 600);
    expect(await store.sipRegistrations.listByAor(aor, new Date())).toHaveLength(2);

    const restarted = new WorkspaceRegistrar(store, 'sip.test', { now });
    expect(await restarted.load()).toBeGreaterThanOrEqual(2);
    // Every field survives, URIs included (compared serialized, in one order).
    const plain = (bs: ReturnType<WorkspaceRegistrar['lookup']>) =>
      bs.map((b) => ({ ...b, contact: serializeUri(b.contact), target: serializeUri(b.target) })).sort((a, b) => a.source.port - b.source.port);
    expect(plain(restarted.lookup(aor))).toEqual(plain(registrar.lookup(aor)));
    expect(plain(restarted.lookup(aor)).map((b) => b.source.port)).toEqual(phones.map((p) => p.localAddress('udp').port).sort((a, b) => a - b));

    await register(phones[0]!, 0);
    expect((await store.sipRegistrations.listByAor(aor, new Date())).map((r) => r.sourcePort)).toEqual([phones[1]!.localAddress('udp').port]);
    const again = new WorkspaceRegistrar(store, 'sip.test', { now });
    await again.load();
    expect(again.lookup(aor).map((b) => b.source.port)).toEqual([phones[1]!.localAddress('udp').port]);
  });

  it('a binding that expired while the server was down is not restored and its row is swept', async () => {
    let clock = Date.now();
    const now = () => clock;
    const { store, aor, phones, register } = await setUp('expiry', now);
    await register(phones[0]!, 60);
    await register(phones[1]!, 3600);
    clock += 120_000;
    const restarted = new WorkspaceRegistrar(store, 'sip.test', { now });
    await restarted.load();
    expect(restarted.lookup(aor).map((b) => b.source.port)).toEqual([phones[1]!.localAddress('udp').port]);
    const rows = await store.sipRegistrations.listByAor(aor, new Date(0));
    expect(rows.map((r) => r.sourcePort)).toEqual([phones[1]!.localAddress('udp').port]);
  });
});
