import type { FieldReader } from './field-reader.js';
import { continueWith, type ActionContext, type ActionOutcome } from './action-context.js';
import type { PauseAction } from './schema.js';

/** `pause`: silence. XML: `<Pause length="2"/>`. */
export const pauseAction = {
  name: 'pause',
  xmlName: 'Pause',
  parse(r: FieldReader): PauseAction {
    return { kind: 'pause', lengthSeconds: r.number('length', { min: 0, max: 3600 }) ?? 1 };
  },
  async execute(action: PauseAction, ctx: ActionContext, signal: AbortSignal): Promise<ActionOutcome> {
    await ctx.prompt(action, signal);
    return continueWith;
  },
} as const;
