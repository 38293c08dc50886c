import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { loopbackNameFromHosts } from '../helpers/hosts-file.js';
import { publicTestHostUnavailable, startPublicTestHost, type PublicTestHost } from '../helpers/public-test-host.js';
import { compileShardWorker } from '../helpers/shard-worker.js';
import { phoneCalls } from '../helpers/phone-calls.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';
import { toneWav } from '../helpers/wav.js';

/**
 * Issue 14 / SPEC §18, through the running platform with sandbox phones:
 * with `allow_private_callbacks: false`, `play`, conference `waitUrl` (audio
 * and actions kinds), `stream` and sandbox script `play` URLs on loopback —
 * by name, by a name resolving there, or by a redirect from a public host —
 * are never fetched, and the refusal is recorded on the call.
 *
 * How a call is driven while private addresses are refused: the test's
 * webhook app lives on loopback, so its own voice callback would be refused
 * too. Each call therefore starts with `allow_private_callbacks` on; the app,
 * when the platform's routing callback reaches it, turns the setting off
 * (PATCH /v1/settings) and only then answers the actions. The platform reads
 * the workspace's policy at each fetch, so the media URLs of those actions
 * are fetched (or not) under the policy that is off — exactly what a
 * workspace with the setting off gets. A control call keeps it on and shows
 * the same URLs are reachable, so the refusals are the policy's doing.
 *
 * The redirect and the actions-document `waitUrl` need a host the policy
 * counts as public: a tiny server in a network namespace at a TEST-NET-3
 * address (test/helpers/public-test-host.ts); those skip, with the reason,
 * where `ip netns` is not usable.
 */
const modes = [{ name: 'media in process', workers: 0 }, { name: 'media on two worker threads', workers: 2 }];

