import { expect, it } from 'vitest';
import { provisionWorkspace } from '../../src/store/provision-workspace.js';
import type { SipRegistration } from '../../src/store/repos/sip-registration-repo.js';
import { describeOnEachDialect } from '../helpers/each-dialect.js';

const now = new Date('2026-12-02T10:00:00.000Z');
const later = (seconds: number) => new Date(now.getTime() + seconds * 1000);

describeOnEachDialect('sip registrations repository', (testStore) => {
  const binding = async (name: string, overrides: Partial<SipRegistration> = {}): Promise<SipRegistration> => {
    const { workspace } = await provisionWorkspace(testStore(), { name, allowPrivateCallbacks: true, now });
    return {
      aor: `sip:alice@${name}.sip.example`, contact: 'sip:alice@192.168.1.20:5062', workspaceId: workspace.id,
      target: 'sip:alice@203.0.113.9:40000', sourceAddress: '203.0.113.9', sourcePort: 40000, transport: 'udp',
      callId: 'reg-1@phone', cseq: 1, expiresAt: later(300), q: 0.7, ...overrides,
    };
  };

  it('save() inserts a binding that listByAor() and listLive() answer with every field', async () => {
    const store = testStore();
    const b = await binding('ins');
    await store.sipRegistrations.save(b, now);
    expect(await store.sipRegistrations.listByAor(b.aor, now)).toEqual([b]);
    expect((await store.sipRegistrations.listLive(now)).filter((r) => r.aor === b.aor)).toEqual([b]);
  });

  it('save() of the same AOR and contact refreshes the row instead of adding one', async () => {
    const store = testStore();
    const b = await binding('refresh');
    await store.sipRegistrations.save(b, now);
    const refreshed = { ...b, cseq: 2, expiresAt: later(600), sourcePort: 40002, target: 'sip:alice@203.0.113.9:40002', transport: 'tcp' as const };
    await store.sipRegistrations.save(refreshed, later(10));
    expect(await store.sipRegistrations.listByAor(b.aor, now)).toEqual([refreshed]);
  });

  it('several contacts of one AOR come highest q first; remove() drops one, removeAll() every one', async () => {
    const store = testStore();
    const desk = await binding('multi');
    const mobile = { ...desk, contact: 'sip:alice@10.0.0.7:5060;transport=tcp', callId: 'reg-2@mobile', q: 1 };
    const other = { ...desk, aor: desk.aor.replace('alice', 'bob') };
    await store.sipRegistrations.save(desk, now);
    await store.sipRegistrations.save(mobile, now);
    await store.sipRegistrations.save(other, now);
    expect((await store.sipRegistrations.listByAor(desk.aor, now)).map((r) => r.contact)).toEqual([mobile.contact, desk.contact]);
    await store.sipRegistrations.remove(desk.aor, mobile.contact);
    expect(await store.sipRegistrations.listByAor(desk.aor, now)).toEqual([desk]);
    await store.sipRegistrations.save(mobile, now);
    await store.sipRegistrations.removeAll(desk.aor);
    expect(await store.sipRegistrations.listByAor(desk.aor, now)).toEqual([]);
    expect(await store.sipRegistrations.listByAor(other.aor, now)).toEqual([other]);
  });

  it('an expired binding is never answered, and deleteExpired() sweeps it', async () => {
    const store = testStore();
    const live = await binding('expiry');
    const expired = { ...live, aor: live.aor.replace('alice', 'carol'), expiresAt: later(30) };
    await store.sipRegistrations.save(live, now);
    await store.sipRegistrations.save(expired, now);
    const at = later(30);
    expect(await store.sipRegistrations.listByAor(expired.aor, at)).toEqual([]);
    expect((await store.sipRegistrations.listLive(at)).map((r) => r.aor)).toContain(live.aor);
    expect((await store.sipRegistrations.listLive(at)).map((r) => r.aor)).not.toContain(expired.aor);
    expect(await store.sipRegistrations.deleteExpired(at)).toBeGreaterThanOrEqual(1);
    expect(await store.sipRegistrations.listByAor(expired.aor, now)).toEqual([]);
    expect(await store.sipRegistrations.listByAor(live.aor, now)).toEqual([live]);
  });
});
