import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardedMediaBackend } from '../../src/media/shard/sharded-media-backend.js';
import { HttpReceiver, type ReceivedRequest } from '../helpers/http-receiver.js';
import { faxCng, wavOf } from '../helpers/amd-audio.js';
import { compileShardWorker } from '../helpers/shard-worker.js';
import { phoneCalls } from '../helpers/phone-calls.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';

type Route = (req: ReceivedRequest) => { status: number; body?: string | Buffer; contentType?: string };

/**
 * The platform started with `--media-workers 2`: every call's media runs on
 * one of two worker threads, and the product flows behave as they do in
 * process, judged by what the sandbox phones hear and what the webhook app
 * and a WebSocket bot receive.
 */
describe('call media on two worker threads, end to end with sandbox phones', () => {
  let api: TestApi;
  let app: HttpReceiver;
  let worker: Awaited<ReturnType<typeof compileShardWorker>>;
  const routes = new Map<string, Route>();

  beforeAll(async () => {
    worker = await compileShardWorker();
    api = await startTestApi('sqlite', { flags: { 'webhook-retry-schedule': '0,1,1,1,1,1,1,1', 'media-workers': '2' }, mediaWorkerUrl: worker.url });
    app = await HttpReceiver.start();
    app.respond = (req) => routes.get(req.url.split('?')[0]!)?.(req) ?? { status: 204 };
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await api?.close();
    await worker?.remove();
  });

  const shards = (): ShardedMediaBackend => {
    const media = api.platform.media;
    if (!(media instanceof ShardedMediaBackend)) throw new Error('the platform did not start media workers');
    return media;
  };
  const numberFor = async (path: string): Promise<string> =>
    (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: `${app.url}${path}` } })).json().number;
  const ended = (sandboxId: string, timeoutMs = 40_000) => until(async () => {
    const r = (await api.call('GET', `/v1/sandbox/calls/${sandboxId}`)).json();
    return r.ended_at ? r : undefined;
  }, timeoutMs);
  const json = (actions: unknown[]) => ({ status: 200, body: JSON.stringify({ actions }) });

  it('runs two media workers', () => {
    expect(shards().engine.shardCount).toBe(2);
  });

  it('IVR: say + getDigits, the caller presses 2 and hears the answer', async () => {
    routes.set('/ivr', () => json([{ getDigits: { numDigits: 1, timeout: 5, action: `${app.url}/ivr/route`, nested: [{ say: { text: 'Press 1 for sales. Press 2 for support.' } }] } }]));
    routes.set('/ivr/route', (req) => json([{ say: { text: req.json?.Digits === '2' ? 'You chose support. Goodbye.' : 'Sorry.' } }, { hangup: {} }]));
    const number = await numberFor('/ivr');
    // The caller presses once the prompt has started, however long the worker took to synthesize it (a loaded box).
    const placed = (await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000101', to: number, script: [{ wait_for_audio: 10 }, { wait: 1 }, { press: '2' }], max_duration: 30 } })).json();
    const report = await ended(placed.id);
    expect(report).toMatchObject({ status: 'completed', call_id: placed.call_id, hangup_by: 'platform' });
    expect(report.audio_seconds_heard).toBeGreaterThan(1.5);
    const route = app.requests.find((r) => r.url === '/ivr/route')!;
    expect(route.json).toMatchObject({ CallId: placed.call_id, Digits: '2' });
  }, 60_000);

  it('dial: the two legs are bridged and each phone hears the other speak', async () => {
    routes.set('/dial', () => json([{ dial: { number: '+254720000101' } }]));
    await api.call('PUT', '/v1/sandbox/phones/%2B254720000101', { body: { answer: 'immediately', script: [{ wait: 0.5 }, { say: 'Good morning, this is the support desk. How can I help you today?' }, { wait: 3 }, { hangup: true }] } });
    const number = await numberFor('/dial');
    // The caller speaks first; the platform plays nothing to the callee, so all the callee hears is the caller.
    const placed = (await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000102', to: number, script: [{ wait: 0.5 }, { say: 'Hello, I am calling about my order, number one two three four.' }, { wait: 8 }], max_duration: 30 } })).json();
    const caller = await ended(placed.id);
    expect(caller).toMatchObject({ status: 'completed', call_id: placed.call_id });
    const callee = (await phoneCalls(api, '+254720000101'))[0];
    expect(callee).toMatchObject({ status: 'completed' });
    expect(callee.audio_seconds_heard, 'the callee heard the caller').toBeGreaterThan(1.5);
    expect(caller.audio_seconds_heard, 'the caller heard the callee').toBeGreaterThan(1.5);
    const [leg] = (await api.call('GET', `/v1/calls?parent_call_id=${placed.call_id}`)).json();
    expect(leg).toMatchObject({ to: '+254720000101', status: 'completed' });
  }, 60_000);

  it('conference of three: a muted participant is not heard, the others are', async () => {
    const mutedPhone = '+254711000111';
    routes.set('/room', (req) => json([{ conference: { name: 'standup', beep: false, startOnEnter: true, muted: req.json?.From === mutedPhone } }]));
    const number = await numberFor('/room');
    const talk = 'This is a long update about the project so that everyone in the room can hear it clearly.';
    const call = async (from: string, script: unknown[]) => (await api.call('POST', '/v1/sandbox/calls', { body: { from, to: number, script, max_duration: 30 } })).json();
    // The muted one and a speaker talk at the same time, once all three are in; the third listens.
    const muted = await call(mutedPhone, [{ wait: 4 }, { say: talk }, { wait: 2 }, { hangup: true }]);
    const speaker = await call('+254711000112', [{ wait: 4 }, { say: talk }, { wait: 2 }, { hangup: true }]);
    const listener = await call('+254711000113', [{ wait: 10 }, { hangup: true }]);
    const room = await until(async () => {
      const r = (await api.call('GET', '/v1/conferences/standup/participants'));
      const list = r.statusCode === 200 ? r.json() : [];
      return list.length === 3 ? list : undefined;
    });
    expect(room).toEqual(expect.arrayContaining([expect.objectContaining({ call_id: muted.call_id, muted: true }), expect.objectContaining({ call_id: speaker.call_id, muted: false })]));
    const [m, s, l] = await Promise.all([ended(muted.id), ended(speaker.id), ended(listener.id)]);
    expect(m.audio_seconds_heard, 'the muted participant hears the speaker').toBeGreaterThan(1.5);
    expect(l.audio_seconds_heard, 'the listener hears the speaker').toBeGreaterThan(1.5);
    expect(s.audio_seconds_heard, 'the speaker does not hear the muted participant').toBeLessThan(0.5);
  }, 60_000);

  it('answering machine detection runs on the leg\'s worker: a person saying "Hello?" is human, a fax is fax', async () => {
    routes.set('/fax.wav', () => ({ status: 200, body: wavOf(faxCng(3)), contentType: 'audio/wav' }));
    routes.set('/amd', () => json([{ hangup: {} }]));
    await api.call('PUT', '/v1/sandbox/phones/%2B254720000131', { body: { answer: 'immediately', script: [{ wait: 0.5 }, { say: 'Hello?' }, { wait: 8 }] } });
    await api.call('PUT', '/v1/sandbox/phones/%2B254720000132', { body: { answer: 'immediately', script: [{ play: `${app.url}/fax.wav` }] } });
    const from = await numberFor('/unused');
    const placed = await api.call('POST', '/v1/calls', { body: { to: ['+254720000131', '+254720000132'], from, action_url: `${app.url}/amd`, machine_detection: 'Enable' } });
    expect(placed.statusCode, placed.body).toBe(201);
    const [person, fax] = placed.json() as Array<{ id: string }>;
    const answeredBy = (id: string) => until(async () => app.requests.find((r) => r.url === '/amd' && r.json?.CallId === id)?.json.AnsweredBy, 40_000);
    expect(await answeredBy(person!.id)).toBe('human');
    expect(await answeredBy(fax!.id)).toBe('fax');
  }, 60_000);

  it('record: the caller leaves a message, the recording holds their voice', async () => {
    routes.set('/voicemail', () => json([{ record: { maxLength: 15, timeout: 2, playBeep: true } }, { hangup: {} }]));
    const number = await numberFor('/voicemail');
    const placed = (await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000121', to: number, script: [{ wait: 1 }, { say: 'Hi, this is Wanjiru. Please call me back about the invoice.' }, { wait: 6 }], max_duration: 30 } })).json();
    const report = await ended(placed.id);
    expect(report).toMatchObject({ status: 'completed', hangup_by: 'platform' });
    expect(report.beeps_heard).toBeGreaterThanOrEqual(1);
    const recording = await until(async () => {
      const r = await api.call('GET', `/v1/calls/${placed.call_id}/recording`);
      return r.statusCode === 200 ? r : undefined;
    });
    const wav = recording.rawPayload;
    expect(wav.subarray(0, 4).toString()).toBe('RIFF');
    let peak = 0;
    for (let i = 44; i + 1 < wav.length; i += 2) peak = Math.max(peak, Math.abs(wav.readInt16LE(i)));
    expect(peak, 'the recording is not silence').toBeGreaterThan(2000);
    expect((wav.length - 44) / 16000, 'seconds recorded').toBeGreaterThan(1.5);
  }, 60_000);

  it('stream: the caller\'s audio reaches a WebSocket bot and the bot is heard', async () => {
    const seen = { protocol: '', metadata: undefined as Record<string, unknown> | undefined, loudFrames: 0, frames: 0 };
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: () => 'audio.drachtio.org' });
    try {
      wss.on('connection', (socket: WebSocket) => {
        seen.protocol = socket.protocol;
        socket.on('message', (data, isBinary) => {
          if (!isBinary) {
            seen.metadata ??= JSON.parse(String(data));
            return;
          }
          seen.frames += 1;
          const frame = data as Buffer;
          let peak = 0;
          for (let i = 0; i + 1 < frame.length; i += 2) peak = Math.max(peak, Math.abs(frame.readInt16LE(i)));
          if (peak > 2000) seen.loudFrames += 1;
        });
        // Two seconds of a 440 Hz tone at 8 kHz as the bot's answer, then the bot hangs up the socket.
        const pcm = Buffer.alloc(16000 * 2);
        for (let i = 0; i < 16000; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000)), i * 2);
        socket.send(pcm);
        setTimeout(() => socket.close(1000), 3500);
      });
      await new Promise((r) => wss.once('listening', r));
      const wsUrl = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/bot`;
      routes.set('/stream', () => ({ status: 200, contentType: 'application/xml', body: `<Response>
  <Stream name="bot" url="${wsUrl}" statusCallback="${app.url}/stream-status" statusEvents="stream-started stream-stopped stream-error" />
  <Hangup/>
</Response>` }));
      const number = await numberFor('/stream');
      const placed = (await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000131', to: number, script: [{ say: 'Hello bot, I would like to pay my bill please.' }, { wait: 5 }], max_duration: 30 } })).json();
      const report = await ended(placed.id);
      expect(report).toMatchObject({ status: 'completed', hangup_by: 'platform' });
      expect(report.audio_seconds_heard, 'the caller heard the bot').toBeGreaterThan(1.5);
      await app.waitFor((reqs) => reqs.some((r) => r.url === '/stream-status' && r.json?.data?.event === 'stream-stopped'), 15_000);
      const statuses = app.requests.filter((r) => r.url === '/stream-status' && r.json?.data?.call_id === placed.call_id).map((r) => r.json.data);
      expect(statuses.map((s) => s.event)).toEqual(['stream-started', 'stream-stopped']);
      expect(statuses[1]).toMatchObject({ closed_by: 'server', frames_received: 1 });
      expect(seen.protocol).toBe('audio.drachtio.org');
      expect(seen.metadata).toMatchObject({ callId: placed.call_id, streamName: 'bot' });
      expect(seen.loudFrames, 'the bot heard the caller').toBeGreaterThan(10);
    } finally {
      wss.close();
    }
  }, 60_000);

  // Last: it leaves one worker dead.
  it('a media worker that dies ends only the calls whose media it carried', async () => {
    routes.set('/hold', () => json([{ pause: { length: 20 } }]));
    const number = await numberFor('/hold');
    const media = shards().engine;
    // Earlier calls' legs are gone once their calls ended.
    await until(async () => media.endpointsPerShard.every((n) => n === 0));
    const first = (await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000141', to: number, script: [{ wait: 8 }, { hangup: true }], max_duration: 30 } })).json();
    const second = (await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000142', to: number, script: [{ wait: 8 }, { hangup: true }], max_duration: 30 } })).json();
    // One leg per shard (new legs go to the least-loaded shard).
    await until(async () => media.endpointsPerShard.join() === '1,1');
    const status = async (callId: string) => (await api.call('GET', `/v1/calls/${callId}`)).json();
    await until(async () => (await status(first.call_id)).status === 'in-progress' && (await status(second.call_id)).status === 'in-progress');

    await media.terminateShard(0);
    const cut = await until(async () => {
      const calls = await Promise.all([status(first.call_id), status(second.call_id)]);
      return calls.find((c) => c.status === 'completed');
    }, 10_000);
    expect(cut.hangup_cause).toBe('media_failed');
    const other = cut.id === first.call_id ? second : first;
    expect((await status(other.call_id)).status, 'the other worker\'s call goes on').toBe('in-progress');
    const otherReport = await ended(other.id);
    expect(otherReport).toMatchObject({ status: 'completed', hangup_by: 'phone' });
    const cutReport = await ended(cut.id === first.call_id ? first.id : second.id);
    expect(cutReport).toMatchObject({ hangup_by: 'platform' });
  }, 60_000);
});
