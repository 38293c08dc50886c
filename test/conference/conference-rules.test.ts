/**
 * The room rules of SPEC §7 and live control, on real media endpoints: who
 * leaves with what reason, which events go out in which order, and that
 * nothing is left behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConferenceManager, type ConferenceEvent, type LeaveReason } from '../../src/conference/index.js';
import { RoomStateMachine } from '../../src/conference/room-state.js';
import { MediaEngine } from '../../src/media/engine.js';
import { delay, dialIn, EventLog, type Caller } from './helpers.js';

const WS = 'ws_rules';
let engine: MediaEngine;
const callers: Caller[] = [];
const at = new Date('2026-11-21T13:00:00Z');
const clock = { now: () => at };

beforeAll(() => {
  engine = new MediaEngine({ portMin: 44000, portMax: 44999, bindAddress: '127.0.0.1' });
});

afterAll(async () => {
  await Promise.all(callers.map((c) => c.hangup()));
  expect(engine.endpointCount).toBe(0);
  // No mixer is left subscribed to the media clock.
  expect(engine.clock.running).toBe(false);
  await engine.close();
  expect(engine.ports.inUse).toBe(0);
});

async function caller(id: string): Promise<Caller> {
  const c = await dialIn(engine, id, 0);
  callers.push(c);
  return c;
}

function manager(log: EventLog): ConferenceManager {
  return new ConferenceManager({ media: engine, onEvent: log.onEvent, clock });
}

describe('conference room rules', () => {
  it('endOnExit: the room ends when the last endOnExit participant leaves, and the others resolve room-ended', async () => {
    const log = new EventLog();
    const rooms = manager(log);
    const [agent1, agent2, customer] = await Promise.all([caller('agent1'), caller('agent2'), caller('customer')]);
    const base = { workspaceId: WS, name: 'support-1', beep: false };
    const customerLeft = rooms.join({ ...base, callId: 'customer', caller: '+254711000001', endpoint: customer.leg, startOnEnter: false, endOnExit: true });
    const agent1Left = rooms.join({ ...base, callId: 'agent1', caller: '+254722000001', endpoint: agent1.leg, endOnExit: true });
    const agent2Left = rooms.join({ ...base, callId: 'agent2', caller: '+254722000002', endpoint: agent2.leg, endOnExit: false });

    // Agent 1 hangs up: the customer still has endOnExit, so the room goes on.
    await agent1.leg.close();
    expect(await agent1Left).toBe('hangup');
    expect(rooms.get(WS, 'support-1')?.participants.map((p) => p.callId)).toEqual(['customer', 'agent2']);

    // The customer leaves: the last endOnExit participant, so agent 2 is taken out.
    rooms.kick(WS, 'support-1', 'customer');
    expect(await customerLeft).toBe('kicked');
    expect(await agent2Left).toBe('room-ended');
    await log.next('end', 'support-1');
    expect(rooms.get(WS, 'support-1')).toBeUndefined();
    expect(rooms.roomCount).toBe(0);
    expect(log.summary('support-1')).toEqual([
      'join:customer:1',
      'join:agent1:2',
      'start::2',
      'join:agent2:3',
      'leave:agent1:2',
      'leave:customer:1',
      'leave:agent2:0',
      'end::0',
    ]);
    const leaves = log.events.filter((e) => e.type === 'leave').map((e) => e.reason);
    expect(leaves).toEqual(['hangup', 'kicked', 'room-ended']);
    const join = log.events[0]!;
    expect(join).toEqual<ConferenceEvent>({
      type: 'join',
      workspaceId: WS,
      room: 'support-1',
      roomId: join.roomId,
      callId: 'customer',
      caller: '+254711000001',
      muted: false,
      participants: 1,
      timestamp: at,
    });
    expect(join.roomId).toMatch(/^conf_/);
  });

  it('a join beyond maxParticipants resolves full at once with a full event, and the room goes on', async () => {
    const log = new EventLog();
    const rooms = manager(log);
    const [a, b, c] = await Promise.all([caller('full-a'), caller('full-b'), caller('full-c')]);
    const base = { workspaceId: WS, name: 'small', beep: false, maxParticipants: 2 };
    const left = [
      rooms.join({ ...base, callId: 'full-a', caller: '+254733000001', endpoint: a.leg }),
      rooms.join({ ...base, callId: 'full-b', caller: '+254733000002', endpoint: b.leg }),
    ];
    // The third joiner asks for more room; the room keeps its creator's limit.
    await expect(rooms.join({ ...base, maxParticipants: 10, callId: 'full-c', caller: '+254733000003', endpoint: c.leg })).resolves.toBe('full');
    expect(log.summary('small')).toEqual(['join:full-a:1', 'start::1', 'join:full-b:2', 'full:full-c:2']);
    expect(log.events.at(-1)).toMatchObject({ type: 'full', caller: '+254733000003' });
    expect(rooms.get(WS, 'small')?.participants).toHaveLength(2);
    // The refused leg is untouched: it can go on with its action list (here, another room).
    const elsewhere = rooms.join({ workspaceId: WS, name: 'other', callId: 'full-c', caller: '+254733000003', endpoint: c.leg, beep: false });
    expect(rooms.get(WS, 'other')?.participants).toHaveLength(1);
    await rooms.end(WS, 'other');
    await rooms.end(WS, 'small');
    expect(await Promise.all([...left, elsewhere])).toEqual(['room-ended', 'room-ended', 'room-ended']);
  });

  it('live control: list and get report participants; mute, unmute and kick emit events; unknown rooms and calls answer false', async () => {
    const log = new EventLog();
    const rooms = manager(log);
    const [a, b] = await Promise.all([caller('live-a'), caller('live-b')]);
    const base = { workspaceId: WS, name: 'live', beep: false };
    const leftA = rooms.join({ ...base, callId: 'live-a', caller: '+254744000001', endpoint: a.leg, endOnExit: true });
    const leftB = rooms.join({ ...base, callId: 'live-b', caller: '+254744000002', endpoint: b.leg, startOnEnter: false });
    const other = await caller('live-x');
    const leftX = rooms.join({ workspaceId: 'ws_other', name: 'live', callId: 'live-x', caller: '+254744000003', endpoint: other.leg, beep: false });

    expect(rooms.list(WS).map((r) => r.name)).toEqual(['live']);
    const info = rooms.get(WS, 'live')!;
    expect(info).toMatchObject({ workspaceId: WS, name: 'live', state: 'started', createdAt: at, startedAt: at, recording: false });
    expect(info.participants).toEqual([
      { callId: 'live-a', caller: '+254744000001', muted: false, hold: false, startOnEnter: true, endOnExit: true, joinedAt: at },
      { callId: 'live-b', caller: '+254744000002', muted: false, hold: false, startOnEnter: false, endOnExit: false, joinedAt: at },
    ]);
    // Same name, other workspace: another room.
    expect(rooms.get('ws_other', 'live')?.participants.map((p) => p.callId)).toEqual(['live-x']);
    expect(rooms.get('ws_other', 'live')?.id).not.toBe(info.id);

    expect(rooms.setMuted(WS, 'live', 'live-b', true)).toBe(true);
    expect(rooms.setMuted(WS, 'live', 'live-b', true)).toBe(true); // no change, no event
    expect(rooms.setMuted(WS, 'live', 'live-b', false)).toBe(true);
    expect(rooms.setHold(WS, 'live', 'live-b', true)).toBe(true);
    expect(rooms.get(WS, 'live')?.participants[1]).toMatchObject({ muted: false, hold: true });
    expect(rooms.setMuted(WS, 'live', 'nobody', true)).toBe(false);
    expect(rooms.setHold(WS, 'nowhere', 'live-b', true)).toBe(false);
    expect(rooms.kick('ws_other', 'nowhere', 'live-a')).toBe(false);
    await expect(rooms.end(WS, 'nowhere')).resolves.toBe(false);

    expect(rooms.kick(WS, 'live', 'live-b')).toBe(true);
    expect(await leftB).toBe('kicked');
    expect(log.summary('live').filter((e) => !e.startsWith('join') && !e.startsWith('start'))).toEqual([
      'mute:live-b:2',
      'unmute:live-b:2',
      'leave:live-b:1',
    ]);
    expect(log.events.find((e) => e.type === 'mute')).toMatchObject({ muted: true, caller: '+254744000002' });
    expect(log.events.find((e) => e.type === 'unmute')).toMatchObject({ muted: false });

    await rooms.close();
    await rooms.close(); // idempotent
    expect(await Promise.all([leftA, leftX])).toEqual(['room-ended', 'room-ended']);
    expect(rooms.roomCount).toBe(0);
    await expect(rooms.join({ ...base, callId: 'live-a', caller: '+254744000001', endpoint: a.leg })).resolves.toBe('aborted');
  });

  it('an emptied room ends and its name makes a new room; aborted and hung-up legs never enter', async () => {
    const log = new EventLog();
    const rooms = manager(log);
    const [a, gone] = await Promise.all([caller('empty-a'), caller('empty-gone')]);
    const stop = new AbortController();
    const first = rooms.join({ workspaceId: WS, name: 'again', callId: 'empty-a', caller: '+254755000001', endpoint: a.leg, signal: stop.signal });
    const firstId = rooms.get(WS, 'again')!.id;
    stop.abort();
    expect(await first).toBe('aborted');
    expect(rooms.roomCount).toBe(0);
    expect(log.summary('again')).toEqual(['join:empty-a:1', 'start::1', 'leave:empty-a:0', 'end::0']);

    const again = rooms.join({ workspaceId: WS, name: 'again', callId: 'empty-a', caller: '+254755000001', endpoint: a.leg });
    expect(rooms.get(WS, 'again')!.id).not.toBe(firstId);
    await expect(rooms.join({ workspaceId: WS, name: 'again', callId: 'empty-a', caller: '+254755000001', endpoint: a.leg })).rejects.toThrow(/already in/);

    await expect(rooms.join({ workspaceId: WS, name: 'again', callId: 'x', caller: '+1', endpoint: a.leg, signal: AbortSignal.abort() })).resolves.toBe('aborted');
    await gone.leg.close();
    await expect(rooms.join({ workspaceId: WS, name: 'again', callId: 'empty-gone', caller: '+1', endpoint: gone.leg })).resolves.toBe('hangup');
    expect(rooms.get(WS, 'again')?.participants).toHaveLength(1);

    await a.leg.close();
    expect(await again).toBe('hangup');
    expect(rooms.roomCount).toBe(0);
  });

  it('reports the digits a participant presses when collectDigits is set', async () => {
    const log = new EventLog();
    const rooms = manager(log);
    const [a, b] = await Promise.all([caller('dtmf-a'), caller('dtmf-b')]);
    const pairs: string[] = [];
    const keys: string[] = [];
    const base = { workspaceId: WS, name: 'keys', beep: false, collectDigits: true };
    const left = [
      rooms.join({ ...base, callId: 'dtmf-a', caller: '+254766000001', endpoint: a.leg, numDigits: 2, finishOnKey: '#', onDigits: (d) => pairs.push(d) }),
      rooms.join({ ...base, callId: 'dtmf-b', caller: '+254766000002', endpoint: b.leg, onDigits: (d) => keys.push(d) }),
    ];
    await a.phone.sendDtmf('123#');
    await b.phone.sendDtmf('45');
    await delay(200);
    expect(pairs).toEqual(['12', '3']);
    expect(keys).toEqual(['4', '5']);
    await rooms.end(WS, 'keys');
    expect(await Promise.all(left)).toEqual(['room-ended', 'room-ended']);
    // Out of the room, keys are no longer reported.
    await a.phone.sendDtmf('9');
    await delay(150);
    expect(pairs).toEqual(['12', '3']);
  });

  it('an onEvent handler may act on the room at once (kick on join, end on start)', async () => {
    const seen: string[] = [];
    const rooms: ConferenceManager = new ConferenceManager({
      media: engine,
      onEvent: (e) => {
        seen.push(`${e.type}:${e.callId ?? ''}`);
        if (e.type === 'join' && e.callId === 'bounce') rooms.kick(WS, e.room, 'bounce');
        if (e.type === 'start' && e.room === 'short') void rooms.end(WS, e.room);
      },
    });
    const [a, b] = await Promise.all([caller('bounce'), caller('short-a')]);
    await expect(rooms.join({ workspaceId: WS, name: 'bouncy', callId: 'bounce', caller: '+1', endpoint: a.leg, record: true })).resolves.toBe('kicked');
    await expect(rooms.join({ workspaceId: WS, name: 'short', callId: 'short-a', caller: '+1', endpoint: b.leg, record: true })).resolves.toBe('room-ended');
    await delay(50);
    expect(rooms.roomCount).toBe(0);
    expect(seen).toEqual(['join:bounce', 'leave:bounce', 'end:', 'join:short-a', 'start:', 'leave:short-a', 'end:']);
  });

  it('roomStateMachine allows waiting → started → ended and waiting → ended only', () => {
    const m = new RoomStateMachine();
    expect(m.state).toBe('waiting');
    expect(m.can('ended')).toBe(true);
    m.transition('started');
    expect(() => m.transition('waiting')).toThrow(/from started to waiting/);
    m.transition('ended');
    expect(() => m.transition('started')).toThrow(/from ended to started/);
    const n = new RoomStateMachine();
    n.transition('ended');
    expect(n.state).toBe('ended');
  });

  it('a throwing onEvent does not break the room', async () => {
    const events: ConferenceEvent['type'][] = [];
    const rooms = new ConferenceManager({
      media: engine,
      onEvent: (e) => {
        events.push(e.type);
        throw new Error('subscriber bug');
      },
    });
    const a = await caller('throw-a');
    const left: Promise<LeaveReason> = rooms.join({ workspaceId: WS, name: 'throws', callId: 'throw-a', caller: '+1', endpoint: a.leg, beep: false });
    await rooms.end(WS, 'throws');
    expect(await left).toBe('room-ended');
    expect(events).toEqual(['join', 'start', 'leave', 'end']);
  });
});
