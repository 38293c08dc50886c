import type { FieldReader } from './field-reader.js';
import type { ActionContext, ActionOutcome } from './action-context.js';
import type { NestedParser } from './nested-parser.js';
import { DigitGatherer } from '../media/dtmf/digit-gatherer.js';
import { pauseAction } from './pause.js';
import { playAction } from './play.js';
import { sayAction } from './say.js';
import type { GetDigitsAction, PromptAction } from './schema.js';

/** The actions that may play inside getDigits, run exactly as they run on their own. */
const promptDefinitions = { say: sayAction, play: playAction, pause: pauseAction };

export const digitKeys = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#'];
const promptKinds: ReadonlyArray<PromptAction['kind']> = ['say', 'play', 'pause'];

/**
 * `getDigits`: collects DTMF while the nested prompts play; a key pressed
 * during a prompt stops it. The gatherer's timeout starts when the prompts
 * end and again after each key. XML: `<GetDigits numDigits action><Say>…</Say></GetDigits>`.
 */
export const getDigitsAction = {
  name: 'getDigits',
  xmlName: 'GetDigits',
  parse(r: FieldReader, nested: NestedParser): GetDigitsAction {
    const finishOnKey = r.string('finishOnKey', { maxLength: 1 }) ?? '#';
    if (finishOnKey !== '' && !digitKeys.includes(finishOnKey)) r.fail('finishOnKey', 'must be one of 0-9, * or #, or "" to disable it');
    const prompts = nested.parse('nested').map((action, i) => {
      if (!(promptKinds as readonly string[]).includes(action.kind)) r.fail(`nested[${i}]`, `must be one of ${promptKinds.join(', ')} (got ${action.kind})`);
      return action as PromptAction;
    });
    return {
      kind: 'getDigits',
      numDigits: r.integer('numDigits', { min: 1, max: 64 }),
      timeoutSeconds: r.number('timeout', { min: 1, max: 600 }) ?? 5,
      finishOnKey,
      action: r.url('action'),
      method: (r.string('method', { enum: ['POST', 'GET', 'post', 'get'] })?.toUpperCase() ?? 'POST') as GetDigitsAction['method'],
      nested: prompts,
    };
  },
  /**
   * Digits → POST them to `action` and run what it answers. No digits → the
   * next action; or, when none is left, POST `Digits: ""` to `action` (SPEC §6).
   * A hang-up (or live control) before the request is sent means no request:
   * like Twilio's Gather, `action` never hears of a call that is over; the
   * keys pressed are on the call's timeline (`digits`, reason `aborted`).
   */
  async execute(action: GetDigitsAction, ctx: ActionContext, signal: AbortSignal, remaining: number): Promise<ActionOutcome> {
    const gatherer = new DigitGatherer(ctx.keys, { numDigits: action.numDigits, timeoutMs: action.timeoutSeconds * 1000, finishOnKey: action.finishOnKey }, signal);
    // The prompts play, as the actions they are, until they end, a key is pressed (barge-in) or the call moves on.
    const prompts = AbortSignal.any([gatherer.keyPressed, signal]);
    for (const prompt of action.nested) {
      if (prompts.aborted) break;
      await promptDefinitions[prompt.kind].execute(prompt as never, ctx, prompts);
    }
    gatherer.promptsOver();
    const { digits, reason } = await gatherer.result;
    ctx.note('digits', { digits, reason });
    if (signal.aborted || !action.action) return { next: 'continue' };
    if (digits === '' && remaining > 0) return { next: 'continue' };
    const actions = await ctx.fetchActions(action.action, { Digits: digits }, action.method, signal);
    return actions ? { next: 'replace', actions } : { next: 'end' };
  },
} as const;
