import type { FieldReader } from './field-reader.js';
import { continueWith, type ActionContext, type ActionOutcome } from './action-context.js';
import type { SayAction } from './schema.js';

/** `say`: text-to-speech. XML: `<Say voice language loop>text</Say>`. */
export const sayAction = {
  name: 'say',
  xmlName: 'Say',
  parse(r: FieldReader): SayAction {
    return {
      kind: 'say',
      text: r.requiredString('text', { text: true, maxLength: 4096 }),
      voice: r.string('voice', { maxLength: 100 }),
      language: r.string('language', { maxLength: 20 }) ?? 'en-US',
      // loop 0 repeats until the call moves on (a prompt inside getDigits ends on a key).
      loop: r.integer('loop', { min: 0, max: 1000 }) ?? 1,
    };
  },
  /** Speaks the text `loop` times (0: until a key, a hang-up or the next action stops it); a synthesis failure is recorded and the call goes on. */
  async execute(action: SayAction, ctx: ActionContext, signal: AbortSignal): Promise<ActionOutcome> {
    if (signal.aborted) return continueWith;
    try {
      await ctx.media.say(action.text, { ...(action.voice ? { voice: action.voice } : {}), language: action.language, loop: action.loop, signal });
    } catch (error) {
      if (signal.aborted) return continueWith;
      ctx.log.warn({ err: error, action: 'say' }, 'say failed');
      await ctx.recordError('tts_failed', error instanceof Error ? error.message : String(error));
    }
    return continueWith;
  },
} as const;
