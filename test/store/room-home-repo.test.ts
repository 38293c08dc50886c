import { expect, it } from 'vitest';
import { describeOnEachDialect } from '../helpers/each-dialect.js';

const now = new Date('2026-12-03T10:00:00.000Z');
const beforeNow = (ms: number) => new Date(now.getTime() - ms);
const beat = (id: string, at: Date) => ({ id, sipAddress: `127.0.0.1:${id.length}`, httpUrl: `http://127.0.0.1/${id}`, liveCalls: 0, draining: false, now: at });

describeOnEachDialect('room homes', (testStore) => {
  it('claims run concurrently by several live nodes for one room give one home that all of them see', async () => {
    const store = testStore();
    const ids = ['node-a', 'node-b', 'node-c', 'node-d'];
    for (const id of ids) await store.nodes.register(beat(id, now));
    const homes = await Promise.all(ids.map((nodeId) => store.roomHomes.claim({ workspaceId: 'ws1', room: 'race', nodeId, now, deadBefore: beforeNow(15_000) })));
    expect(homes.filter((h) => h.how === 'claimed')).toHaveLength(1);
    expect(homes.filter((h) => h.how === 'took_over')).toHaveLength(0);
    const winner = homes.find((h) => h.how === 'claimed')!.nodeId;
    expect(new Set(homes.map((h) => h.nodeId))).toEqual(new Set([winner]));
    expect(await store.roomHomes.get('ws1', 'race')).toBe(winner);
    // The same name in another workspace is another room.
    const other = ids.find((id) => id !== winner)!;
    expect(await store.roomHomes.claim({ workspaceId: 'ws2', room: 'race', nodeId: other, now, deadBefore: beforeNow(15_000) })).toEqual({ nodeId: other, how: 'claimed' });
  });

  it('a home whose node stopped beating is taken over by exactly one joiner; a live home is kept', async () => {
    const store = testStore();
    await store.nodes.register(beat('old-home', beforeNow(60_000)));
    await store.nodes.register(beat('joiner-1', now));
    await store.nodes.register(beat('joiner-2', now));
    expect(await store.roomHomes.claim({ workspaceId: 'ws1', room: 'orphan', nodeId: 'old-home', now: beforeNow(60_000), deadBefore: beforeNow(75_000) }))
      .toEqual({ nodeId: 'old-home', how: 'claimed' });
    const homes = await Promise.all(['joiner-1', 'joiner-2'].map((nodeId) => store.roomHomes.claim({ workspaceId: 'ws1', room: 'orphan', nodeId, now, deadBefore: beforeNow(15_000) })));
    expect(homes.filter((h) => h.how === 'took_over')).toHaveLength(1);
    const heir = homes.find((h) => h.how === 'took_over')!.nodeId;
    expect(homes.map((h) => h.nodeId)).toEqual([heir, heir]);
    // The heir beats; a later joiner finds it alive and keeps it.
    expect(await store.roomHomes.claim({ workspaceId: 'ws1', room: 'orphan', nodeId: 'old-home', now, deadBefore: beforeNow(15_000) }))
      .toEqual({ nodeId: heir, how: 'existing' });
  });

  it('a home with no node row at all counts as dead', async () => {
    const store = testStore();
    await store.nodes.register(beat('survivor', now));
    await store.roomHomes.claim({ workspaceId: 'ws1', room: 'gone', nodeId: 'deleted-node', now, deadBefore: beforeNow(15_000) });
    expect(await store.roomHomes.claim({ workspaceId: 'ws1', room: 'gone', nodeId: 'survivor', now, deadBefore: beforeNow(15_000) }))
      .toEqual({ nodeId: 'survivor', how: 'took_over' });
  });

  it('release() removes the row only for its home, so a room ended on an old home does not drop its heir', async () => {
    const store = testStore();
    await store.nodes.register(beat('home', now));
    await store.roomHomes.claim({ workspaceId: 'ws1', room: 'ends', nodeId: 'home', now, deadBefore: beforeNow(15_000) });
    expect(await store.roomHomes.release('ws1', 'ends', 'someone-else')).toBe(false);
    expect(await store.roomHomes.get('ws1', 'ends')).toBe('home');
    expect(await store.roomHomes.release('ws1', 'ends', 'home')).toBe(true);
    expect(await store.roomHomes.get('ws1', 'ends')).toBeUndefined();
    expect(await store.roomHomes.claim({ workspaceId: 'ws1', room: 'ends', nodeId: 'home', now, deadBefore: beforeNow(15_000) }))
      .toEqual({ nodeId: 'home', how: 'claimed' });
  });
});