describe.each(modes)('fetch policy for media URLs ($name)', ({ workers }) => {
  let api: TestApi;
  let media: HttpReceiver;
  let wss: WebSocketServer;
  let wsConnections = 0;
  let app: Server;
  let appUrl: string;
  let number: string;
  let host: PublicTestHost | undefined;
  let worker: Awaited<ReturnType<typeof compileShardWorker>> | undefined;
  /** What the routing callback answers, and whether the app turns private addresses off first. */
  let answer: { actions: unknown[]; turnOff: boolean } = { actions: [], turnOff: true };
  const hostsName = loopbackNameFromHosts();
  const noNetns = publicTestHostUnavailable();

  const setPrivate = async (on: boolean) => {
    const res = await api.call('PATCH', '/v1/settings', { body: { allow_private_callbacks: on } });
    expect(res.statusCode).toBe(200);
  };
  const mediaHits = (path: string) => media.requests.filter((r) => r.url.split('?')[0] === path).length;
  const port = () => new URL(media.url).port;
  const callOf = (id: string) => until(async () => {
    const c = (await api.call('GET', `/v1/calls/${id}`)).json();
    return ['completed', 'busy', 'no-answer', 'failed', 'canceled'].includes(c.status) && c.price !== null ? c : undefined;
  }, 40_000);
  const sandboxEnded = (id: string) => until(async () => {
    const r = (await api.call('GET', `/v1/sandbox/calls/${id}`)).json();
    return r.ended_at ? r : undefined;
  }, 40_000);
  /** A sandbox phone calls the number; the routing callback answers `actions`. Answers the call record and the phone's report. */
  const call = async (actions: unknown[], options: { turnOff?: boolean; script?: unknown[] } = {}) => {
    await setPrivate(true);
    answer = { actions, turnOff: options.turnOff ?? true };
    const placed = await api.call('POST', '/v1/sandbox/calls', { body: { to: number, script: options.script ?? [], max_duration: 30 } });
    expect(placed.statusCode).toBe(201);
    const { id, call_id: callId } = placed.json();
    const [record, report] = await Promise.all([callOf(callId), sandboxEnded(id)]);
    return { record, report };
  };
  const refusals = (record: { errors: Array<{ code: string; message: string }> }) => record.errors.filter((e) => e.code === 'fetch_not_allowed');

  beforeAll(async () => {
    if (workers > 0) worker = await compileShardWorker();
    api = await startTestApi('sqlite', { flags: { 'media-workers': String(workers) }, ...(worker ? { mediaWorkerUrl: worker.url } : {}) });
    media = await HttpReceiver.start();
    media.respond = (req) => (req.url.endsWith('.wav') ? { status: 200, contentType: 'audio/wav', body: toneWav(440, 1) } : { status: 404 });
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => 'audio.drachtio.org' });
    wss.on('connection', (socket) => {
      wsConnections++;
      socket.close(1000);
    });
    app = createServer((req, res) => {
      req.resume();
      req.on('end', () => void (async () => {
        if (answer.turnOff) await setPrivate(false);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ actions: answer.actions }));
      })());
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
    number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: `${appUrl}/answer` } })).json().number;
    if (!noNetns) {
      host = await startPublicTestHost({
        '/moved.wav': { status: 302, headers: { location: `${media.url}/redirected.wav` } },
        'GET /hold-doc': { status: 200, headers: { 'content-type': 'text/plain' }, body: 'not audio: ask me for actions' },
        'POST /hold-doc': { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ play: { url: `${media.url}/doc.wav` } }]) },
      });
    }
  }, 180_000);
  afterAll(async () => {
    await host?.close();
    await new Promise((resolve) => wss?.close(resolve));
    app?.closeAllConnections();
    await new Promise((resolve) => app?.close(resolve));
    await media?.close();
    await api?.close();
    await worker?.remove();
  });

  it('control: with allow_private_callbacks on, the same loopback play URL is fetched and heard', async () => {
    const { record, report } = await call([{ play: { url: `${media.url}/control.wav` } }, { hangup: {} }], { turnOff: false });
    expect(mediaHits('/control.wav')).toBe(1);
    expect(refusals(record)).toEqual([]);
    expect(report.audio_seconds_heard).toBeGreaterThan(0.5);
  }, 60_000);

  it('play: localhost, localhost. and a name resolving to 127.0.0.1 are refused, recorded, never fetched', async () => {
    const urls = [`http://localhost:${port()}/a.wav`, `http://localhost.:${port()}/b.wav`, ...(hostsName ? [`http://${hostsName}:${port()}/c.wav`] : [])];
    const { record, report } = await call([...urls.map((url) => ({ play: { url } })), { hangup: {} }]);
    expect(refusals(record)).toEqual(urls.map((url) => expect.objectContaining({ code: 'fetch_not_allowed', field: 'play.url', url })));
    if (hostsName) expect(refusals(record)[2]!.message).toMatch(new RegExp(`^${hostsName} resolves to non-public address 127\\.`));
    expect(media.requests.filter((r) => /\/[abc]\.wav$/.test(r.url))).toEqual([]);
    expect(record.status).toBe('completed');
    expect(report.audio_seconds_heard).toBeLessThan(0.5);
  }, 60_000);

  it.skipIf(noNetns)(`play: a public host redirecting to 127.0.0.1 is refused at the redirect (${noNetns ?? 'netns'})`, async () => {
    const url = `${host!.url}/moved.wav`;
    const before = host!.requests.length;
    const { record } = await call([{ play: { url } }, { hangup: {} }]);
    expect(host!.requests.slice(before)).toEqual(['GET /moved.wav']);
    expect(mediaHits('/redirected.wav')).toBe(0);
    expect(refusals(record)).toEqual([expect.objectContaining({ field: 'play.url', url, refused_url: `${media.url}/redirected.wav` })]);
  }, 60_000);

  it('conference waitUrl (audio file) on a loopback name: refused, recorded, hold music instead', async () => {
    const url = `http://${hostsName ?? 'localhost.'}:${port()}/hold.wav`;
    const { record, report } = await call([{ conference: { name: `hold-${workers}`, startOnEnter: false, beep: false, waitUrl: url } }], { script: [{ wait: 3 }, { hangup: true }] });
    expect(refusals(record)).toEqual([expect.objectContaining({ field: 'conference.waitUrl', url })]);
    // Not fetched as audio, nor POSTed to as an actions URL.
    expect(media.requests.filter((r) => r.url.startsWith('/hold.wav'))).toEqual([]);
    expect(report.audio_seconds_heard, 'the built-in hold music plays').toBeGreaterThan(1);
  }, 60_000);

  it.skipIf(noNetns)(`conference waitUrl (actions document on a public host): its play URL on loopback is refused (${noNetns ?? 'netns'})`, async () => {
    const before = host!.requests.length;
    const { record, report } = await call(
      [{ conference: { name: `hold-doc-${workers}`, startOnEnter: false, beep: false, waitUrl: `${host!.url}/hold-doc` } }],
      { script: [{ wait: 3 }, { hangup: true }] },
    );
    expect(host!.requests.slice(before)).toEqual(['GET /hold-doc', 'POST /hold-doc']);
    expect(mediaHits('/doc.wav')).toBe(0);
    expect(refusals(record)).toEqual([expect.objectContaining({ field: 'conference.waitUrl', url: `${media.url}/doc.wav` })]);
    expect(report.audio_seconds_heard, 'the built-in hold music plays').toBeGreaterThan(1);
  }, 60_000);

  it('stream: ws:// on localhost. or a name resolving to 127.0.0.1 is refused before connecting, recorded, and the next action runs', async () => {
    const wsPort = (wss.address() as AddressInfo).port;
    const urls = [`ws://localhost.:${wsPort}/`, ...(hostsName ? [`ws://${hostsName}:${wsPort}/`] : [])];
    const { record, report } = await call([...urls.map((url) => ({ stream: { url } })), { play: { url: `${media.url}/after-stream.wav` } }, { hangup: {} }], { turnOff: true });
    expect(wsConnections).toBe(0);
    expect(refusals(record)).toEqual([
      ...urls.map((url) => expect.objectContaining({ field: 'stream.url', url })),
      expect.objectContaining({ field: 'play.url', url: `${media.url}/after-stream.wav` }),
    ]);
    if (hostsName) expect(refusals(record)[1]!.message).toMatch(/resolves to non-public address 127\./);
    expect(report.status).toBe('completed');
  }, 60_000);

  it('sandbox scripts: a play URL the policy forbids is refused when saved (403, field script[2].play)', async () => {
    await setPrivate(false);
    const script = [{ wait: 1 }, { press: '1' }, { play: `http://localhost:${port()}/script.wav` }];
    const phone = await api.call('PUT', '/v1/sandbox/phones/%2B254720009001', { body: { answer: 'immediately', script } });
    expect(phone.statusCode).toBe(403);
    expect(phone.json().error).toMatchObject({ code: 'callback_url_not_allowed', field: 'script[2].play' });
    const placed = await api.call('POST', '/v1/sandbox/calls', { body: { to: number, script } });
    expect(placed.statusCode).toBe(403);
    expect(placed.json().error).toMatchObject({ code: 'callback_url_not_allowed', field: 'script[2].play' });
    await setPrivate(true);
    expect((await api.call('PUT', '/v1/sandbox/phones/%2B254720009001', { body: { answer: 'immediately', script } })).statusCode).toBe(200);
  });

  it('sandbox scripts: the play fetch is checked again when it plays, for a calling phone and a dialled one', async () => {
    const url = `http://${hostsName ?? 'localhost'}:${port()}/script-${workers}.wav`;
    // Saved while private addresses are allowed; by the time the steps play, the app has turned them off.
    expect((await api.call('PUT', '/v1/sandbox/phones/%2B254720009002', { body: { answer: 'immediately', script: [{ play: url }, { hangup: true }] } })).statusCode).toBe(200);
    const { report } = await call([{ pause: { length: 2 } }, { dial: { number: '+254720009002', timeout: 10 } }, { hangup: {} }], { script: [{ play: url }] });
    expect(report.errors).toEqual([expect.objectContaining({ step: 0, code: 'fetch_not_allowed', url })]);
    const dialled = (await phoneCalls(api, '+254720009002'))[0];
    expect(dialled.errors).toEqual([expect.objectContaining({ step: 0, code: 'fetch_not_allowed', url })]);
    expect(mediaHits(`/script-${workers}.wav`)).toBe(0);
  }, 60_000);
});
