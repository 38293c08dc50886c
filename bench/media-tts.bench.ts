/**
 * TTS latency through the media engine: `endpoint.say(text)` with the default
 * provider (eSpeak NG on a worker thread), short and long text in en-US and
 * sw, cold (a fresh process: the worker starts and loads eSpeak on this
 * request), warm (worker running, text not cached) and cached (same text
 * again). The reference is a raw Node UDP echo round trip on loopback,
 * measured in the same run.
 *
 * Run: `npx vitest bench --run --config vitest.bench.config.ts bench/media-tts.bench.ts`
 * (about 40 s; env: MEDIA_BENCH_TTS_RUNS=3 runs per cell, MEDIA_BENCH_JSON=path
 * to also write the raw samples). Every figure is the median of the runs;
 * writes the `media-tts` block of bench/README.md.
 *
 * The engine runs in a child process on plain Node (compiled with
 * bench/lib/media-build.ts) so the figures are those of production code, not
 * of vite's module runner; see bench/lib/media-tts.ts for what is timed.
 */
import { writeFile } from 'node:fs/promises';
import { bench, describe } from 'vitest';
import { buildChildren } from './lib/media-build.js';
import { BenchChild } from './lib/media-ipc.js';
import { markdownTable, median, recordHeadline, writeReadmeSection } from './lib/readme-section.js';

const RUNS = Number(process.env.MEDIA_BENCH_TTS_RUNS ?? 3);

interface Sample {
  parts: number;
  synthFirstMs: number;
  synthAllMs: number;
  firstAudioMs: number;
  audioMs: number;
}

interface Case {
  name: string;
  language: string;
  /** Text for variant `n`: a different number in every sentence-sized part, so each variant is a new synthesis. */
  text: (n: number) => string;
}

const CASES: Case[] = [
  { name: 'en-US short', language: 'en-US', text: (n) => `Your account balance is ${1200 + n * 37} shillings.` },
  {
    name: 'en-US long',
    language: 'en-US',
    text: (n) =>
      `Thank you for calling Sautikit customer care on line ${n + 1}. Your call is important to us and will be answered by the next available agent. ` +
      'Please have your account number ready. To hear your balance, press one. ' +
      `To speak to an agent about your payment of ${1200 + n * 37} shillings, press two. To hear these options again, press nine.`,
  },
  { name: 'sw short', language: 'sw', text: (n) => `Salio lako ni shilingi ${1200 + n * 37}.` },
  {
    name: 'sw long',
    language: 'sw',
    text: (n) =>
      `Asante kwa kupiga simu kwa huduma kwa wateja wa Sautikit kwenye laini ${n + 1}. Simu yako ni muhimu kwetu na itajibiwa na wakala anayefuata. ` +
      'Tafadhali kuwa na nambari yako ya akaunti tayari. Kusikia salio lako, bonyeza moja. ' +
      `Kuzungumza na wakala kuhusu malipo yako ya shilingi ${1200 + n * 37}, bonyeza mbili. Kusikia chaguo hizi tena, bonyeza tisa.`,
  },
];

const f = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : '–');
const med = (samples: Sample[], key: keyof Sample): number => median(samples.map((s) => s[key]));
/** `median (min–max)` in ms. */
const cell = (samples: Sample[], key: keyof Sample): string => {
  const v = samples.map((s) => s[key]);
  return `${f(median(v))} (${f(Math.min(...v))}–${f(Math.max(...v))})`;
};

