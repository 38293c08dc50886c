import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';

/**
 * docs/webhooks.md (order): a room's events reach each receiver in the order
 * they happened, even when one of them must be retried: the first delivery
 * of every `join` is answered 500, and the room's `start` (emitted the same
 * instant) still arrives after it. A room whose `join` keeps failing holds
 * back only its own events.
 */
describe('conference events in causal order at the receiver', () => {
  let api: TestApi;
  let app: HttpReceiver;
  const rooms = Array.from({ length: 8 }, (_, i) => `order-${i}`);
  const stuck = 'order-stuck';
  let releaseStuck = false;
  const refusedOnce = new Set<string>();
  /** Per room, the events the receiver accepted (2xx), in the order they arrived. */
  const accepted = new Map<string, string[]>();

  beforeAll(async () => {
    api = await startTestApi('sqlite', { flags: { 'webhook-retry-schedule': '0,1,3,3,3,3,3,3' } });
    app = await HttpReceiver.start();
    app.respond = (req) => {
      if (req.url.startsWith('/join')) {
        const room = new URL(req.url, app.url).searchParams.get('room')!;
        return { status: 200, body: JSON.stringify({ actions: [
          { conference: { name: room, startOnEnter: true, endOnExit: true, beep: false,
            statusEventsCallbackUrl: `${app.url}/events`, statusEvents: 'start end join leave' } },
        ] }) };
      }
      if (req.url !== '/events') return { status: 204 };
      const { event, conference_name: room } = req.json.data as { event: string; conference_name: string };
      if (event === 'join' && room === stuck && !releaseStuck) return { status: 500 };
      if (event === 'join' && !refusedOnce.has(room)) {
        refusedOnce.add(room);
        return { status: 500 };
      }
      accepted.set(room, [...(accepted.get(room) ?? []), event]);
      return { status: 200 };
    };
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await api?.close();
  });


  it('join before start and leave before end in every room, a retried join included; a stuck room holds back no other', async () => {
    const number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470' } })).json();
    const callIds: string[] = [];
    for (const room of [stuck, ...rooms]) {
      // Each call gets its own room: the number's routing URL is set per call, just before it.
      await api.call('PATCH', `/v1/numbers/${number.id}`, { body: { routing_url: `${app.url}/join?room=${room}` } });
      const placed = await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000001', to: number.number, script: [{ wait: 1.5 }, { hangup: true }], max_duration: 30 } });
      expect(placed.statusCode).toBe(201);
      callIds.push(placed.json().call_id);
      await until(async () => app.requests.some((r) => r.url === `/join?room=${room}`), 10_000);
    }

    // Every other room's four events arrive while the stuck room's join is still being refused.
    await until(async () => rooms.every((room) => accepted.get(room)?.length === 4), 60_000, 100);
    expect(accepted.get(stuck)).toBeUndefined();
    const stuckStart = app.requests.filter((r) => r.url === '/events' && r.json?.data?.conference_name === stuck && r.json.data.event !== 'join');
    expect(stuckStart, 'the stuck room\'s later events wait for its join').toEqual([]);
    for (const room of rooms) expect(accepted.get(room), room).toEqual(['join', 'start', 'leave', 'end']);

    // Once its receiver accepts the join, the stuck room's events follow, in order.
    releaseStuck = true;
    await until(async () => accepted.get(stuck)?.length === 4, 30_000, 100);
    expect(accepted.get(stuck)).toEqual(['join', 'start', 'leave', 'end']);
  }, 120_000);
});
