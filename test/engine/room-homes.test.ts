import { expect, it } from 'vitest';
import { RoomHomes } from '../../src/engine/room-homes.js';
import { encodeRemoteJoin, parseRemoteJoin, type RemoteJoin } from '../../src/engine/remote-join.js';
import { systemClock } from '../../src/shared/clock.js';
import { describeOnEachDialect } from '../helpers/each-dialect.js';

const beat = (id: string) => ({ id, sipAddress: `127.0.0.1:50${id.length}0`, httpUrl: `http://127.0.0.1/${id}`, liveCalls: 0, draining: false, now: new Date() });

describeOnEachDialect('room homes of one node (SPEC §16)', (testStore) => {
  it('two nodes placing the first participants of one room at once: one holds the room, the other is sent to it', async () => {
    const store = testStore();
    await store.nodes.register(beat('node-one'));
    await store.nodes.register(beat('node-two'));
    const one = new RoomHomes({ store, nodeId: 'node-one', clock: systemClock });
    const two = new RoomHomes({ store, nodeId: 'node-two', clock: systemClock });
    const [a, b] = await Promise.all([one.place('ws1', 'standup'), two.place('ws1', 'standup')]);
    const places = [a!, b!];
    expect(places.filter((p) => p.here)).toHaveLength(1);
    const away = places.find((p) => !p.here);
    const homeId = a!.here ? 'node-one' : 'node-two';
    expect(away).toMatchObject({ here: false, node: { id: homeId, sipAddress: expect.stringMatching(/^127\.0\.0\.1:/) } });
    expect(await store.roomHomes.get('ws1', 'standup')).toBe(homeId);
  });

  it('a room ending while a local join of its name is on its way keeps its home; released once no join is pending and no room lives', async () => {
    const store = testStore();
    await store.nodes.register(beat('node-solo'));
    const homes = new RoomHomes({ store, nodeId: 'node-solo', clock: systemClock });
    const first = await homes.place('ws1', 'queue-7');
    const second = await homes.place('ws1', 'queue-7');
    expect(first.here && second.here).toBe(true);
    if (!first.here || !second.here) return;
    first.done();
    // One join still pending: the release (the old room's end) leaves the row for the room that join creates.
    await homes.release('ws1', 'queue-7', () => false);
    expect(await store.roomHomes.get('ws1', 'queue-7')).toBe('node-solo');
    second.done();
    second.done();
    // A room of that name lives here again: kept.
    await homes.release('ws1', 'queue-7', () => true);
    expect(await store.roomHomes.get('ws1', 'queue-7')).toBe('node-solo');
    await homes.release('ws1', 'queue-7', () => false);
    expect(await store.roomHomes.get('ws1', 'queue-7')).toBeUndefined();
  });

  it('a release by a node that is not the home leaves the row to its home', async () => {
    const store = testStore();
    await store.nodes.register(beat('node-home'));
    await store.nodes.register(beat('node-guest'));
    const home = new RoomHomes({ store, nodeId: 'node-home', clock: systemClock });
    const guest = new RoomHomes({ store, nodeId: 'node-guest', clock: systemClock });
    const placed = await home.place('ws1', 'board');
    if (placed.here) placed.done();
    expect(await guest.place('ws1', 'board')).toMatchObject({ here: false, node: { id: 'node-home' } });
    await guest.release('ws1', 'board', () => false);
    expect(await store.roomHomes.get('ws1', 'board')).toBe('node-home');
  });
});

it('a remote join crosses as it was sent, and a malformed one is refused naming what is wrong', () => {
  const join: RemoteJoin = {
    caller: '+254711000001', startOnEnter: false, endOnExit: true, beep: false, muted: true, maxParticipants: 12, waitUrl: 'https://example.test/hold.wav',
    record: true, statusEventsCallbackUrl: 'https://example.test/events', statusEvents: ['join', 'leave'],
  };
  expect(parseRemoteJoin(encodeRemoteJoin(join))).toEqual(join);
  expect(parseRemoteJoin(encodeRemoteJoin({ ...join, waitUrl: undefined, statusEventsCallbackUrl: undefined }))).toEqual({ ...join, waitUrl: undefined, statusEventsCallbackUrl: undefined });
  expect(() => parseRemoteJoin('not json')).toThrow(/not JSON/);
  expect(() => parseRemoteJoin('[]')).toThrow(/not a JSON object/);
  expect(() => parseRemoteJoin(JSON.stringify({ ...join, muted: 'yes' }))).toThrow(/muted must be true or false/);
  expect(() => parseRemoteJoin(JSON.stringify({ ...join, maxParticipants: 0 }))).toThrow(/maxParticipants/);
  expect(() => parseRemoteJoin(JSON.stringify({ ...join, statusEvents: ['join', 'explode'] }))).toThrow(/statusEvents/);
  expect(() => parseRemoteJoin(JSON.stringify({ ...join, waitUrl: 'file:///etc/passwd' }))).toThrow(/waitUrl must be an http\(s\) URL/);
});