describe('TTS latency', () => {
  bench(
    `say(): ${CASES.length} cases × cold / warm / cached × ${RUNS} runs`,
    async () => {
      const build = await buildChildren(['bench/lib/media-tts.ts']);
      const script = build.js('bench/lib/media-tts.ts');
      const cold = new Map<string, Sample[]>();
      const warm = new Map<string, Sample[]>();
      const cached = new Map<string, Sample[]>();
      let rtts: number[] = [];
      try {
        // Cold: a fresh process per run, so the worker thread, the WebAssembly
        // module and eSpeak's voice data all load on the measured request.
        for (const c of CASES) {
          const samples: Sample[] = [];
          for (let r = 0; r < RUNS; r++) {
            const child = new BenchChild(script);
            try {
              await child.call('init', { warm: false });
              samples.push(await child.call<Sample>('say', { text: c.text(r), language: c.language }));
              await child.call('close');
            } finally {
              await child.close();
            }
          }
          cold.set(c.name, samples);
        }
        const child = new BenchChild(script);
        try {
          await child.call('init', { warm: true });
          for (const c of CASES) {
            const samples: Sample[] = [];
            for (let r = 0; r < RUNS; r++) samples.push(await child.call<Sample>('say', { text: c.text(100 + r), language: c.language }));
            warm.set(c.name, samples);
          }
          // Cached: texts synthesized in the warm runs above.
          for (const c of CASES) {
            const samples: Sample[] = [];
            for (let r = 0; r < RUNS; r++) samples.push(await child.call<Sample>('say', { text: c.text(100 + r), language: c.language }));
            cached.set(c.name, samples);
          }
          rtts = await child.call<number[]>('udpRtt', { count: 200 });
          await child.call('close');
        } finally {
          await child.close();
        }
      } finally {
        await build.remove();
      }
      const rtt = median(rtts);
      const rows = CASES.map((c) => {
        const co = cold.get(c.name)!;
        const wa = warm.get(c.name)!;
        const ca = cached.get(c.name)!;
        return [c.name, `${f(med(wa, 'audioMs') / 1000, 1)} s`, co[0]?.parts ?? '?', cell(co, 'synthFirstMs'), cell(co, 'firstAudioMs'), cell(co, 'synthAllMs'), cell(wa, 'synthFirstMs'), cell(wa, 'firstAudioMs'), cell(wa, 'synthAllMs'), cell(ca, 'firstAudioMs')];
      });
      const markdown = [
        `\`endpoint.say(text)\` with the default provider (eSpeak NG on a worker thread), on a leg sending RTP to a UDP socket on 127.0.0.1, plain Node. ms, **median (min–max) of ${RUNS} runs**. Cold: a fresh process per run (worker, WebAssembly and voice load on this request); warm: worker running, text never synthesized before; cached: the same text again. "First audio" is the first packet with speech in it at the caller's socket. Reference, same run: raw UDP echo round trip on 127.0.0.1, median ${rtt.toFixed(3)} ms (one way about ${(rtt / 2).toFixed(3)} ms).`,
        '',
        markdownTable(['text', 'audio', 'parts', 'cold: first part synthesized', 'cold: first audio at caller', 'cold: all synthesized', 'warm: first part', 'warm: first audio', 'warm: all synthesized', 'cached: first audio'], rows),
      ].join('\n');
      console.log(markdown);
      writeReadmeSection('media-tts', markdown, { heading: 'Media engine: TTS latency' });
      const short = warm.get('en-US short')!;
      const shortCached = cached.get('en-US short')!;
      recordHeadline({
        id: 'media-tts',
        what: '`say` → first audio at the caller, en-US short text, warm / cached (media engine alone)',
        value: `${f(med(short, 'firstAudioMs'))} / ${f(med(shortCached, 'firstAudioMs'))} ms`,
        reference: `UDP round trip on loopback: ${rtt.toFixed(3)} ms`,
        goal: 'answer → first RTP p99 ≤ 50 ms (cached prompts)',
        section: 'tts-latency',
      });
      if (process.env.MEDIA_BENCH_JSON) {
        const raw = { rtts, cold: Object.fromEntries(cold), warm: Object.fromEntries(warm), cached: Object.fromEntries(cached) };
        await writeFile(process.env.MEDIA_BENCH_JSON, JSON.stringify(raw, null, 2));
      }
    },
    // One pass with its own medians: cold runs cannot be repeated by tinybench's loop.
    { iterations: 1, time: 0, warmupIterations: 0, warmupTime: 0 },
  );
});
