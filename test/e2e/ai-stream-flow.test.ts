import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { phoneCalls } from '../helpers/phone-calls.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';


/** The AI outbound page: POST /v1/calls → <Stream> to a WebSocket bot → the bot hangs up the socket → <Dial> a rep. */
describe('outbound AI call with a live audio stream and a warm transfer', () => {
  let api: TestApi;
  let app: HttpReceiver;
  let wss: WebSocketServer;
  const seen: { protocol?: string; metadata?: Record<string, unknown>; binaryFrames: number; frameBytes: Set<number>; dtmf: string[]; loudCallerFrames: number } = { binaryFrames: 0, frameBytes: new Set(), dtmf: [], loudCallerFrames: 0 };

  beforeAll(async () => {
    api = await startTestApi('sqlite', { flags: { 'webhook-retry-schedule': '0,1,1,1,1,1,1,1' } });
    app = await HttpReceiver.start();
    // The page's bridge: advertise the subprotocol, speak (a 16 kHz tone as the "LLM audio"), then end the stream.
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: () => 'audio.drachtio.org' });
    wss.on('connection', (socket: WebSocket) => {
      seen.protocol = socket.protocol;
      socket.on('message', (data, isBinary) => {
        if (!isBinary) {
          const message = JSON.parse(String(data));
          if (!seen.metadata) seen.metadata = message;
          else if (message.event === 'dtmf') {
            seen.dtmf.push(message.dtmf);
            socket.close(1000); // the bot heard the lead's answer: end the stream (the <Dial> follows)
          }
          return;
        }
        seen.binaryFrames += 1;
        const frame = data as Buffer;
        seen.frameBytes.add(frame.length);
        // Interleaved stereo: the left samples are the caller (the sandbox phone speaking).
        let peak = 0;
        for (let i = 0; i + 1 < frame.length; i += 4) peak = Math.max(peak, Math.abs(frame.readInt16LE(i)));
        if (peak > 2000) seen.loudCallerFrames += 1;
      });
      const pcm = Buffer.alloc(16000 * 2 * 2);
      for (let i = 0; i < 32000; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 16000)), i * 2);
      socket.send(pcm);
      // The lead's phone speaks, then presses 5 about 2.9 s in (TTS and playing time): a fixed 3 s close raced it.
      setTimeout(() => socket.close(1000), 10_000);
    });
    await new Promise((r) => wss.once('listening', r));
  }, 60_000);
  afterAll(async () => {
    wss?.close();
    await app?.close();
    await api?.close();
  });

  it('streams both tracks at 16 kHz, plays the bot to the lead, reports stream events, then dials the rep', async () => {
    const wsUrl = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/audio`;
    app.respond = (req) => req.url === '/answer'
      ? { status: 200, contentType: 'application/xml', body: `<Response>
  <Stream name="lead-qualifier" url="${wsUrl}" track="both_tracks" outputSamplingRate="16000"
    statusCallback="${app.url}/stream-status" statusEvents="stream-started stream-stopped stream-error" />
  <Dial>+254720000005</Dial>
</Response>` }
      : { status: 204 };
    const number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: `${app.url}/answer` } })).json();
    await api.call('PUT', '/v1/sandbox/phones/%2B254712345600', { body: { answer: 'immediately', script: [{ say: 'Yes, I am interested.' }, { press: '5' }] } });
    await api.call('PUT', '/v1/sandbox/phones/%2B254720000005', { body: { answer: 'immediately', hangup_after: 1 } });
    // The page's curl body, base URL changed.
    const placed = await api.call('POST', '/v1/calls', { body: { to: ['+254712345600'], from: number.number, clientRequestId: 'lead-77' } });
    expect(placed.statusCode).toBe(201);
    const [call] = placed.json();

    await app.waitFor((reqs) => reqs.some((r) => r.url === '/stream-status' && r.json?.data?.event === 'stream-stopped'), 30_000);
    const statuses = app.requests.filter((r) => r.url === '/stream-status').map((r) => r.json);
    expect(statuses.map((s) => s.data.event)).toEqual(['stream-started', 'stream-stopped']);
    expect(statuses[0]).toMatchObject({ type: 'stream.started', data: { call_id: call.id, stream_name: 'lead-qualifier', protocol: 'audio.drachtio.org' } });
    expect(statuses[1].data).toMatchObject({ closed_by: 'server', frames_received: 1 });
    expect(statuses[1].data.frames_sent).toBeGreaterThan(50);

    expect(seen.protocol).toBe('audio.drachtio.org');
    expect(seen.metadata).toMatchObject({ callId: call.id, callSid: call.id, streamName: 'lead-qualifier', sampleRate: 16000, mixType: 'stereo', channels: 2, track: 'both_tracks', direction: 'outbound', accountId: api.credentials.workspace_id });
    expect([...seen.frameBytes]).toEqual([1280]);
    expect(seen.dtmf).toEqual(['5']);
    expect(seen.loudCallerFrames).toBeGreaterThan(10);

    // After the socket closed, <Dial> warm-transferred the live call to the rep.
    const rep = await until(async () => {
      const [leg] = (await api.call('GET', `/v1/calls?parent_call_id=${call.id}`)).json();
      return leg && leg.price !== null ? leg : undefined;
    }, 30_000);
    expect(rep).toMatchObject({ to: '+254720000005', status: 'completed' });
    const lead = (await phoneCalls(api, '+254712345600'))[0];
    expect(lead.audio_seconds_heard).toBeGreaterThanOrEqual(1.5);

    // The timeline (SPEC §14): the stream started and stopped, then the dial named the rep's leg.
    const timeline = (await api.call('GET', `/v1/calls/${call.id}/timeline`)).json().data as Array<{ type: string; [k: string]: unknown }>;
    expect(timeline.filter((e) => e.type === 'stream').map((e) => [e['event'], e['name']])).toEqual([['stream-started', 'lead-qualifier'], ['stream-stopped', 'lead-qualifier']]);
    expect(timeline.find((e) => e.type === 'dial' && e['event'] === 'placed')).toMatchObject({ legs: [{ call_id: rep.id, to: '+254720000005' }] });
  }, 60_000);

  it('a server that refuses the subprotocol yields stream-error and the next action runs', async () => {
    const refusing = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: () => false });
    await new Promise((r) => refusing.once('listening', r));
    try {
      const wsUrl = `ws://127.0.0.1:${(refusing.address() as AddressInfo).port}/audio`;
      app.respond = (req) => req.url === '/answer2'
        ? { status: 200, contentType: 'application/xml', body: `<Response><Stream url="${wsUrl}" statusCallback="${app.url}/stream-status2"/><Say>Sorry, our assistant is unavailable.</Say><Hangup/></Response>` }
        : { status: 204 };
      const number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: `${app.url}/answer2` } })).json();
      await api.call('PUT', '/v1/sandbox/phones/%2B254712345601', { body: { answer: 'immediately' } });
      const [call] = (await api.call('POST', '/v1/calls', { body: { to: ['+254712345601'], from: number.number } })).json();
      await app.waitFor((reqs) => reqs.some((r) => r.url === '/stream-status2'), 20_000);
      expect(app.requests.find((r) => r.url === '/stream-status2')!.json).toMatchObject({ type: 'stream.error', data: { event: 'stream-error', call_id: call.id, reason: expect.stringMatching(/audio\.drachtio\.org/) } });
      const done = await until(async () => {
        const c = (await api.call('GET', `/v1/calls/${call.id}`)).json();
        return c.price !== null ? c : undefined;
      });
      expect(done).toMatchObject({ status: 'completed', hangup_by: 'system' });
      const heard = (await phoneCalls(api, '+254712345601'))[0];
      expect(heard.audio_seconds_heard).toBeGreaterThan(0.5);
    } finally {
      refusing.close();
    }
  }, 60_000);
});
