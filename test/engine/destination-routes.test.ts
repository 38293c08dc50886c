import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DestinationRouter } from '../../src/engine/destination-router.js';
import { Registrar } from '../../src/sip/ua/registrar.js';
import type { NewTrunk } from '../../src/store/repos/trunk-repo.js';
import type { Store } from '../../src/store/store.js';
import { openTestStore } from '../helpers/dialects.js';

const now = new Date('2026-11-21T10:00:00.000Z');

describe('DestinationRouter.routes(): every trunk of the prefix, in the order to try them (SPEC §13)', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  const down = new Set<string>();
  let router: DestinationRouter;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    ({ store, cleanup } = await openTestStore('sqlite'));
    const base = { host: '192.0.2.1', port: 5060, transport: 'udp' as const, username: null, password: null, inboundAddresses: [], optionsPing: 0 };
    const trunks: Array<Partial<NewTrunk> & { name: string; prefixes: string[] }> = [
      { name: 'b-second', prefixes: ['+2547'], priority: 5 },
      { name: 'a-tied', prefixes: ['+2547'], priority: 5 },
      { name: 'z-first', prefixes: ['+2547'], priority: 1, username: 'acme', password: 'pw', authUsername: 'acme-auth', realm: 'carrier.example' },
      { name: 'specific', prefixes: ['+254799'], priority: 9 },
      { name: 'other-country', prefixes: ['+255'] },
    ];
    for (const t of trunks) ids[t.name] = (await store.trunks.create({ ...base, ...t }, now))!.id;
    router = new DestinationRouter(store, () => ({ host: '127.0.0.1', port: 5999 }), new Registrar({ realm: 'sip.test' }), 'sip.test', (id) => down.has(id));
  });
  afterAll(async () => {
    await cleanup();
  });

  const names = async (to: string): Promise<Array<string | undefined>> => (await router.routes('ws_x', to)).map((r) => r.trunk?.name ?? r.via);

  it('longest prefix first, then priority (lower first), ties by name; route() is the first of them', async () => {
    expect(await names('+254799000001')).toEqual(['specific', 'z-first', 'a-tied', 'b-second']);
    expect(await names('+254712000001')).toEqual(['z-first', 'a-tied', 'b-second']);
    expect((await router.route('ws_x', '+254712000001'))).toMatchObject({
      uri: 'sip:+254712000001@192.0.2.1:5060', via: 'trunk', auth: { username: 'acme-auth', password: 'pw', realm: 'carrier.example' },
    });
    // No trunk matches: the sandbox.
    expect(await names('+256700000001')).toEqual(['sandbox']);
  });

  it('down trunks are skipped while another matches, and all tried in order when every one is down', async () => {
    down.add(ids['z-first']!);
    expect(await names('+254712000001')).toEqual(['a-tied', 'b-second']);
    down.add(ids['a-tied']!).add(ids['b-second']!);
    expect(await names('+254712000001')).toEqual(['z-first', 'a-tied', 'b-second']);
    down.clear();
  });
});
