import { checkCallbackUrl, type CallbackPolicy } from '../shared/callback-url-policy.js';

/** One step of a sandbox phone's script (SPEC §11). */
export type PhoneStep =
  | { wait: number }
  | { press: string }
  | { play: string }
  | { say: string }
  | { wait_for_audio: number }
  | { hangup: true };

/** Validates a script from the API; answers the steps or a message naming the bad step. */
export function parsePhoneScript(raw: unknown, field: string): PhoneStep[] | { error: string; field: string } {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) return { error: `${field} must be an array of steps`, field };
  if (raw.length > 200) return { error: `${field} may hold at most 200 steps`, field };
  const steps: PhoneStep[] = [];
  for (const [i, step] of raw.entries()) {
    const at = `${field}[${i}]`;
    if (!step || typeof step !== 'object' || Array.isArray(step)) return { error: `${at} must be an object such as {"wait":2}`, field: at };
    const s = step as Record<string, unknown>;
    const seconds = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 3600;
    if ('wait' in s) {
      if (!seconds(s['wait'])) return { error: `${at}.wait must be seconds from 0 to 3600`, field: `${at}.wait` };
      steps.push({ wait: s['wait'] as number });
    } else if ('press' in s) {
      if (typeof s['press'] !== 'string' || !/^[0-9*#A-D]{1,64}$/.test(s['press'])) return { error: `${at}.press must be DTMF digits (0-9, *, #)`, field: `${at}.press` };
      steps.push({ press: s['press'] });
    } else if ('play' in s) {
      if (typeof s['play'] !== 'string' || !/^https?:\/\//.test(s['play'])) return { error: `${at}.play must be an http(s) URL of a WAV or MP3`, field: `${at}.play` };
      steps.push({ play: s['play'] });
    } else if ('say' in s) {
      if (typeof s['say'] !== 'string' || s['say'].length > 2000) return { error: `${at}.say must be text`, field: `${at}.say` };
      steps.push({ say: s['say'] });
    } else if ('wait_for_audio' in s) {
      if (!seconds(s['wait_for_audio'])) return { error: `${at}.wait_for_audio must be seconds from 0 to 3600`, field: `${at}.wait_for_audio` };
      steps.push({ wait_for_audio: s['wait_for_audio'] as number });
    } else if ('hangup' in s) {
      steps.push({ hangup: true });
    } else {
      return { error: `${at} is not a known step (wait, press, play, say, wait_for_audio, hangup)`, field: at };
    }
  }
  return steps;
}

/**
 * Refuses a script whose `play` URL the workspace's fetch policy forbids
 * (403 `callback_url_not_allowed` naming `script[i].play`), so the mistake
 * shows when the script is saved; the fetch is checked again when it plays.
 */
export function checkScriptUrls(steps: readonly PhoneStep[], policy: CallbackPolicy, field: string): void {
  for (const [i, step] of steps.entries()) {
    if ('play' in step) checkCallbackUrl(step.play, policy, `${field}[${i}].play`);
  }
}
