import type { CallMedia, Listenable } from '../media/call-media.js';
import type { KeyEvents } from '../media/dtmf/digits.js';
import { DigitGatherer, type DigitGathererOptions } from '../media/dtmf/digit-gatherer.js';
import type { Logger } from '../shared/log.js';

/** The digit fields of a `conference` join (SPEC §7). */
export interface RoomDigitOptions {
  /** Digits per report. Default: 1 when `finishOnKey` is '' (or unset), otherwise unlimited. */
  numDigits?: number | undefined;
  /** A key that ends a report (not included); '' for none. */
  finishOnKey?: string | undefined;
  /** Pause after a digit that ends a report with what was pressed so far. Default 5000 ms. */
  digitTimeoutMs?: number | undefined;
}

/**
 * Reports a participant's digits while it is in a room: groups of
 * `numDigits`, or up to `finishOnKey`, or whatever was pressed before a pause
 * of `digitTimeoutMs`; without `numDigits` and `finishOnKey` every key is its
 * own report. Keys come from `keys` (the call leg: RFC 4733 and SIP INFO)
 * or else the endpoint's own detection. Runs until `signal` aborts or the
 * endpoint closes. Used by the room for its own participants, and by the
 * node of a participant joined to a room on another node (SPEC §16), where
 * the keys are pressed.
 */
export async function reportRoomDigits(
  endpoint: CallMedia, keys: Listenable<KeyEvents> | undefined, options: RoomDigitOptions, signal: AbortSignal,
  onDigits: (digits: string) => void, log: Logger,
): Promise<void> {
  const finishOnKey = options.finishOnKey ?? '';
  const numDigits = options.numDigits ?? (finishOnKey === '' ? 1 : undefined);
  const timeoutMs = options.digitTimeoutMs ?? 5000;
  while (!signal.aborted && endpoint.state === 'open') {
    const result = keys ? await gather(keys, { numDigits, finishOnKey, timeoutMs }, signal) : await endpoint.collectDigits({ numDigits, finishOnKey, timeoutMs, signal });
    if (result.reason === 'aborted' || result.reason === 'closed') return;
    if (result.digits === '') continue;
    try {
      onDigits(result.digits);
    } catch (error) {
      log.error({ err: error }, 'conference digits callback threw');
    }
  }
}

/** One report of keys from the leg (no prompts: the wait for the first key starts at once). */
function gather(keys: Listenable<KeyEvents>, options: DigitGathererOptions, signal: AbortSignal): Promise<{ digits: string; reason: string }> {
  const gatherer = new DigitGatherer(keys, options, signal);
  gatherer.promptsOver();
  return gatherer.result;
}
