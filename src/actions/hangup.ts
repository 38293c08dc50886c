import type { FieldReader } from './field-reader.js';
import type { ActionContext, ActionOutcome } from './action-context.js';
import type { HangupAction } from './schema.js';

/** `hangup`: ends the call. XML: `<Hangup/>`. */
export const hangupAction = {
  name: 'hangup',
  xmlName: 'Hangup',
  parse(_r: FieldReader): HangupAction {
    return { kind: 'hangup' };
  },
  async execute(_action: HangupAction, ctx: ActionContext): Promise<ActionOutcome> {
    await ctx.hangup();
    return { next: 'end' };
  },
} as const;
