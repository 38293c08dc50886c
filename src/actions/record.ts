import type { FieldReader } from './field-reader.js';
import type { ActionContext, ActionOutcome } from './action-context.js';
import type { RecordAction } from './schema.js';
import { digitKeys } from './get-digits.js';

/** `record`: voicemail-style recording; POSTs RecordingUrl to `action`. */
export const recordAction = {
  name: 'record',
  xmlName: 'Record',
  parse(r: FieldReader): RecordAction {
    const finishOnKey = r.string('finishOnKey', { maxLength: 12 }) ?? '#';
    if ([...finishOnKey].some((k) => !digitKeys.includes(k))) r.fail('finishOnKey', 'must be made of 0-9, * and #');
    return {
      kind: 'record',
      action: r.url('action'),
      maxLengthSeconds: r.integer('maxLength', { min: 1, max: 14_400 }) ?? 3600,
      timeoutSeconds: r.integer('timeout', { min: 0, max: 3600 }) ?? 5,
      finishOnKey,
      playBeep: r.boolean('playBeep') ?? true,
    };
  },
  /** Records until silence, the key, or maxLength; POSTs RecordingUrl to `action`. */
  async execute(action: RecordAction, ctx: ActionContext, signal: AbortSignal): Promise<ActionOutcome> {
    const recording = await recordMessage(action, ctx, signal);
    if (signal.aborted || !action.action) return { next: 'continue' };
    const actions = await ctx.fetchActions(action.action, {
      RecordingUrl: recording?.url ?? '', RecordingDuration: recording?.durationSeconds ?? 0,
    }, 'POST');
    return actions ? { next: 'replace', actions } : { next: 'end' };
  },
} as const;

/** A beep, then the caller's voice until `finishOnKey`, silence, `maxLength`, or the action's end. */
async function recordMessage(action: RecordAction, ctx: ActionContext, signal: AbortSignal): Promise<{ url: string; durationSeconds: number } | undefined> {
  if (action.playBeep) await ctx.media.playTone('beep', { signal }).catch(() => undefined);
  if (signal.aborted) return undefined;
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  const onKey = (digit: string): void => {
    if (action.finishOnKey.includes(digit)) stop.abort();
  };
  ctx.keys.on('dtmf', onKey);
  try {
    return await ctx.recordAudio({
      maxDurationMs: action.maxLengthSeconds * 1000, ...(action.timeoutSeconds > 0 ? { silenceTimeoutMs: action.timeoutSeconds * 1000 } : {}), signal: stop.signal,
    });
  } finally {
    ctx.keys.off('dtmf', onKey);
    signal.removeEventListener('abort', onAbort);
  }
}
