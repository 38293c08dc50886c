import type { FieldReader } from './field-reader.js';
import { continueWith, type ActionContext, type ActionOutcome } from './action-context.js';
import type { PlayAction } from './schema.js';

/** `play`: a WAV or MP3 from a URL. XML: `<Play loop>url</Play>`. */
export const playAction = {
  name: 'play',
  xmlName: 'Play',
  parse(r: FieldReader): PlayAction {
    return {
      kind: 'play',
      url: r.url('url', { required: true, text: true })!,
      loop: r.integer('loop', { min: 0, max: 1000 }) ?? 1,
    };
  },
  async execute(action: PlayAction, ctx: ActionContext, signal: AbortSignal): Promise<ActionOutcome> {
    await ctx.prompt(action, signal);
    return continueWith;
  },
} as const;
