import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EspeakTtsProvider, espeakVoiceCandidates } from '../../src/media/sources/espeak-tts.js';
import { TtsService, type TtsAudio, type TtsProvider, type TtsRequest } from '../../src/media/sources/tts.js';
import { IncrementalSource, splitSentences } from '../../src/media/sources/speech-source.js';
import { MediaEngine } from '../../src/media/engine.js';
import { captureInbound, connect, delay, rms } from './helpers.js';

// One eSpeak worker for the whole file: it takes a moment to load its voice data.
let provider: EspeakTtsProvider;
let dir: string;

beforeAll(async () => {
  provider = new EspeakTtsProvider();
  dir = await mkdtemp(path.join(tmpdir(), 'sautikit-tts-'));
});

afterAll(async () => {
  await provider.close();
  await rm(dir, { recursive: true, force: true });
});

/** Counts calls, so cache tests can tell whether synthesis ran. */
class CountingProvider implements TtsProvider {
  readonly id = 'counting-espeak';
  calls = 0;
  synthesize(request: TtsRequest): Promise<TtsAudio> {
    this.calls++;
    return provider.synthesize(request);
  }
}

describe('espeakVoiceCandidates', () => {
  it('maps languages and Twilio voice names to eSpeak voices', () => {
    expect(espeakVoiceCandidates('alice', 'en-US')[0]).toBe('en-us+f3');
    expect(espeakVoiceCandidates('man', 'en-GB')[0]).toBe('gmw/en');
    expect(espeakVoiceCandidates(undefined, 'sw')[0]).toBe('sw');
    expect(espeakVoiceCandidates(undefined, 'sw-KE')[0]).toBe('sw');
    expect(espeakVoiceCandidates('Polly.Joanna', undefined)[0]).toBe('en-us');
    expect(espeakVoiceCandidates(undefined, 'xx-YY')).toEqual(['xx', 'en-us']);
  });
});

describe('espeakTtsProvider', () => {
  for (const [language, text] of [['en-US', 'hello'], ['en-GB', 'hello'], ['sw', 'habari yako']] as const) {
    it(`synthesizes "${text}" in ${language} as non-silent audio of plausible length`, async () => {
      const audio = await provider.synthesize({ text, language });
      const seconds = audio.pcm.length / audio.sampleRate;
      expect(audio.sampleRate).toBe(22050);
      expect(seconds).toBeGreaterThan(0.2);
      expect(seconds).toBeLessThan(3);
      expect(rms(audio.pcm)).toBeGreaterThan(300);
    });
  }

  it('falls back to English for an unknown language instead of failing', async () => {
    const audio = await provider.synthesize({ text: 'hello', language: 'zz' });
    expect(audio.pcm.length).toBeGreaterThan(1000);
  });

  it('keeps the event loop free while synthesizing', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    await provider.synthesize({ text: 'The quick brown fox jumps over the lazy dog. '.repeat(8), language: 'en-US' });
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
  });
});

