import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';
import { toneWav } from '../helpers/wav.js';

/**
 * The call-center pages with conferences: a caller waits in a hold room, an
 * agent dialled with POST /v1/calls/originate starts it, a muted supervisor
 * listens, a second agent takes over (warm transfer) and the room is
 * recorded. Who hears whom is checked with tones: 600 Hz stands for speech,
 * and 1000 Hz (which the sandbox phones count as beeps) is played only by
 * parties nobody may hear: the muted supervisor, and the caller once muted by API.
 */
describe('call center with conferences, end to end', () => {
  let api: TestApi;
  let app: HttpReceiver;
  const caller = '+254711000070';
  const agents = { one: '+254722100001', two: '+254722100002', supervisor: '+254722100003' };

  beforeAll(async () => {
    api = await startTestApi('sqlite', { flags: { 'webhook-retry-schedule': '0,1,1,1,1,1,1,1' } });
    app = await HttpReceiver.start();
    const events = { statusEventsCallbackUrl: '', statusEvents: 'start end join leave mute unmute' };
    app.respond = (req) => {
      const url = new URL(req.url, app.url);
      events.statusEventsCallbackUrl = `${app.url}/conference-events`;
      switch (url.pathname) {
        case '/silence.wav': return { status: 200, contentType: 'audio/wav', body: toneWav(0, 1) };
        case '/speech.wav': return { status: 200, contentType: 'audio/wav', body: toneWav(600, 1.5) };
        case '/secret.wav': return { status: 200, contentType: 'audio/wav', body: toneWav(1000, 1.5) };
        case '/calls/inbound': return { status: 200, body: JSON.stringify({ actions: [{ conference: {
          name: `queue-${req.json.CallId}`, startOnEnter: false, endOnExit: false, beep: false, waitUrl: `${app.url}/silence.wav`, ...events,
        } }] }) };
        case '/calls/agent-join': return { status: 200, body: JSON.stringify({ actions: [{ conference: {
          name: `queue-${url.searchParams.get('queue')}`, startOnEnter: true, endOnExit: true, beep: false, record: url.searchParams.get('record') === '1', ...events,
        } }] }) };
        case '/supervisor': return { status: 200, body: JSON.stringify({ actions: [{ conference: {
          name: `queue-${url.searchParams.get('queue')}`, muted: true, startOnEnter: false, beep: false,
        } }] }) };
        default: return { status: 204 };
      }
    };
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await api?.close();
  });

  it('hold queue → agent joins → supervisor listens → warm transfer → room ended and recorded', async () => {
    const number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: `${app.url}/calls/inbound` } })).json();
    const phone = (n: string, body: Record<string, unknown>) => api.call('PUT', `/v1/sandbox/phones/${encodeURIComponent(n)}`, { body: { answer: 'immediately', ...body } });
    await phone(agents.one, { script: [{ wait: 1 }, { play: `${app.url}/speech.wav` }], hangup_after: 9 });
    // Agent 2 speaks later than the caller, so the supervisor hears each side on its own.
    await phone(agents.two, { script: [{ wait: 6 }, { play: `${app.url}/speech.wav` }] });
    await phone(agents.supervisor, { script: [{ wait: 2 }, { play: `${app.url}/secret.wav` }] });

    const placed = (await api.call('POST', '/v1/sandbox/calls', { body: { from: caller, to: number.number, max_duration: 60,
      script: [{ wait: 5 }, { play: `${app.url}/speech.wav` }, { wait: 3 }, { play: `${app.url}/secret.wav` }, { wait: 30 }] } })).json();
    const room = `queue-${placed.call_id}`;
    await until(async () => (await api.call('GET', `/v1/conferences/${room}`)).statusCode === 200);
    // The page's curl: dial the agent, whose voice callback joins the room.
    const originate = (to: string, path: string) => api.call('POST', '/v1/calls/originate', { body: { to, from: number.number, voice_callback_url: `${app.url}${path}` } });
    expect((await originate(agents.one, `/calls/agent-join?queue=${placed.call_id}&record=1`)).statusCode).toBe(201);
    await until(async () => (await api.call('GET', `/v1/conferences/${room}`)).json().state === 'started');
    await originate(agents.supervisor, `/supervisor?queue=${placed.call_id}`);
    await originate(agents.two, `/calls/agent-join?queue=${placed.call_id}`);
    await until(async () => (await api.call('GET', `/v1/conferences/${room}/participants`)).json().length === 4);

    // After the caller's speech, mute the caller by API: its "secret" tone must reach nobody.
    await new Promise((r) => setTimeout(r, 4500));
    const muted = await api.call('PATCH', `/v1/conferences/${room}/participants/${placed.call_id}`, { body: { muted: true } });
    expect(muted.json()).toMatchObject({ muted: true });

    // Agent 1 hangs up (9 s after answering): the room goes on with the caller and agent 2.
    await app.waitFor((reqs) => reqs.some((r) => r.url === '/conference-events' && r.json.data.event === 'leave'), 20_000);
    const after = (await api.call('GET', `/v1/conferences/${room}`)).json();
    expect(after.state).toBe('started');
    const remaining = after.participants.map((p: { caller: string }) => p.caller).sort();
    expect(remaining).toEqual([caller, agents.two, agents.supervisor].sort());

    expect((await api.call('POST', `/v1/conferences/${room}/end`)).statusCode).toBe(200);
    await app.waitFor((reqs) => reqs.some((r) => r.url === '/conference-events' && r.json.data.event === 'end'), 20_000);

    const events = app.requests.filter((r) => r.url === '/conference-events').map((r) => r.json.data);
    const byCaller = (e: { caller?: string }) => e.caller;
    expect(events.slice(0, 3).map((e) => [e.event, byCaller(e)])).toEqual([['join', caller], ['join', agents.one], ['start', undefined]]);
    expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(['mute', 'leave', 'end']));
    const mute = events.find((e) => e.event === 'mute')!;
    expect(mute).toMatchObject({ StatusCallbackEvent: 'mute', conference_name: room, ConferenceName: room, call_id: placed.call_id, CallId: placed.call_id, muted: true });
    expect(events[events.length - 1]).toMatchObject({ event: 'end', participants: 0 });

    // What a dialled phone saw: its newest call, once ended.
    const reports = (n: string) => until(async () => {
      const [latest] = (await api.call('GET', `/v1/sandbox/phones/${encodeURIComponent(n)}/calls`)).json();
      return latest?.ended_at ? latest : undefined;
    }, 30_000);
    const callerReport = await until(async () => {
      const r = (await api.call('GET', `/v1/sandbox/calls/${placed.id}`)).json();
      return r.ended_at ? r : undefined;
    }, 30_000);
    const one = await reports(agents.one);
    const two = await reports(agents.two);
    const supervisor = await reports(agents.supervisor);
    // Caller and agents hear each other's speech; nobody hears the muted supervisor or the muted caller's tone.
    expect(callerReport.audio_seconds_heard).toBeGreaterThan(1);
    expect(one.audio_seconds_heard).toBeGreaterThan(1);
    expect(two.audio_seconds_heard).toBeGreaterThan(1);
    expect([callerReport.beeps_heard, one.beeps_heard, two.beeps_heard]).toEqual([0, 0, 0]);
    // The supervisor hears both sides.
    expect(supervisor.audio_seconds_heard).toBeGreaterThan(2.5);

    // The room's recording lasts as long as the room did (start → end).
    const start = events.find((e) => e.event === 'start')!;
    const end = events[events.length - 1]!;
    const roomSeconds = (Date.parse(end.timestamp) - Date.parse(start.timestamp)) / 1000;
    const wav = await api.app.inject({ method: 'GET', url: new URL(end.recording_url).pathname, headers: { authorization: `Bearer ${api.credentials.api_key}` } });
    const seconds = wav.rawPayload.readUInt32LE(40) / (2 * 8000);
    expect(Math.abs(seconds - roomSeconds)).toBeLessThan(1.5);
  }, 90_000);
});
