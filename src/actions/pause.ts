import { setTimeout as sleep } from 'node:timers/promises';
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
  /** Silence for `length` seconds, or until something stops it. */
  async execute(action: PauseAction, _ctx: ActionContext, signal: AbortSignal): Promise<ActionOutcome> {
    await sleep(action.lengthSeconds * 1000, undefined, { signal }).catch(() => undefined);
    return continueWith;
  },
} as const;
