import type { FieldReader } from './field-reader.js';
import type { NestedParser } from './nested-parser.js';
import type { GetDigitsAction, PromptAction } from './schema.js';

export const digitKeys = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#'];
const promptKinds: ReadonlyArray<PromptAction['kind']> = ['say', 'play', 'pause'];

/**
 * `getDigits`: collects DTMF while the nested prompts play; a key pressed
 * during a prompt stops it. XML: `<GetDigits numDigits action><Say>…</Say></GetDigits>`.
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
} as const;
