import type { RequestListener } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callCenterState, createApp, type CallCenterState } from '../../examples/call-center/server.js';
import { conferenceRoomName } from '../../examples/call-center/support-conference.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';
import { balanceCents, cents, finishedCall, priceCents, sandboxReport, serveExample, setPhone, wavInfo, type RunningApp } from './helpers.js';

/** examples/call-center, page 001: hold room → agent → warm transfer → muted supervisor → recording. */
describe('examples/call-center: the conference call center (page 001)', () => {
  let api: TestApi;
  let app: RunningApp;
  let state: CallCenterState;
  let number: { id: string; number: string };
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${app.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: await res.json() as any };
  };
  const room = async (name: string) => (await api.call('GET', `/v1/conferences/${name}`)).json();

  beforeAll(async () => {
    api = await startTestApi('sqlite', { flags: { 'webhook-retry-schedule': '0,1,1,1,1,1,1,1' } });
    number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470' } })).json();
    app = await serveExample((url) => {
      const express = createApp({ publicUrl: url, sautikitUrl: api.platform.httpUrl, apiKey: api.credentials.api_key, number: number.number, signingSecret: api.credentials.signing_secret, log: () => undefined });
      state = callCenterState(express);
      return express as unknown as RequestListener;
    });
    await api.call('PATCH', `/v1/numbers/${number.id}`, { body: { routing_url: `${app.url}/support/inbound` } });
    // Agent 1 presses 1 (mute the caller) then 2 (unmute) on the keypad once in the room.
    await setPhone(api, '+254722111111', { answer: 'immediately', script: [{ wait: 5 }, { press: '1' }, { wait: 1 }, { press: '2' }] });
    for (const phone of ['+254722111112', '+254722111113']) await setPhone(api, phone, { answer: 'immediately' });
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await api?.close();
  });

  it('the caller holds, agent 1 starts the room, agent 2 is warm-transferred in, the supervisor listens muted, agent 1 mutes the caller from the keypad; agent 1 leaves and the room survives', async () => {
    const before = await balanceCents(api);
    const customer = (await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000201', to: number.number, max_duration: 45 } })).json();
    const name = conferenceRoomName(customer.call_id);
    expect(name).toBe(`support-${customer.call_id.slice(-8)}`);
    await until(async () => (await room(name)).participant_count === 1);
    expect(await room(name)).toMatchObject({ state: 'waiting' });

    // The back office assigns agent 1: the page's originate body.
    const agent1 = (await post('/support/assign', { room: name, agentNumber: '+254722111111' })).json.call_id as string;
    await until(async () => (await room(name)).state === 'started');
    const [agent2, supervisor] = await Promise.all([
      post('/support/warm-transfer', { room: name, agentNumber: '+254722111112' }).then((r) => r.json.call_id as string),
      post('/support/supervise', { room: name, supervisorNumber: '+254722111113' }).then((r) => r.json.call_id as string),
    ]);
    await until(async () => (await room(name)).participant_count === 4);
    const participants = (await api.call('GET', `/v1/conferences/${name}/participants`)).json();
    const byId = (id: string) => participants.find((p: { call_id: string }) => p.call_id === id);
    expect(byId(customer.call_id)).toMatchObject({ start_on_enter: false, end_on_exit: true, muted: false });
    expect(byId(agent1)).toMatchObject({ start_on_enter: true, end_on_exit: true, muted: false });
    expect(byId(agent2)).toMatchObject({ start_on_enter: true, end_on_exit: false, muted: false });
    expect(byId(supervisor)).toMatchObject({ start_on_enter: false, muted: true });
    expect(app.on('/agent-voice').map((r) => [r.query.get('room'), r.query.get('transfer'), r.body.CallId])).toEqual(expect.arrayContaining([[name, null, agent1], [name, '1', agent2]]));

    // Agent 1's keypad muted and unmuted the caller (collectDigits → /dtmf → PATCH participant).
    await until(async () => state.conferenceEvents.some((e) => e.event === 'unmute' && e.call_id === customer.call_id));
    expect(app.on('/dtmf').map((r) => [r.body.CallId, r.body.ConferenceName, r.body.Digits])).toEqual([[agent1, name, '1'], [agent1, name, '2']]);
    expect(state.conferenceEvents.filter((e) => e.call_id === customer.call_id && (e.event === 'mute' || e.event === 'unmute')).map((e) => [e.event, e.muted]))
      .toEqual([['mute', true], ['unmute', false]]);

    // Agent 1 finishes the handoff and hangs up: agent 2 and the caller carry on.
    expect((await api.call('PATCH', `/v1/calls/${agent1}`, { body: { status: 'completed' } })).statusCode).toBe(200);
    await until(async () => state.conferenceEvents.some((e) => e.event === 'leave' && e.call_id === agent1));
    expect(await room(name)).toMatchObject({ state: 'started', participant_count: 3 });

    // The caller hangs up: the last endOnExit participant leaves, the room ends and everyone else is hung up.
    expect((await api.call('PATCH', `/v1/calls/${customer.call_id}`, { body: { status: 'completed' } })).statusCode).toBe(200);
    await until(async () => state.conferenceEvents.some((e) => e.conference_name === name && e.event === 'end'));
    const events = state.conferenceEvents.filter((e) => e.conference_name === name);
    const names = events.map((e) => e.event);
    expect(names.slice(0, 3)).toEqual(['join', 'join', 'start']);
    expect(names.at(-1)).toBe('end');
    expect(names.filter((n) => n === 'join')).toHaveLength(4);
    expect(names.filter((n) => n === 'leave')).toHaveLength(4);
    expect(events.find((e) => e.event === 'join' && e.call_id === supervisor)).toMatchObject({ muted: true, caller: '+254722111113', participants: expect.any(Number) });
    expect(events.find((e) => e.event === 'leave' && e.call_id === agent1)).toMatchObject({ participants: 3, caller: '+254722111111' });
    const end = events.at(-1)!;
    expect(end).toMatchObject({ participants: 0, recording_url: expect.stringMatching(/\/v1\/recordings\/rec_\w+\/audio$/) });
    // Both spellings on every event.
    expect(events.every((e) => e.StatusCallbackEvent === e.event && e.ConferenceName === name)).toBe(true);

    // The customer heard the greeting, the hold music and the agents' beeps.
    const report = await sandboxReport(api, customer.id);
    expect(report.audio_seconds_heard).toBeGreaterThan(2);
    expect(report.beeps_heard).toBeGreaterThanOrEqual(1);

    // The recording, filed on the first leg that asked for it (agent 1), downloadable as a WAV.
    const recording = await api.call('GET', `/v1/calls/${agent1}/recording`);
    expect(recording.statusCode).toBe(200);
    expect(recording.headers['content-type']).toContain('audio/wav');
    expect(wavInfo(recording.rawPayload)).toMatchObject({ riff: 'RIFF', wave: 'WAVE', channels: 1, sampleRate: 8000, bitsPerSample: 16 });
    expect(wavInfo(recording.rawPayload).dataBytes).toBeGreaterThan(8000 * 2);

    // Every leg billed on its own; the wallet paid the calls and the recording fee (KES 0.25/min).
    const cdrs = await Promise.all([customer.call_id, agent1, agent2, supervisor].map((id) => finishedCall(api, id)));
    const [customerCdr, ...agentCdrs] = cdrs;
    expect(customerCdr).toMatchObject({ direction: 'inbound', status: 'completed', conference: name, rate_per_minute: '0.50', hangup_by: 'api' });
    expect(cents(customerCdr.price)).toBe(priceCents(customerCdr.duration_seconds, 50));
    for (const cdr of agentCdrs) {
      expect(cdr).toMatchObject({ direction: 'outbound', status: 'completed', from: number.number, parent_call_id: null, conference: name, rate_per_minute: '3.50' });
      expect(cents(cdr.price)).toBe(priceCents(cdr.duration_seconds, 350));
    }
    expect(agentCdrs.map((c) => c.hangup_by)).toEqual(['api', 'system', 'system']);
    const recordings = (await api.call('GET', '/v1/recordings')).json();
    const rec = recordings.find((r: { url?: string; id: string }) => end.recording_url.includes(r.id));
    expect(rec).toBeDefined();
    const callCents = cdrs.reduce((sum, c) => sum + cents(c.price), 0);
    const recordingCharge = await until(async () => (await api.call('GET', '/v1/wallet/transactions?limit=20')).json()
      .find((t: { type: string; call_id: string }) => t.type === 'recording_charge' && t.call_id === agent1));
    // The fee is reckoned on the recording's reported length (whole seconds, rounded up).
    expect(-cents(recordingCharge.amount)).toBe(priceCents(rec.duration_seconds, 25));
    expect(before - (await balanceCents(api))).toBe(callCents - cents(recordingCharge.amount));
  }, 60_000);
});
