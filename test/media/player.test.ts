import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePcma, encodePcmu } from '../../src/media/codecs/g711.js';
import { MediaEngine } from '../../src/media/engine.js';
import { UrlAudioError, UrlAudioLoader } from '../../src/media/sources/url-audio.js';
import { encodeWav, wavHeader } from '../../src/media/sources/wav.js';
import { captureInbound, connect, rms, sine, toneAmplitude } from './helpers.js';
import { mpegLayer1Tone } from './mpeg-fixture.js';

/** The test's file server is on loopback, which a workspace allows with `allow_private_callbacks`. */
const loopbackAllowed = { allowedCallbackHosts: [], allowPrivateCallbacks: true };

/** A WAV with an arbitrary format code and bit depth (encodeWav only writes PCM16). */
function wavWith(format: number, bits: number, rate: number, data: Uint8Array, channels = 1): Buffer {
  const h = wavHeader(rate, channels, data.length);
  h.writeUInt16LE(format, 20);
  h.writeUInt32LE((rate * channels * bits) / 8, 28);
  h.writeUInt16LE((channels * bits) / 8, 32);
  h.writeUInt16LE(bits, 34);
  return Buffer.concat([h, data]);
}

const tone440 = sine(440, 1000, 10000, 8000);
const files: Record<string, { body: Buffer | Uint8Array; type: string; delayMs?: number; status?: number }> = {};
let server: Server;
let base: string;
let hits: Record<string, number> = {};

