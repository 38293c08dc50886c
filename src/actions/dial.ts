import { parseE164, parseSipTarget } from '../shared/phone-number.js';
import type { FieldReader } from './field-reader.js';
import type { ActionContext, ActionOutcome } from './action-context.js';
import type { NestedParser } from './nested-parser.js';
import type { DialAction, DialTarget } from './schema.js';

/**
 * `dial`: bridges the caller to new outbound legs; several targets ring at
 * once and the first to answer wins. JSON `number` and `sip` take a string or
 * an array; XML takes the target as text or as `<Number>`/`<Sip>` children.
 */
export const dialAction = {
  name: 'dial',
  xmlName: 'Dial',
  parse(r: FieldReader, nested: NestedParser): DialAction {
    const raw: string[] = [];
    raw.push(...(r.stringList('number') ?? []), ...(r.stringList('sip') ?? []));
    raw.push(...nested.childTexts('Number'), ...nested.childTexts('Sip'));
    if (r.node.fromXml && r.node.text) raw.push(r.node.text.trim());
    if (raw.length === 0) r.fail('number', 'is required (a number, a sip: URI, or an array of them)');
    if (raw.length > 10) r.fail('number', 'may ring at most 10 targets at once');
    const targets = raw.map((value, i): DialTarget => {
      if (/^sips?:/i.test(value.trim())) {
        if (!parseSipTarget(value)) r.fail(raw.length > 1 ? `number[${i}]` : 'sip', `'${value}' is not a sip: URI`);
        return { kind: 'sip', value: value.trim() };
      }
      const number = parseE164(value);
      if (!number) r.fail(raw.length > 1 ? `number[${i}]` : 'number', `'${value}' is not an E.164 number or a sip: URI`);
      return { kind: 'number', value: number };
    });
    let callerId = r.string('callerId', { maxLength: 64 });
    if (callerId !== undefined && !/^sips?:/i.test(callerId)) {
      const normalised = parseE164(callerId);
      if (!normalised) r.fail('callerId', 'must be an E.164 number');
      callerId = normalised;
    }
    return {
      kind: 'dial',
      targets,
      callerId,
      timeoutSeconds: r.integer('timeout', { min: 1, max: 600 }) ?? 30,
      timeLimitSeconds: r.integer('timeLimit', { min: 1, max: 86_400 }),
      action: r.url('action'),
      record: r.boolean('record') ?? false,
      hangupOnStar: r.boolean('hangupOnStar') ?? false,
    };
  },
  /** When the bridge ends: POST DialCallStatus etc. to `action` if set, else go on with the list. */
  async execute(action: DialAction, ctx: ActionContext, signal: AbortSignal): Promise<ActionOutcome> {
    const result = await ctx.dial(action, signal);
    if (signal.aborted || !action.action) return { next: 'continue' };
    const actions = await ctx.fetchActions(action.action, {
      DialCallStatus: result.status, DialCallId: result.callId ?? '', DialCallDuration: result.durationSeconds,
    }, 'POST');
    return actions ? { next: 'replace', actions } : { next: 'end' };
  },
} as const;
