import type { RequestListener } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conferenceEvents, createApp, dialParticipant, type ConferenceEventRecord } from '../../examples/conference/server.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';
import { balanceCents, cents, finishedCall, priceCents, sandboxReport, serveExample, setPhone, wavInfo, type RunningApp } from './helpers.js';

/** examples/conference (page 003): a waiting room, a dialled-out participant, the host, a full room, recording. */
describe('examples/conference', () => {
  let api: TestApi;
  let app: RunningApp;
  let events: ConferenceEventRecord[];
  let guestLine: { id: string; number: string };
  let hostLine: { id: string; number: string };
  const room = async () => (await api.call('GET', '/v1/conferences/meeting-99')).json();
  const sandboxCall = async (from: string, to: string) => (await api.call('POST', '/v1/sandbox/calls', { body: { from, to, max_duration: 40 } })).json();

  beforeAll(async () => {
    api = await startTestApi('sqlite', { flags: { 'webhook-retry-schedule': '0,1,1,1,1,1,1,1' } });
    app = await serveExample((url) => {
      const express = createApp({ publicUrl: url, sautikitUrl: api.platform.httpUrl, apiKey: api.credentials.api_key, signingSecret: api.credentials.signing_secret, maxParticipants: 4, record: true, log: () => undefined });
      events = conferenceEvents(express);
      return express as unknown as RequestListener;
    });
    // Two numbers: the dial-in line and the host's line (the routing_url's query string is kept).
    guestLine = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: `${app.url}/conference/join?room=meeting-99` } })).json();
    hostLine = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: `${app.url}/conference/join?room=meeting-99&host=1` } })).json();
    await setPhone(api, '+254733000001', { answer: 'immediately' });
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await api?.close();
  });

  it('guests wait, a dialled participant joins, the host starts and records the room, a fifth caller is turned away, the host leaving ends it', async () => {
    const before = await balanceCents(api);
    const guest1 = await sandboxCall('+254711000301', guestLine.number);
    await until(async () => (await room()).participant_count === 1);
    expect(await room()).toMatchObject({ state: 'waiting' });

    // The page's curl as a function: dial +254733000001 into meeting-99.
    const dialled = await dialParticipant({ sautikitUrl: api.platform.httpUrl, apiKey: api.credentials.api_key, publicUrl: app.url, from: guestLine.number, to: '+254733000001', room: 'meeting-99' });
    await until(async () => (await room()).participant_count === 2);

    const host = await sandboxCall('+254711000300', hostLine.number);
    await until(async () => (await room()).state === 'started');
    const guest2 = await sandboxCall('+254711000302', guestLine.number);
    await until(async () => (await room()).participant_count === 4);

    // Room full (4): the webhook answers Say + Hangup instead of a join.
    const late = await sandboxCall('+254711000303', guestLine.number);
    const lateReport = await sandboxReport(api, late.id);
    expect(lateReport).toMatchObject({ status: 'completed', hangup_by: 'platform' });
    expect(lateReport.audio_seconds_heard).toBeGreaterThan(0.5);

    // Mute and unmute a guest through the API.
    await api.call('PATCH', `/v1/conferences/meeting-99/participants/${guest1.call_id}`, { body: { muted: true } });
    await api.call('PATCH', `/v1/conferences/meeting-99/participants/${guest1.call_id}`, { body: { muted: false } });
    await until(async () => events.some((e) => e.StatusCallbackEvent === 'unmute'));

    // The host hangs up: endOnExit ends the room for everyone.
    expect((await api.call('PATCH', `/v1/calls/${host.call_id}`, { body: { status: 'completed' } })).statusCode).toBe(200);
    await until(async () => events.some((e) => e.StatusCallbackEvent === 'end'));
    const guestReport = await sandboxReport(api, guest1.id);
    expect(guestReport).toMatchObject({ status: 'completed', hangup_by: 'platform' });
    // The greeting, the app's hold music (its waitUrl), the room; a beep when guest 2 joined.
    expect(guestReport.audio_seconds_heard).toBeGreaterThan(2);
    expect(guestReport.beeps_heard).toBeGreaterThanOrEqual(1);
    expect(app.on('/hold-music').length).toBeGreaterThan(0);
    expect(app.on('/hold-music').every((r) => r.method === 'GET' && r.status === 200)).toBe(true);

    // The webhook: host flag from the query string, the late caller turned away before joining.
    const joins = app.on('/conference/join');
    expect(joins.map((r) => [r.body.CallId, r.query.get('room'), r.query.get('host')])).toEqual([
      [guest1.call_id, 'meeting-99', null], [dialled.id, 'meeting-99', null], [host.call_id, 'meeting-99', '1'], [guest2.call_id, 'meeting-99', null], [late.call_id, 'meeting-99', null],
    ]);
    expect(joins[1]!.body).toMatchObject({ Direction: 'outbound', To: '+254733000001' });

    // Events, as the page's handler reads them (ConferenceName, StatusCallbackEvent, CallId).
    expect(events.every((e) => e.ConferenceName === 'meeting-99' && e.fields.conference_name === 'meeting-99' && e.fields.event === e.StatusCallbackEvent)).toBe(true);
    const seq = events.map((e) => [e.StatusCallbackEvent, e.CallId ?? null]);
    expect(seq.slice(0, 4)).toEqual([['join', guest1.call_id], ['join', dialled.id], ['join', host.call_id], ['start', null]]);
    expect(seq).toContainEqual(['join', guest2.call_id]);
    expect(seq).toContainEqual(['mute', guest1.call_id]);
    expect(seq).toContainEqual(['unmute', guest1.call_id]);
    expect(seq.some(([, id]) => id === late.call_id)).toBe(false);
    expect(seq.filter(([name]) => name === 'leave')).toHaveLength(4);
    const end = events.at(-1)!;
    expect(end.StatusCallbackEvent).toBe('end');
    expect(end.fields).toMatchObject({ participants: 0, recording_url: expect.stringMatching(/\/v1\/recordings\/rec_\w+\/audio$/) });

    // The host's join asked for the recording: an 8 kHz mono WAV of the room.
    const wav = await api.call('GET', `/v1/calls/${host.call_id}/recording`);
    expect(wav.statusCode).toBe(200);
    expect(wavInfo(wav.rawPayload)).toMatchObject({ riff: 'RIFF', wave: 'WAVE', channels: 1, sampleRate: 8000, bitsPerSample: 16 });

    // Each leg billed on its own: inbound at KES 0.50/min, the dialled Airtel number at KES 3.00/min.
    const inRoom = (await api.call('GET', '/v1/calls?conference=meeting-99')).json().map((c: { id: string }) => c.id).sort();
    expect(inRoom).toEqual([guest1.call_id, dialled.id, host.call_id, guest2.call_id].sort());
    const cdrs = await Promise.all([guest1.call_id, guest2.call_id, host.call_id, late.call_id, dialled.id].map((id) => finishedCall(api, id)));
    for (const cdr of cdrs.slice(0, 4)) {
      expect(cdr).toMatchObject({ direction: 'inbound', status: 'completed', rate_per_minute: '0.50', errors: [] });
      expect(cents(cdr.price)).toBe(priceCents(cdr.duration_seconds, 50));
    }
    expect(cdrs[4]).toMatchObject({ direction: 'outbound', to: '+254733000001', rate_per_minute: '3.00', hangup_by: 'system' });
    expect(cents(cdrs[4].price)).toBe(priceCents(cdrs[4].duration_seconds, 300));
    const recordingCharge = await until(async () => (await api.call('GET', '/v1/wallet/transactions?limit=20')).json().find((t: { type: string }) => t.type === 'recording_charge'));
    const debited = cdrs.reduce((sum, c) => sum + cents(c.price), 0) - cents(recordingCharge.amount);
    expect(before - (await balanceCents(api))).toBe(debited);
  }, 60_000);

  // Pages 001 and 003 read `const { ConferenceName, StatusCallbackEvent, CallId } = req.body` and
  // `const { event, conference_name, caller, participants } = req.body`: the fields are at the top level.
  it('conference status events carry ConferenceName / StatusCallbackEvent / event at the top level of the body', () => {
    const raw = app.on('/conference/events');
    expect(raw.length).toBeGreaterThan(0);
    for (const r of raw) expect(r.body).toMatchObject({ ConferenceName: 'meeting-99', StatusCallbackEvent: expect.any(String), event: expect.any(String) });
  });
});
