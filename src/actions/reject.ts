import type { FieldReader } from './field-reader.js';
import type { ActionContext, ActionOutcome } from './action-context.js';
import type { RejectAction } from './schema.js';

/** `reject`: refuses an unanswered inbound call, unbilled. XML: `<Reject reason="busy"/>`. */
export const rejectAction = {
  name: 'reject',
  xmlName: 'Reject',
  parse(r: FieldReader): RejectAction {
    return { kind: 'reject', reason: (r.string('reason', { enum: ['rejected', 'busy'] }) ?? 'rejected') as RejectAction['reason'] };
  },
  async execute(action: RejectAction, ctx: ActionContext): Promise<ActionOutcome> {
    await ctx.reject(action.reason);
    return { next: 'end' };
  },
} as const;
