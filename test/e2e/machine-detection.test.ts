import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatCall, formatTimeline } from '../../src/cli/call-format.js';
import { concat, faxCng, first, silence, speech, tone, voicemailGreeting, wavOf, withNoise } from '../helpers/amd-audio.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';

/**
 * SPEC §17: answering machine detection on POST /v1/calls, end to end. The
 * callees are sandbox phones (real SIP and RTP) whose scripts play audio
 * synthesised here (espeak-ng, tones, noise) from the test's own HTTP server,
 * or speak with the platform's TTS; the app is a local HTTP server that
 * records the answer webhook's `AnsweredBy`.
 */
describe('answering machine detection, end to end with scripted sandbox phones', () => {
  let api: TestApi;
  let app: HttpReceiver;
  let from: string;
  const audio = new Map<string, Buffer>();

  beforeAll(async () => {
    api = await startTestApi('sqlite');
    app = await HttpReceiver.start();
    const hello = await speech('Hello?');
    const helloGb = await speech('Hello, who is this?', { voice: 'en-gb+f3', wpm: 175 });
    const greeting = first(await speech(voicemailGreeting), 6);
    const greetingGb = first(await speech(voicemailGreeting, { voice: 'en-gb+m3', wpm: 150 }), 6);
    audio.set('/person.wav', wavOf(concat(silence(0.3), hello, silence(8))));
    audio.set('/person-gb.wav', wavOf(withNoise(concat(silence(0.6), helloGb, silence(8)), 120, 9)));
    audio.set('/voicemail.wav', wavOf(concat(silence(0.2), greeting, silence(0.3), tone(1000, 0.5), silence(6))));
    audio.set('/voicemail-gb.wav', wavOf(withNoise(concat(silence(0.2), greetingGb, silence(0.5), tone(1000, 0.4), silence(6)), 120, 11)));
    audio.set('/voicemail-no-beep.wav', wavOf(concat(silence(0.2), greeting, silence(8))));
    audio.set('/fax.wav', wavOf(faxCng(3)));
    app.respond = (req) => {
      const path = req.url.split('?')[0]!;
      const wav = audio.get(path);
      if (wav) return { status: 200, body: wav, contentType: 'audio/wav' };
      if (path === '/answer') return { status: 200, body: JSON.stringify([{ say: { text: 'Hi, this is Sauti Logistics with a message about your delivery.' } }, { hangup: {} }]) };
      return { status: 404 };
    };
    from = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470' } })).json().number;
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await api?.close();
  });

  let nextPhone = 100;
  /** Sandbox phones (fresh numbers) that answer and run `script`. */
  async function phones(count: number, script: unknown[]): Promise<string[]> {
    const numbers: string[] = [];
    for (let i = 0; i < count; i++) {
      const number = `+254720000${nextPhone++}`;
      const res = await api.call('PUT', `/v1/sandbox/phones/${encodeURIComponent(number)}`, { body: { answer: { after: 0.5 }, script, hangup_after: 25 } });
      expect(res.statusCode, res.body).toBe(200);
      numbers.push(number);
    }
    return numbers;
  }

  /** Calls each number with `options`; answers, per call, the answer webhook's body, the call object and its detection timeline entries. */
  async function callAll(numbers: string[], options: Record<string, unknown>) {
    const placed = await api.call('POST', '/v1/calls', { body: { to: numbers, from, action_url: `${app.url}/answer`, ...options } });
    expect(placed.statusCode, placed.body).toBe(201);
    return Promise.all((placed.json() as Array<{ id: string }>).map(async ({ id }) => {
      const hook = await until(async () => app.requests.find((r) => r.url.startsWith('/answer') && r.json?.CallId === id), 40_000);
      const call = await until(async () => {
        const c = (await api.call('GET', `/v1/calls/${id}`)).json();
        return c.ended_at ? c : undefined;
      }, 40_000);
      const timeline = (await api.call('GET', `/v1/calls/${id}/timeline`)).json().data as Array<Record<string, any>>;
      return { body: hook.json, call, detection: timeline.filter((e) => e.type === 'machine_detection') };
    }));
  }

  const person = (): Promise<string[]> => phones(3, [{ play: `${app.url}/person.wav` }]);

  it('a person ("Hello?" then silence) is human with Enable, decided within 3.5 s of audio, before the answer URL is fetched', async () => {
    const numbers = [...await person(), ...await phones(2, [{ play: `${app.url}/person-gb.wav` }]), ...await phones(1, [{ wait: 0.4 }, { say: 'Hello?' }, { wait: 10 }])];
    for (const { body, call, detection } of await callAll(numbers, { machine_detection: 'Enable' })) {
      expect(body.AnsweredBy).toBe('human');
      expect(call.answered_by).toBe('human');
      expect(detection.map((e) => e.event)).toEqual(['started', 'decided']);
      expect(detection[0]).toMatchObject({ mode: 'Enable', timeout_seconds: 30 });
      expect(detection[1]).toMatchObject({ answered_by: 'human', reason: 'short_greeting' });
      expect(detection[1]!.decided_after_ms).toBeLessThanOrEqual(3500);
      expect(detection[1]!.greeting_ms).toBeGreaterThan(0);
    }
    // `sautikit calls show` prints the decision and its reasons.
    const [{ call, detection }] = (await callAll(await phones(1, [{ play: `${app.url}/person.wav` }]), { machine_detection: 'Enable' })) as [Awaited<ReturnType<typeof callAll>>[number]];
    expect(formatCall(call)).toContain('answered by human');
    expect(formatTimeline(detection as Array<{ at: string; type: string }>)).toMatch(/machine_detection\s+listening \(Enable, up to 30 s\)\n.*machine_detection\s+human \(short_greeting\) after \d+ ms: greeting \d+ ms, words 1/);
  }, 120_000);

  it('a voicemail (6 s greeting, then a 1 kHz beep): machine_start with Enable; machine_end_beep with DetectMessageEnd, with the beep measured', async () => {
    const wavs = ['/voicemail.wav', '/voicemail-gb.wav'];
    const enable = await callAll([...await phones(1, [{ play: `${app.url}${wavs[0]}` }]), ...await phones(1, [{ play: `${app.url}${wavs[1]}` }])], { MachineDetection: 'Enable' });
    for (const { body, call } of enable) {
      expect(body.AnsweredBy).toBe('machine_start');
      expect(call.answered_by).toBe('machine_start');
    }
    const drops = await callAll([...await phones(2, [{ play: `${app.url}${wavs[0]}` }]), ...await phones(1, [{ play: `${app.url}${wavs[1]}` }])],
      { machineDetection: 'DetectMessageEnd', machineDetectionTimeout: 20 });
    for (const { body, call, detection } of drops) {
      expect(body.AnsweredBy).toBe('machine_end_beep');
      expect(call.answered_by).toBe('machine_end_beep');
      expect(detection[1]).toMatchObject({ answered_by: 'machine_end_beep', reason: 'beep' });
      expect(Math.abs(detection[1]!.beep_hz - 1000)).toBeLessThan(20);
      // The message is played after the greeting and the beep: they took over 6 s of audio.
      expect(detection[1]!.decided_after_ms).toBeGreaterThan(6000);
    }
  }, 120_000);

  it('a voicemail without a beep ends in silence; silence is unknown; a fax is fax', async () => {
    const [noBeep, quiet, fax] = await Promise.all([
      phones(2, [{ play: `${app.url}/voicemail-no-beep.wav` }]).then((n) => callAll(n, { machine_detection: 'DetectMessageEnd' })),
      phones(2, [{ wait: 20 }]).then((n) => callAll(n, { machine_detection: 'Enable', machine_detection_timeout: 10 })),
      phones(2, [{ play: `${app.url}/fax.wav` }]).then((n) => callAll(n, { machine_detection: 'DetectMessageEnd' })),
    ]);
    for (const { body } of noBeep) expect(body.AnsweredBy).toBe('machine_end_silence');
    for (const { body, detection } of quiet) {
      expect(body.AnsweredBy).toBe('unknown');
      expect(detection[1]).toMatchObject({ reason: 'initial_silence', words: 0 });
    }
    for (const { body, detection } of fax) {
      expect(body.AnsweredBy).toBe('fax');
      expect(Math.abs(detection[1]!.tone_hz - 1100)).toBeLessThan(30);
    }
  }, 120_000);

  it('without machine_detection nothing waits and no AnsweredBy is sent; bad values are refused naming the field', async () => {
    const [{ body, call, detection }] = await callAll(await person(), {}) as [Awaited<ReturnType<typeof callAll>>[number]];
    expect(body.AnsweredBy).toBeUndefined();
    expect(call.answered_by).toBeNull();
    expect(detection).toEqual([]);
    const bad = async (extra: Record<string, unknown>) => (await api.call('POST', '/v1/calls', { body: { to: '+254720000999', from, action_url: `${app.url}/answer`, ...extra } })).json().error;
    expect(await bad({ machine_detection: 'enable' })).toMatchObject({ code: 'validation_failed', field: 'machine_detection', message: 'machine_detection must be Enable or DetectMessageEnd' });
    expect(await bad({ machine_detection: 'Enable', machine_detection_timeout: 1 })).toMatchObject({ code: 'validation_failed', field: 'machine_detection_timeout' });
    expect(await bad({ MachineDetectionTimeout: 10 })).toMatchObject({ code: 'validation_failed', field: 'MachineDetectionTimeout' });
  }, 60_000);
});
