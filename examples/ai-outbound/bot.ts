/**
 * A stand-in for the LLM of the page's bridge (`connectToLLM()`), so the
 * example runs with no AI provider: it "speaks" generated speech-like PCM,
 * "hears" the caller as keypresses, and decides like a qualification script:
 * key 1 (or no answer within `answerTimeoutMs`, a "yes" it heard) → hot lead;
 * key 2 → next question; key 9 → not interested. Swap it for Gemini Live /
 * OpenAI Realtime and keep the bridge.
 */
import { EventEmitter } from 'node:events';
import { speechLikePcm } from '../shared/audio.js';

export interface BotAnswer {
  text: string;
  hot: boolean;
  /** The lead asked not to be called: close now. */
  stop?: boolean;
}

export class StandInBot extends EventEmitter<{ audio: [Buffer]; answer: [BotAnswer] }> {
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly sampleRate: number, private readonly answerTimeoutMs: number) {
    super();
  }

  /** Speaks `text`: about 60 ms of audio per character, at most 3 s. */
  ask(text: string): number {
    const seconds = Math.min(3, Math.max(0.8, text.length * 0.06));
    this.emit('audio', speechLikePcm(seconds, this.sampleRate));
    return seconds;
  }

  /** The question has been heard in full (its mark played out): wait for an answer. */
  listen(): void {
    this.#clear();
    this.#timer = setTimeout(() => this.emit('answer', { text: '(spoken) yes, we are ready to buy', hot: true }), this.answerTimeoutMs);
  }

  pushAudio(_pcm: Buffer): void {
    // A real model transcribes here; the stand-in decides on keys and time only.
  }

  pushDigit(digit: string): void {
    if (digit === '1') this.#answer({ text: 'pressed 1: yes', hot: true });
    else if (digit === '2') this.#answer({ text: 'pressed 2: next', hot: false });
    else if (digit === '9') this.#answer({ text: 'pressed 9: not interested', hot: false, stop: true });
  }

  close(): void {
    this.#clear();
    this.removeAllListeners();
  }

  #answer(answer: BotAnswer): void {
    this.#clear();
    this.emit('answer', answer);
  }

  #clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