beforeAll(async () => {
  const mu = new Uint8Array(tone440.length);
  encodePcmu(tone440, mu);
  const a = new Uint8Array(tone440.length);
  encodePcma(tone440, a);
  const eight = Uint8Array.from(tone440, (s) => (s >> 8) + 128);
  const stereo16k = new Int16Array(16000 * 2);
  const left = sine(440, 1000, 10000, 16000);
  for (let i = 0; i < 16000; i++) stereo16k[2 * i] = stereo16k[2 * i + 1] = left[i]!;
  Object.assign(files, {
    '/pcm16.wav': { body: encodeWav(tone440, 8000), type: 'audio/wav' },
    '/pcm16-48k.wav': { body: encodeWav(sine(440, 1000, 10000, 48000), 48000), type: 'audio/x-wav' },
    '/stereo-16k.wav': { body: encodeWav(stereo16k, 16000, 2), type: 'audio/wav' },
    '/pcm8.wav': { body: wavWith(1, 8, 8000, eight), type: 'audio/wav' },
    '/mulaw.wav': { body: wavWith(7, 8, 8000, mu), type: 'audio/wav' },
    '/alaw.wav': { body: wavWith(6, 8, 8000, a), type: 'audio/wav' },
    '/tone.mp1': { body: mpegLayer1Tone(125), type: 'audio/mpeg' },
    '/tone.mp3': { body: await readFile(new URL('../fixtures/tone-440hz-22k.mp3', import.meta.url)), type: 'audio/mpeg' },
    '/slow.wav': { body: encodeWav(tone440, 8000), type: 'audio/wav', delayMs: 2000 },
    '/big.wav': { body: encodeWav(new Int16Array(100_000), 8000), type: 'audio/wav' },
    '/text': { body: Buffer.from('hello'), type: 'text/plain' },
  });
  server = createServer((req, res) => {
    const f = files[req.url ?? ''];
    hits[req.url ?? ''] = (hits[req.url ?? ''] ?? 0) + 1;
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    setTimeout(() => res.writeHead(200, { 'content-type': f.type }).end(f.body), f.delayMs ?? 0);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('urlAudioLoader', () => {
  const loader = new UrlAudioLoader({ maxBytes: 100_000, timeoutMs: 500 });
  afterAll(() => loader.close());

  for (const name of ['pcm16.wav', 'pcm16-48k.wav', 'stereo-16k.wav', 'pcm8.wav', 'mulaw.wav', 'alaw.wav']) {
    it(`decodes ${name} to one second of 8 kHz audio with the 440 Hz tone`, async () => {
      const pcm = await loader.load(`${base}/${name}`, { policy: loopbackAllowed });
      expect(Math.abs(pcm.length - 8000)).toBeLessThanOrEqual(1);
      expect(toneAmplitude(pcm.subarray(400, 7600), 440)).toBeGreaterThan(9000);
    });
  }

  it('decodes an MPEG audio stream on the worker thread (Layer I tone generated in the test)', async () => {
    const pcm = await loader.load(`${base}/tone.mp1`, { policy: loopbackAllowed });
    expect(Math.abs(pcm.length - 8000)).toBeLessThanOrEqual(2);
    expect(toneAmplitude(pcm.subarray(800, 7200), 1500)).toBeGreaterThan(15000);
  });

  it('decodes an MP3 (Layer III, 22.05 kHz) file to its length and its 440 Hz tone', async () => {
    const pcm = await loader.load(`${base}/tone.mp3`, { policy: loopbackAllowed });
    // One second plus the encoder's delay and padding.
    expect(pcm.length / 8000).toBeGreaterThan(1.0);
    expect(pcm.length / 8000).toBeLessThan(1.3);
    expect(toneAmplitude(pcm.subarray(2000, 6000), 440)).toBeGreaterThan(5000);
  });

  it('caches by URL', async () => {
    const fresh = new UrlAudioLoader();
    hits = {};
    const a = await fresh.load(`${base}/alaw.wav`, { policy: loopbackAllowed });
    const b = await fresh.load(`${base}/alaw.wav`, { policy: loopbackAllowed });
    expect(b).toBe(a);
    expect(hits['/alaw.wav']).toBe(1);
    await fresh.close();
  });

  it('does not serve a URL cached for one policy to a policy that forbids it', async () => {
    const fresh = new UrlAudioLoader();
    hits = {};
    try {
      await fresh.load(`${base}/alaw.wav`, { policy: loopbackAllowed });
      const strict = { allowedCallbackHosts: [], allowPrivateCallbacks: false };
      await expect(fresh.load(`${base}/alaw.wav`, { policy: strict })).rejects.toMatchObject({ name: 'FetchRefusedError', code: 'fetch_not_allowed' });
      expect(hits['/alaw.wav']).toBe(1);
    } finally {
      await fresh.close();
    }
  });

  it('stops waiting for a slow URL when aborted', async () => {
    const ac = new AbortController();
    const p = new UrlAudioLoader().load(`${base}/slow.wav`, { policy: loopbackAllowed, signal: ac.signal });
    setTimeout(() => ac.abort(new Error('hung up')), 50);
    await expect(p).rejects.toThrow('hung up');
  });

  it('reports a corrupt MPEG stream as decode_failed', async () => {
    const junk = new Uint8Array(4000).map((_, i) => (i < 2 ? 0xff : (i * 7919) & 0xff));
    await expect(loader.decode(junk)).rejects.toMatchObject({ code: 'decode_failed' });
  });

  it('refuses files over the size limit, slow servers, errors and non-audio', async () => {
    const code = (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (e: unknown) => (e instanceof UrlAudioError ? e.code : String(e)));
    expect(await code(loader.load(`${base}/big.wav`, { policy: loopbackAllowed }))).toBe('too_large');
    expect(await code(loader.load(`${base}/slow.wav`, { policy: loopbackAllowed }))).toBe('timeout');
    expect(await code(loader.load(`${base}/missing.wav`, { policy: loopbackAllowed }))).toBe('http_status');
    expect(await code(loader.load(`${base}/text`, { policy: loopbackAllowed }))).toBe('unsupported_format');
    expect(await code(loader.load('file:///etc/passwd', { policy: loopbackAllowed }))).toBe('bad_url');
  });
});

describe('mediaEndpoint.playUrl', () => {
  it('plays a WAV URL to the far end, looped', async () => {
    const engine = new MediaEngine({ portMin: 31320, portMax: 31339, bindAddress: '127.0.0.1' });
    try {
      const phone = await engine.createEndpoint();
      const leg = await engine.createEndpoint();
      connect(phone, leg);
      const heard = captureInbound(phone, 300);
      const ac = new AbortController();
      const playing = leg.playUrl(`${base}/pcm16.wav`, { policy: loopbackAllowed, loop: 0, signal: ac.signal });
      const pcm = await heard;
      expect(toneAmplitude(pcm, 440)).toBeGreaterThan(7000);
      ac.abort();
      await expect(playing).resolves.toBe('aborted');
      await expect(leg.playUrl(`${base}/missing.wav`, { policy: loopbackAllowed })).rejects.toBeInstanceOf(UrlAudioError);
      // Twice through a short file (1 s each) ends on its own.
      await expect(leg.playUrl(`${base}/pcm16.wav`, { policy: loopbackAllowed, loop: 2 })).resolves.toBe('done');
      expect(rms(pcm)).toBeGreaterThan(1000);
    } finally {
      await engine.close();
    }
    expect(engine.ports.inUse).toBe(0);
  });
});
