import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { toneWav } from '../helpers/wav.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';


/** The conference page: a participant waits, the host starts the room, the host leaving ends it. */
describe('conference calling, end to end with sandbox phones', () => {
  let api: TestApi;
  let app: HttpReceiver;
  const host = '+254711000010';

  beforeAll(async () => {
    api = await startTestApi('sqlite', { flags: { 'webhook-retry-schedule': '0,1,1,1,1,1,1,1' } });
    app = await HttpReceiver.start();
    app.respond = (req) => {
      if (req.url.startsWith('/conference/join')) {
        const isHost = req.json.From === host;
        return { status: 200, body: JSON.stringify({ actions: [
          { conference: { name: 'meeting-99', startOnEnter: isHost, endOnExit: isHost, beep: true, maxParticipants: 10, record: isHost,
            statusEventsCallbackUrl: `${app.url}/conference/events`, statusEvents: 'start end join leave mute unmute' } },
          { say: { text: 'The meeting has ended.' } },
        ] }) };
      }
      return { status: 204 };
    };
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await api?.close();
  });

  it('waits, starts on the host, mutes by API, ends when the host leaves; events carry both spellings; the room is recorded', async () => {
    const number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: `${app.url}/conference/join` } })).json();
    const guest = (await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000020', to: number.number, max_duration: 40 } })).json();
    await until(async () => (await api.call('GET', '/v1/conferences/meeting-99')).json().participant_count === 1);
    expect((await api.call('GET', '/v1/conferences/meeting-99')).json()).toMatchObject({ name: 'meeting-99', state: 'waiting' });

    const hostCall = (await api.call('POST', '/v1/sandbox/calls', { body: { from: host, to: number.number, script: [{ wait: 4 }, { hangup: true }], max_duration: 40 } })).json();
    await until(async () => (await api.call('GET', '/v1/conferences/meeting-99')).json().state === 'started');
    const participants = (await api.call('GET', '/v1/conferences/meeting-99/participants')).json();
    expect(participants).toEqual(expect.arrayContaining([
      expect.objectContaining({ call_id: guest.call_id, start_on_enter: false, end_on_exit: false, muted: false }),
      expect.objectContaining({ call_id: hostCall.call_id, start_on_enter: true, end_on_exit: true }),
    ]));
    const muted = await api.call('PATCH', `/v1/conferences/meeting-99/participants/${guest.call_id}`, { body: { muted: true } });
    expect(muted.json()).toMatchObject({ call_id: guest.call_id, muted: true });
    expect((await api.call('PATCH', `/v1/calls/${guest.call_id}`, { body: { muted: false } })).statusCode).toBe(200);

    // The host hangs up after 4 s: the room ends and the guest goes on to "The meeting has ended." then the platform hangs up.
    const guestReport = await until(async () => {
      const r = (await api.call('GET', `/v1/sandbox/calls/${guest.id}`)).json();
      return r.ended_at ? r : undefined;
    }, 40_000);
    expect(guestReport).toMatchObject({ status: 'completed', hangup_by: 'platform' });
    expect(guestReport.beeps_heard).toBeGreaterThanOrEqual(1);

    await app.waitFor((reqs) => reqs.some((r) => r.url === '/conference/events' && r.json?.data?.event === 'end'), 15_000);
    const events = app.requests.filter((r) => r.url === '/conference/events').map((r) => r.json);
    const names = events.map((e) => e.data.event);
    expect(names[0]).toBe('join');
    expect(names).toEqual(expect.arrayContaining(['join', 'start', 'mute', 'unmute', 'leave', 'end']));
    expect(names.indexOf('start')).toBeLessThan(names.indexOf('end'));
    const join = events.find((e) => e.data.event === 'join' && e.data.call_id === hostCall.call_id)!;
    expect(join).toMatchObject({ type: 'conference.join', data: {
      event: 'join', StatusCallbackEvent: 'join', conference_name: 'meeting-99', ConferenceName: 'meeting-99',
      call_id: hostCall.call_id, CallId: hostCall.call_id, caller: host, participants: 2, muted: false, timestamp: expect.any(String),
    } });
    const end = events.find((e) => e.data.event === 'end')!;
    expect(end.data).toMatchObject({ participants: 0, recording_url: expect.stringMatching(/\/v1\/recordings\/rec_\w+\/audio$/) });

    const recording = await api.app.inject({ method: 'GET', url: new URL(end.data.recording_url).pathname, headers: { authorization: `Bearer ${api.credentials.api_key}` } });
    expect(recording.statusCode).toBe(200);
    expect(recording.rawPayload.subarray(0, 4).toString()).toBe('RIFF');
    const hostRecording = await api.call('GET', `/v1/calls/${hostCall.call_id}/recording`);
    expect(hostRecording.statusCode).toBe(200);

    // Both legs billed as calls, conference time included; both filed under the room.
    const calls = (await api.call('GET', '/v1/calls?conference=meeting-99')).json();
    expect(calls.map((c: { id: string }) => c.id).sort()).toEqual([guest.call_id, hostCall.call_id].sort());
    const guestCdr = await until(async () => {
      const c = (await api.call('GET', `/v1/calls/${guest.call_id}`)).json();
      return c.price !== null ? c : undefined;
    });
    expect(guestCdr.duration_seconds).toBeGreaterThanOrEqual(4);
    expect((await api.call('GET', '/v1/conferences?status=active')).json()).toEqual([]);

    // The timelines (SPEC §14): each call joined and left the room; the room's recording is on the call it is filed under.
    const timeline = async (id: string) => (await api.call('GET', `/v1/calls/${id}/timeline`)).json().data as Array<{ type: string; [k: string]: unknown }>;
    const [guestTimeline, hostTimeline] = [await timeline(guest.call_id), await timeline(hostCall.call_id)];
    expect(guestTimeline.filter((e) => e.type === 'conference').map((e) => [e['event'], e['room']])).toEqual([['join', 'meeting-99'], ['leave', 'meeting-99']]);
    expect(hostTimeline.filter((e) => e.type === 'conference').map((e) => e['event'])).toEqual(['join', 'leave']);
    expect([...guestTimeline, ...hostTimeline].filter((e) => e.type === 'recording')).toEqual([expect.objectContaining({ room: 'meeting-99', url: end.data.recording_url })]);
  }, 60_000);

  it('maxParticipants: 2 — the third caller is skipped with a full event and runs the next action', async () => {
    app.respond = (req) => req.url.startsWith('/small')
      ? { status: 200, body: JSON.stringify([{ conference: { name: 'tiny', maxParticipants: 2, statusEventsCallbackUrl: `${app.url}/tiny-events`, statusEvents: 'full join' } }, { say: { text: 'The room is full.' } }, { hangup: {} }]) }
      : { status: 204 };
    const number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: `${app.url}/small` } })).json();
    const first = (await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000030', to: number.number, max_duration: 20 } })).json();
    await until(async () => (await api.call('GET', '/v1/conferences/tiny')).json().participant_count === 1);
    const second = (await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000031', to: number.number, max_duration: 20 } })).json();
    await until(async () => (await api.call('GET', '/v1/conferences/tiny')).json().participant_count === 2);
    const third = (await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000033', to: number.number, max_duration: 20 } })).json();
    const report = await until(async () => {
      const r = (await api.call('GET', `/v1/sandbox/calls/${third.id}`)).json();
      return r.ended_at ? r : undefined;
    }, 30_000);
    // The third caller heard "The room is full." and was hung up by the platform.
    expect(report).toMatchObject({ status: 'completed', hangup_by: 'platform' });
    expect(report.audio_seconds_heard).toBeGreaterThan(0.5);
    await app.waitFor((reqs) => reqs.some((r) => r.url === '/tiny-events' && r.json?.event === 'full'));
    expect(app.requests.find((r) => r.url === '/tiny-events' && r.json.event === 'full')!.json).toMatchObject({ call_id: third.call_id, conference_name: 'tiny', participants: 2 });
    expect((await api.call('GET', '/v1/conferences/tiny/participants')).json().map((p: { call_id: string }) => p.call_id).sort()).toEqual([first.call_id, second.call_id].sort());
    expect((await api.call('DELETE', `/v1/conferences/tiny/participants/${first.call_id}`)).statusCode).toBe(204);
    const kicked = await until(async () => {
      const c = (await api.call('GET', `/v1/calls/${first.call_id}`)).json();
      return c.price !== null ? c : undefined;
    });
    expect(kicked).toMatchObject({ status: 'completed', hangup_by: 'api' });
    await api.call('POST', '/v1/conferences/tiny/end');
  }, 60_000);

  it('a waitUrl that answers voice actions is played, looped, to those waiting', async () => {
    app.respond = (req) => {
      if (req.url.startsWith('/waiting-room')) return { status: 200, body: JSON.stringify([{ conference: { name: 'lobby', startOnEnter: false, waitUrl: `${app.url}/hold-actions` } }]) };
      if (req.url === '/hold-actions') return { status: 200, body: JSON.stringify([{ play: { url: `${app.url}/chime.wav` } }, { pause: { length: 1 } }]) };
      if (req.url === '/chime.wav') return { status: 200, contentType: 'audio/wav', body: toneWav(1000, 0.5) };
      return { status: 204 };
    };
    const number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: `${app.url}/waiting-room` } })).json();
    const placed = (await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000032', to: number.number, script: [{ wait: 4 }, { hangup: true }], max_duration: 20 } })).json();
    const report = await until(async () => {
      const r = (await api.call('GET', `/v1/sandbox/calls/${placed.id}`)).json();
      return r.ended_at ? r : undefined;
    }, 30_000);
    // 0.5 s chime + 1 s pause, looped: at least two chimes in four seconds.
    expect(report.beeps_heard).toBeGreaterThanOrEqual(2);
    expect(app.requests.find((r) => r.url === '/hold-actions' && r.method === 'POST')!.json).toMatchObject({ CallId: placed.call_id, To: number.number });
  }, 60_000);
});
