/**
 * Answering machine detection (SPEC §17) over 50 varied synthesised calls:
 * people saying different things in different voices, voicemail greetings
 * of 3–10 s with and without a beep (beeps of 440–1800 Hz), silence and
 * fax tones, some under line noise, every one through a PCMU encode and
 * decode as it would arrive over a G.711 leg. Reports accuracy and time to
 * decision per class, and the detector's CPU per 20 ms frame beside the
 * in-band DTMF detector (timed in the same run) and the bridged-call figure.
 *
 * Run: `npx vitest bench --run --config vitest.bench.config.ts bench/machine-detection.bench.ts`
 * (about 30 s; espeak-ng and sox must be installed). Env: AMD_BENCH_RUNS
 * (CPU timing runs, default 3). Writes the `machine-detection` block of
 * bench/README.md.
 */
import { readFileSync } from 'node:fs';
import { bench, describe } from 'vitest';
import { MachineDetector, type MachineDetectionMode, type MachineDetectionResult } from '../src/media/amd/machine-detector.js';
import { decodePcmu, encodePcmu } from '../src/media/codecs/g711.js';
import { InbandDtmfDetector } from '../src/media/dtmf/inband-detector.js';
import type { AnsweredBy } from '../src/shared/answered-by.js';
import { concat, faxCng, first, silence, speech, tone, voicemailGreeting, withNoise } from '../test/helpers/amd-audio.js';
import { HEADLINES_FILE, markdownTable, median, quantile, writeReadmeSection } from './lib/readme-section.js';

const RUNS = Number(process.env.AMD_BENCH_RUNS ?? 3);

interface Scenario {
  kind: 'person' | 'voicemail' | 'voicemail, no beep' | 'silence' | 'fax';
  describe: string;
  mode: MachineDetectionMode;
  expected: AnsweredBy;
  pcm: Int16Array;
  /** Where the greeting (and beep) end, for end-of-message decisions. */
  endsAtMs?: number;
}

const ms = (pcm: Int16Array): number => (pcm.length / 8000) * 1000;

/** As heard over a PCMU leg: encoded and decoded. */
function overPcmu(pcm: Int16Array): Int16Array {
  const bytes = new Uint8Array(pcm.length);
  encodePcmu(pcm, bytes);
  const out = new Int16Array(pcm.length);
  decodePcmu(bytes, out);
  return out;
}

async function scenarios(): Promise<Scenario[]> {
  const list: Scenario[] = [];
  const noisy = (pcm: Int16Array, rms: number, seed: number) => overPcmu(rms > 0 ? withNoise(pcm, rms, seed) : pcm);
  const people: Array<[string, string, number]> = [
    ['Hello?', 'en-us', 160], ['Hello, who is this?', 'en-gb+f3', 175], ['Yes?', 'en-us+m3', 150], ['Hi, John speaking.', 'en-gb-scotland', 170],
    ['Hello hello?', 'en-us+f2', 180], ['Good morning.', 'en-029', 160], ['Habari?', 'sw', 150], ['Hello?', 'en-gb+m3', 140],
    ['Yes, hello.', 'en-us+f4', 190], ['Who is calling?', 'en-us', 170], ['Hello?', 'sw+f3', 160], ['Speaking.', 'en-gb', 160],
    ['Hello, good afternoon.', 'en-us+m2', 185], ['Hi?', 'en-gb+f2', 150],
  ];
  for (const [i, [text, voice, wpm]] of people.entries()) {
    const lead = 0.2 + (i % 5) * 0.25;
    const noise = [0, 60, 200][i % 3]!;
    list.push({ kind: 'person', describe: `"${text}" ${voice}`, mode: 'Enable', expected: 'human', pcm: noisy(concat(silence(lead), await speech(text, { voice, wpm }), silence(8)), noise, i + 1) });
  }
  const voices = ['en-us', 'en-gb+f3', 'en-us+m3', 'en-gb-scotland', 'en-us+f2', 'en-029'];
  const greetings = new Map<string, Int16Array>();
  for (const voice of voices) greetings.set(voice, await speech(voicemailGreeting, { voice, wpm: 165 }));
  const greeting = (i: number, seconds: number) => first(greetings.get(voices[i % voices.length]!)!, seconds);
  for (let i = 0; i < 8; i++) {
    const g = greeting(i, 3 + i);
    list.push({ kind: 'voicemail', describe: `${(ms(g) / 1000).toFixed(0)} s greeting, Enable`, mode: 'Enable', expected: 'machine_start',
      pcm: noisy(concat(silence(0.3), g, silence(0.4), tone(1000, 0.5), silence(5)), i % 2 ? 100 : 0, 100 + i) });
  }
  const beeps = [440, 850, 1000, 1400, 1800];
  for (let i = 0; i < 12; i++) {
    const g = greeting(i + 1, 3 + ((i * 7) % 8));
    const gap = 0.1 + (i % 4) * 0.3;
    const beepS = 0.2 + (i % 3) * 0.3;
    const head = concat(silence(0.3), g, silence(gap), tone(beeps[i % beeps.length]!, beepS));
    list.push({ kind: 'voicemail', describe: `${(ms(g) / 1000).toFixed(0)} s greeting, ${beeps[i % beeps.length]} Hz beep after ${gap.toFixed(1)} s`, mode: 'DetectMessageEnd',
      expected: 'machine_end_beep', endsAtMs: ms(head), pcm: noisy(concat(head, silence(6)), [0, 80, 150][i % 3]!, 200 + i) });
  }
  for (let i = 0; i < 6; i++) {
    const head = concat(silence(0.3), greeting(i + 2, 4 + i));
    list.push({ kind: 'voicemail, no beep', describe: `${(ms(head) / 1000).toFixed(0)} s greeting`, mode: 'DetectMessageEnd', expected: 'machine_end_silence',
      endsAtMs: ms(head), pcm: noisy(concat(head, silence(6)), i % 2 ? 120 : 0, 300 + i) });
  }
  for (let i = 0; i < 5; i++) {
    const rms = [0, 30, 80, 150, 250][i]!;
    list.push({ kind: 'silence', describe: `line noise ${rms} rms`, mode: 'Enable', expected: 'unknown', pcm: noisy(silence(12), rms, 400 + i) });
  }
  for (let i = 0; i < 5; i++) {
    const ced = i >= 3;
    list.push({ kind: 'fax', describe: ced ? 'CED 2100 Hz' : 'CNG 1100 Hz', mode: i % 2 ? 'DetectMessageEnd' : 'Enable', expected: 'fax',
      pcm: noisy(ced ? concat(silence(0.5), tone(2100, 3)) : faxCng(3), i % 2 ? 100 : 0, 500 + i) });
  }
  return list;
}