describe('ttsService', () => {
  it('resamples to 8 kHz and caches by text, voice and language', async () => {
    const counting = new CountingProvider();
    const service = new TtsService(counting, { cacheDir: dir });
    const first = await service.speak({ text: 'hello', language: 'en-US' });
    const again = await service.speak({ text: 'hello', language: 'en-US' });
    expect(again).toBe(first);
    expect(counting.calls).toBe(1);
    await service.speak({ text: 'hello', language: 'sw' });
    expect(counting.calls).toBe(2);
    expect(first.length / 8000).toBeGreaterThan(0.2);
    expect(rms(first)).toBeGreaterThan(300);

    // A new service with the same disk cache does not synthesize again.
    await delay(100);
    expect((await readdir(dir)).filter((f) => f.endsWith('.pcm'))).toHaveLength(2);
    const fresh = new TtsService(counting, { cacheDir: dir });
    const fromDisk = await fresh.speak({ text: 'hello', language: 'en-US' });
    expect(counting.calls).toBe(2);
    expect(Array.from(fromDisk)).toEqual(Array.from(first));
  });

  it('evicts the least recently used entries beyond its memory budget', async () => {
    const sizes = new TtsService(provider);
    const [one, two, three] = await Promise.all(['one', 'two', 'three'].map((text) => sizes.speak({ text })));
    const counting = new CountingProvider();
    const service = new TtsService(counting, { memoryBytes: one!.byteLength + three!.byteLength + Math.min(two!.byteLength, 100) });
    await service.speak({ text: 'one' });
    await service.speak({ text: 'two' });
    await service.speak({ text: 'one' }); // 'one' is now the most recently used
    await service.speak({ text: 'three' }); // over budget: 'two' goes
    expect(counting.calls).toBe(3);
    await service.speak({ text: 'one' });
    await service.speak({ text: 'three' });
    expect(counting.calls).toBe(3);
    await service.speak({ text: 'two' });
    expect(counting.calls).toBe(4);
    expect(service.cacheStats.bytes).toBeLessThanOrEqual(one!.byteLength + three!.byteLength + 100);
  });

  it('rejects when aborted', async () => {
    const service = new TtsService(provider);
    const ac = new AbortController();
    const p = service.speak({ text: 'a sentence that takes a moment', signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toThrow();
  });
});

describe('mediaEndpoint.say', () => {
  it('speaks text to the far end', async () => {
    const engine = new MediaEngine({ portMin: 31300, portMax: 31319, bindAddress: '127.0.0.1', tts: provider });
    try {
      const phone = await engine.createEndpoint();
      const leg = await engine.createEndpoint();
      connect(phone, leg);
      const heard = captureInbound(phone, 400);
      const said = leg.say('hello there', { voice: 'alice', language: 'en-US' });
      expect(rms(await heard)).toBeGreaterThan(300);
      await expect(said).resolves.toBe('done');
      const ac = new AbortController();
      const aborted = leg.say('this will be interrupted', { signal: ac.signal });
      ac.abort();
      await expect(aborted).resolves.toBe('aborted');
    } finally {
      await engine.close();
    }
    expect(engine.ports.inUse).toBe(0);
    // The injected provider is the caller's: still usable after the engine closed.
    await expect(provider.synthesize({ text: 'still here' })).resolves.toBeDefined();
  });
});

describe('splitSentences', () => {
  it('splits at sentence ends and merges short sentences up to the limit', () => {
    expect(splitSentences('Hello. How are you? Fine!', 12)).toEqual(['Hello.', 'How are you?', 'Fine!']);
    expect(splitSentences('Hello. How are you? Fine!')).toEqual(['Hello. How are you? Fine!']);
    expect(splitSentences('line one\nline two', 5)).toEqual(['line one', 'line two']);
    expect(splitSentences('   ')).toEqual([]);
  });
});

describe('incrementalSource', () => {
  it('plays parts in order as they become ready, waiting in silence and skipping failed parts', async () => {
    let resolveSecond!: (pcm: Int16Array) => void;
    const second = new Promise<Int16Array>((r) => (resolveSecond = r));
    const failed = Promise.reject(new Error('tts down'));
    const errors: number[] = [];
    const source = new IncrementalSource([Promise.resolve(new Int16Array(200).fill(1)), second, failed, Promise.resolve(new Int16Array(100).fill(3))], {
      onPartError: (_e, i) => errors.push(i),
    });
    await delay(0);
    const frame = new Int16Array(160);
    expect(source.read(frame)).toBe(true);
    expect(frame.every((s) => s === 1)).toBe(true);
    expect(source.read(frame)).toBe(true); // 40 samples of part 0, then waiting for part 1
    expect(frame.slice(0, 40).every((s) => s === 1) && frame.slice(40).every((s) => s === 0)).toBe(true);
    expect(source.read(frame)).toBe(true);
    expect(frame.every((s) => s === 0)).toBe(true);
    resolveSecond(new Int16Array(160).fill(2));
    await delay(0);
    expect(source.read(frame)).toBe(true);
    expect(frame.every((s) => s === 2)).toBe(true);
    expect(source.read(frame)).toBe(true); // part 2 failed: straight to part 3
    expect(frame.slice(0, 100).every((s) => s === 3)).toBe(true);
    expect(source.read(frame)).toBe(false);
    expect(errors).toEqual([2]);
  });
});

describe('mediaEndpoint.say (long text)', () => {
  it('speaks long text sentence by sentence', async () => {
    const counting = new CountingProvider();
    const engine = new MediaEngine({ portMin: 31340, portMax: 31359, bindAddress: '127.0.0.1', tts: counting });
    try {
      const phone = await engine.createEndpoint();
      const leg = await engine.createEndpoint();
      connect(phone, leg);
      const text = Array.from({ length: 12 }, (_, i) => `This is sentence number ${i + 1} of a rather long announcement.`).join(' ');
      const ac = new AbortController();
      const heard = captureInbound(phone, 200);
      const said = leg.say(text, { signal: ac.signal });
      expect(rms(await heard)).toBeGreaterThan(300);
      ac.abort();
      await expect(said).resolves.toBe('aborted');
      expect(counting.calls).toBeGreaterThan(1);
    } finally {
      await engine.close();
    }
  });
});
