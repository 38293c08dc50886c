import type { RequestListener } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCRIPT } from '../../examples/ai-outbound/bridge.js';
import { placeLeadCall } from '../../examples/ai-outbound/place-call.js';
import { aiOutboundState, attachAiBridge, createApp, type AiOutboundState } from '../../examples/ai-outbound/server.js';
import { phoneCalls } from '../helpers/phone-calls.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';
import { balanceCents, cents, finishedCall, priceCents, serveExample, setPhone, type RunningApp } from './helpers.js';

/** examples/ai-outbound (page 002): POST /v1/calls → <Stream> to the bridge → hot lead → <Dial> a rep. */
describe('examples/ai-outbound', () => {
  let api: TestApi;
  let app: RunningApp;
  let state: AiOutboundState;
  let number: { id: string; number: string };
  const rep = '+254720000005';

  beforeAll(async () => {
    api = await startTestApi('sqlite', { flags: { 'webhook-retry-schedule': '0,1,1,1,1,1,1,1' } });
    let express: ReturnType<typeof createApp> | undefined;
    app = await serveExample((url) => {
      express = createApp({ publicUrl: url, repNumber: rep, signingSecret: api.credentials.signing_secret });
      state = aiOutboundState(express);
      return express as unknown as RequestListener;
    });
    // Two seconds of silence after a question is a spoken "yes" for the stand-in bot.
    attachAiBridge(express!, app.server, 2000);
    // The page: PATCH the from number's routing_url to the answer webhook.
    number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470' } })).json();
    await api.call('PATCH', `/v1/numbers/${number.id}`, { body: { routing_url: `${app.url}/ai/answer` } });
    await setPhone(api, rep, { answer: 'immediately', hangup_after: 2 });
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await api?.close();
  });

  const place = async (to: string, clientRequestId: string) => {
    const calls = await placeLeadCall({ sautikitUrl: api.platform.httpUrl, apiKey: api.credentials.api_key, to, from: number.number, clientRequestId });
    expect(calls).toEqual([expect.objectContaining({ id: expect.stringMatching(/^call_/), to, client_request_id: clientRequestId, direction: 'outbound' })]);
    return calls[0]!.id;
  };
  const streamEventsOf = (callId: string) => state.streamEvents.filter((e) => e.call_id === callId);

  it('hot lead by keypress: both tracks at 16 kHz to the bridge, barge-in, marks, then the rep is dialled on the same call', async () => {
    const lead = '+254712345678';
    await setPhone(api, lead, { answer: 'immediately', script: [{ wait_for_audio: 5 }, { wait: 1 }, { press: '1' }] });
    const before = await balanceCents(api);
    const callId = await place(lead, 'lead-42');

    const call = await finishedCall(api, callId, 40_000);
    const [legRow] = (await api.call('GET', `/v1/calls?parent_call_id=${callId}`)).json();
    expect(legRow).toBeDefined();
    const leg = await finishedCall(api, legRow.id);

    // The bridge: metadata frame, caller audio, the key, the barge-in and its marks.
    const seen = state.leads.get(callId);
    expect(seen.metadata).toMatchObject({ callId, callSid: callId, streamName: 'lead-qualifier', sampleRate: 16000, mixType: 'stereo', channels: 2, track: 'both_tracks', direction: 'outbound', to: lead, from: number.number });
    expect(seen.framesIn).toBeGreaterThan(50);
    expect(seen.digits).toEqual(['1']);
    expect(seen).toMatchObject({ hot: true, answers: [{ step: 0, text: 'pressed 1: yes' }], said: [SCRIPT[0], 'Great, let me connect you to a specialist now.'] });
    expect(seen.marks).toEqual(['m1:cleared', 'm2:playout']);

    // The webhooks: answer, then after-stream once the socket closed; stream status events.
    expect(app.on('/ai/answer')[0]?.body).toMatchObject({ CallId: callId, Direction: 'outbound', From: number.number, To: lead });
    expect(app.on('/ai/after-stream').filter((r) => r.body.CallId === callId)).toHaveLength(1);
    await until(async () => streamEventsOf(callId).some((e) => e.event === 'stream-stopped'));
    const [started, stopped] = streamEventsOf(callId);
    expect(started).toMatchObject({ event: 'stream-started', stream_name: 'lead-qualifier', protocol: 'audio.drachtio.org' });
    expect(stopped).toMatchObject({ event: 'stream-stopped', closed_by: 'server' });
    expect(stopped!.frames_sent).toBeGreaterThan(50);
    expect(stopped!.frames_received).toBe(2);

    // The warm transfer: a child leg to the rep with the number as caller ID; both legs billed at Safaricom's rate.
    expect(leg).toMatchObject({ direction: 'outbound', status: 'completed', to: rep, from: number.number, parent_call_id: callId, rate_per_minute: '3.50', hangup_by: 'callee' });
    expect(call).toMatchObject({ direction: 'outbound', status: 'completed', to: lead, rate_per_minute: '3.50', client_request_id: 'lead-42' });
    expect(call.duration_seconds).toBeGreaterThan(leg.duration_seconds);
    expect(cents(call.price)).toBe(priceCents(call.duration_seconds, 350));
    expect(cents(leg.price)).toBe(priceCents(leg.duration_seconds, 350));
    expect(before - (await balanceCents(api))).toBe(cents(call.price) + cents(leg.price));

    // The lead heard the bot: part of the first question (cut by the keypress) and the transfer line.
    const [heard] = await phoneCalls(api, lead);
    expect(heard).toMatchObject({ call_id: callId, status: 'completed' });
    expect(heard.audio_seconds_heard).toBeGreaterThan(2.5);
  }, 60_000);

  it('hot lead by the stand-in\'s timer (silence after the question): transferred too', async () => {
    const lead = '+254712345679';
    await setPhone(api, lead, { answer: 'immediately' });
    const callId = await place(lead, 'lead-43');
    await finishedCall(api, callId, 40_000);
    const seen = state.leads.get(callId);
    expect(seen).toMatchObject({ hot: true, digits: [], answers: [{ step: 0, text: '(spoken) yes, we are ready to buy' }] });
    expect(seen.marks).toEqual(['m1:playout', 'm2:playout']);
    const legs = (await api.call('GET', `/v1/calls?parent_call_id=${callId}`)).json();
    expect(legs).toEqual([expect.objectContaining({ to: rep, status: 'completed' })]);
    const [heard] = await phoneCalls(api, lead);
    // The whole first question (3 s) and the transfer line.
    expect(heard.audio_seconds_heard).toBeGreaterThan(4.5);
  }, 60_000);

  it('cold lead (9: not interested): a polite close, no rep leg, the call ends', async () => {
    const lead = '+254712345670';
    await setPhone(api, lead, { answer: 'immediately', script: [{ wait_for_audio: 5 }, { press: '9' }] });
    const callId = await place(lead, 'lead-44');
    const call = await finishedCall(api, callId, 40_000);
    expect(call).toMatchObject({ status: 'completed', hangup_by: 'system' });
    expect(cents(call.price)).toBe(priceCents(call.duration_seconds, 350));
    const seen = state.leads.get(callId);
    expect(seen).toMatchObject({ hot: false, digits: ['9'], said: [SCRIPT[0], 'Thank you for your time. Goodbye.'] });
    expect((await api.call('GET', `/v1/calls?parent_call_id=${callId}`)).json()).toEqual([]);
    expect(app.on('/ai/after-stream').filter((r) => r.body.CallId === callId)).toHaveLength(1);
  }, 60_000);
});