/** Frames of `pcm` (then silence) into a detector until it decides. */
function detect(s: Scenario): { result: MachineDetectionResult; frames: number } {
  const detector = new MachineDetector({ mode: s.mode, timeoutMs: 30_000 });
  const frame = new Int16Array(160);
  for (let at = 0, frames = 1; ; at += 160, frames++) {
    frame.fill(0);
    if (at < s.pcm.length) frame.set(s.pcm.subarray(at, Math.min(s.pcm.length, at + 160)));
    if (detector.push(frame)) return { result: detector.result!, frames };
  }
}

/** µs per frame of the detector over every call's audio, and of the in-band DTMF detector over the same frames. */
function cpuPerFrame(list: Scenario[]): { amd: number; dtmf: number } {
  const frames: Int16Array[] = [];
  for (const s of list) for (let at = 0; at + 160 <= s.pcm.length; at += 160) frames.push(s.pcm.subarray(at, at + 160));
  const time = (fn: () => void): number => {
    const start = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - start) / 1000 / frames.length;
  };
  // Detectors that never decide, so every frame runs the whole analysis (a decided detector returns at once).
  const amdPass = () => {
    let detector = new MachineDetector({ mode: 'DetectMessageEnd', timeoutMs: 600_000 });
    for (const f of frames) if (detector.push(f)) detector = new MachineDetector({ mode: 'DetectMessageEnd', timeoutMs: 600_000 });
  };
  const dtmf = new InbandDtmfDetector(() => undefined);
  const dtmfPass = () => {
    for (const f of frames) dtmf.process(f);
  };
  amdPass();
  dtmfPass();
  return { amd: time(amdPass), dtmf: time(dtmfPass) };
}

// tinybench may call the function more than once even with `iterations: 1`: the first call is the measurement.
let measured = false;

describe('answering machine detection', () => {
  bench('50 synthesised calls: accuracy, time to decision, CPU per frame', async () => {
    if (measured) return;
    measured = true;
    const list = await scenarios();
    const outcomes = list.map((s) => ({ s, ...detect(s) }));
    const kinds = [...new Set(list.map((s) => `${s.kind} (${s.mode})`))];
    const rows = kinds.map((kind) => {
      const of = outcomes.filter((o) => `${o.s.kind} (${o.s.mode})` === kind);
      const right = of.filter((o) => o.result.answeredBy === o.s.expected);
      const decided = of.map((o) => o.result.decidedAfterMs);
      const afterEnd = of.filter((o) => o.s.endsAtMs !== undefined).map((o) => o.result.decidedAfterMs - o.s.endsAtMs!);
      const wrong = of.filter((o) => o.result.answeredBy !== o.s.expected).map((o) => `${o.s.describe} → ${o.result.answeredBy} (${o.result.reason})`);
      return [kind, of[0]!.s.expected, `${right.length} / ${of.length}`, `${Math.round(median(decided))} / ${Math.round(quantile(decided, 0.9))} / ${Math.max(...decided)}`,
        afterEnd.length ? `${Math.round(median(afterEnd))} / ${Math.max(...afterEnd.map(Math.round))}` : '–', wrong.join('; ') || '–'];
    });
    const correct = outcomes.filter((o) => o.result.answeredBy === o.s.expected).length;
    const cpu = Array.from({ length: RUNS }, () => cpuPerFrame(list));
    const amdUs = median(cpu.map((c) => c.amd));
    const dtmfUs = median(cpu.map((c) => c.dtmf));
    const bridged = (JSON.parse(readFileSync(HEADLINES_FILE, 'utf8')) as Array<{ id: string; value: string }>).find((h) => h.id === 'media-bridge')?.value ?? '–';
    const markdown = [
      `${list.length} calls, ${correct} classified right (${((correct / list.length) * 100).toFixed(0)} %). Times are of the callee's audio from the answer, ms: median / p90 / max; "after the end" is from the end of the greeting (or of the beep) to the decision.`,
      '',
      markdownTable(['callee (mode)', 'expected', 'right', 'time to decision, ms', 'after the end, ms', 'misclassified'], rows),
      '',
      markdownTable(['measured (plain JavaScript under vitest, median of ' + RUNS + ' runs over every frame above)', 'µs per 20 ms frame', 'reference', 'µs'], [
        ['answering machine detector (energy, tone meter, rules)', amdUs.toFixed(2), 'in-band DTMF detector, same frames, same run', dtmfUs.toFixed(2)],
        ['', '', 'a bridged G.711 call, CPU per call per 20 ms (bridged-call bench)', bridged],
      ]),
    ].join('\n');
    console.log(markdown);
    writeReadmeSection('machine-detection', markdown, { heading: 'Answering machine detection' });
  }, { iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 });
});
