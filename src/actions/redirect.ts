import type { FieldReader } from './field-reader.js';
import type { ActionContext, ActionOutcome } from './action-context.js';
import type { RedirectAction } from './schema.js';

/** `redirect`: fetch new actions that replace the rest of the list. XML: `<Redirect method>url</Redirect>`. */
export const redirectAction = {
  name: 'redirect',
  xmlName: 'Redirect',
  parse(r: FieldReader): RedirectAction {
    return {
      kind: 'redirect',
      url: r.url('url', { required: true, text: true })!,
      method: (r.string('method', { enum: ['POST', 'GET', 'post', 'get'] })?.toUpperCase() ?? 'POST') as RedirectAction['method'],
    };
  },
  /** The fetched actions replace the rest of the list; a failed fetch ends the call (the error is on the call). */
  async execute(action: RedirectAction, ctx: ActionContext): Promise<ActionOutcome> {
    const actions = await ctx.fetchActions(action.url, {}, action.method);
    return actions ? { next: 'replace', actions } : { next: 'end' };
  },
} as const;
