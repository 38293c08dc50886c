import { setTimeout as sleep } from 'node:timers/promises';
import type { MediaEndpoint } from '../media/endpoint.js';
import { FETCH_NOT_ALLOWED, isFetchRefused, type FetchPolicy } from '../shared/fetch-policy.js';
import { AudioObserver } from './audio-observer.js';
import { HeardAudio } from './heard-audio.js';
import type { PhoneStep } from './phone-script.js';

export type SandboxCallStatus = 'calling' | 'ringing' | 'in-progress' | 'completed' | 'busy' | 'no-answer' | 'failed' | 'canceled';

/** What a sandbox phone observed on one call (SPEC §11). */
export interface SandboxCallReport {
  id: string;
  direction: 'to-platform' | 'from-platform';
  from: string;
  to: string;
  status: SandboxCallStatus;
  call_id: string | null;
  digits_heard: string;
  audio_seconds_heard: number;
  beeps_heard: number;
  hangup_by: 'phone' | 'platform' | null;
  duration_seconds: number | null;
  sip_status: number | null;
  started_at: string;
  answered_at: string | null;
  ended_at: string | null;
  /** Script steps that failed: a `play` the fetch policy refused (`fetch_not_allowed`) or that could not be played (`play_failed`). */
  errors: SandboxStepError[];
}

/** A script step that failed, as the phone reports it. */
export interface SandboxStepError {
  /** Index of the step in the script. */
  step: number;
  code: typeof FETCH_NOT_ALLOWED | 'play_failed';
  message: string;
  url: string;
}

/**
 * The phone's side of one sandbox call: listens to what the platform sends
 * (audio, beeps, DTMF) and plays its script (waits, key presses, audio).
 */
export class SandboxCall {
  readonly report: SandboxCallReport;
  /** Who placed it (a workspace id), so one workspace cannot read another's sandbox calls. */
  owner: string | undefined;
  readonly observer = new AudioObserver();
  /** The platform's audio as the phone heard it, to play back. */
  readonly heard = new HeardAudio();
  readonly #done: Promise<void>;
  #resolveDone!: () => void;
  readonly #linked: Promise<void>;
  #resolveLinked!: () => void;
  #answeredAtMs = 0;

  constructor(init: { id: string; direction: SandboxCallReport['direction']; from: string; to: string }) {
    this.report = {
      ...init, status: 'calling', call_id: null, digits_heard: '', audio_seconds_heard: 0, beeps_heard: 0, hangup_by: null,
      duration_seconds: null, sip_status: null, started_at: new Date().toISOString(), answered_at: null, ended_at: null, errors: [],
    };
    this.#done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
    this.#linked = new Promise((resolve) => {
      this.#resolveLinked = resolve;
    });
  }

  /** Ties the phone's call to the platform's call record. */
  link(callId: string): void {
    this.report.call_id = callId;
    this.#resolveLinked();
  }

  /** Resolves once the platform has a record for the call, or the call ended without one. */
  whenLinked(): Promise<void> {
    return this.#linked;
  }

  get ended(): boolean {
    return this.report.ended_at !== null;
  }

  /** Resolves when the call has ended. */
  whenEnded(): Promise<void> {
    return this.#done;
  }

  /** Starts listening on the phone's media once answered. */
  answered(media: MediaEndpoint): void {
    this.report.status = 'in-progress';
    this.report.answered_at = new Date().toISOString();
    this.#answeredAtMs = performance.now();
    media.fork('inbound', (frame) => {
      this.observer.observe(frame);
      this.heard.append(frame);
      this.report.audio_seconds_heard = this.observer.audioSeconds;
    });
    media.on('dtmf', (event) => {
      this.report.digits_heard += event.digit;
    });
  }

  /**
   * Runs the script; answers true when it ended with a hang-up step. `play`
   * URLs are fetched within `policy()`, the fetch policy of the workspace
   * whose script it is, read when the step plays.
   */
  async runScript(script: readonly PhoneStep[], media: MediaEndpoint, signal: AbortSignal, policy: () => Promise<FetchPolicy>): Promise<boolean> {
    for (const [index, step] of script.entries()) {
      if (signal.aborted || this.ended) return false;
      if ('wait' in step) await sleep(step.wait * 1000, undefined, { signal }).catch(() => undefined);
      else if ('press' in step) await media.sendDtmf(step.press, { signal }).catch(() => undefined);
      else if ('play' in step) await this.#play(index, step.play, media, signal, policy);
      else if ('say' in step) await media.say(step.say, { signal }).catch(() => undefined);
      else if ('wait_for_audio' in step) await this.#waitForAudio(step.wait_for_audio, signal);
      else if ('hangup' in step) return true;
    }
    return false;
  }

  /** A `play` step: a failure is reported on the call (`errors`) and the script goes on. */
  async #play(step: number, url: string, media: MediaEndpoint, signal: AbortSignal, policy: () => Promise<FetchPolicy>): Promise<void> {
    try {
      await media.playUrl(url, { policy: await policy(), signal });
    } catch (error) {
      if (signal.aborted || this.ended) return;
      const message = error instanceof Error ? error.message : String(error);
      this.report.errors.push({ step, code: isFetchRefused(error) ? FETCH_NOT_ALLOWED : 'play_failed', message, url });
    }
  }

  /** Waits until audio was heard within the window, or the window passes. */
  async #waitForAudio(seconds: number, signal: AbortSignal): Promise<void> {
    const startFrames = this.observer.audioFrames;
    const deadline = performance.now() + seconds * 1000;
    while (!signal.aborted && !this.ended && performance.now() < deadline && this.observer.audioFrames === startFrames) {
      await sleep(20, undefined, { signal }).catch(() => undefined);
    }
  }

  end(status: SandboxCallStatus, hangupBy: SandboxCallReport['hangup_by'], sipStatus?: number): void {
    if (this.ended) return;
    this.observer.finish();
    this.report.beeps_heard = this.observer.beeps;
    this.report.audio_seconds_heard = this.observer.audioSeconds;
    this.report.status = status;
    this.report.hangup_by = hangupBy;
    if (sipStatus !== undefined) this.report.sip_status = sipStatus;
    this.report.ended_at = new Date().toISOString();
    this.#resolveLinked();
    if (this.report.answered_at) this.report.duration_seconds = Math.ceil((performance.now() - this.#answeredAtMs) / 1000);
    this.#resolveDone();
  }
}
