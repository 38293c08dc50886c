import type { ActionContext, ActionOutcome } from './action-context.js';
import type { FieldReader } from './field-reader.js';
import type { NestedParser } from './nested-parser.js';
import type { VoiceAction } from './schema.js';
import { conferenceAction } from './conference.js';
import { dialAction } from './dial.js';
import { getDigitsAction } from './get-digits.js';
import { hangupAction } from './hangup.js';
import { pauseAction } from './pause.js';
import { playAction } from './play.js';
import { recordAction } from './record.js';
import { redirectAction } from './redirect.js';
import { rejectAction } from './reject.js';
import { sayAction } from './say.js';
import { streamAction } from './stream.js';

export interface ActionDefinition {
  name: string;
  xmlName: string;
  parse(reader: FieldReader, nested: NestedParser): VoiceAction;
  /** Runs the action; `remaining` is how many actions follow it in the list. */
  execute(action: never, ctx: ActionContext, signal: AbortSignal, remaining: number): Promise<ActionOutcome>;
}

/** Every voice action, by its JSON key; the XML element is its PascalCase twin. */
export const actionDefinitions: readonly ActionDefinition[] = [
  sayAction, playAction, getDigitsAction, dialAction, conferenceAction, redirectAction, hangupAction, pauseAction,
  rejectAction, recordAction, streamAction,
];

const byJsonName = new Map(actionDefinitions.map((d) => [d.name, d]));
const byXmlName = new Map(actionDefinitions.map((d) => [d.xmlName, d]));

// An action's kind is its JSON name.
const byKind = new Map<string, ActionDefinition>(actionDefinitions.map((d) => [d.name, d]));

/** Runs one typed action with its own definition's `execute`. */
export function executeAction(action: VoiceAction, ctx: ActionContext, signal: AbortSignal, remaining: number): Promise<ActionOutcome> {
  const definition = byKind.get(action.kind)!;
  return (definition.execute as (a: VoiceAction, c: ActionContext, s: AbortSignal, r: number) => Promise<ActionOutcome>)(action, ctx, signal, remaining);
}

export function findAction(name: string, fromXml: boolean): ActionDefinition | undefined {
  return fromXml ? byXmlName.get(name) : byJsonName.get(name);
}

export const knownActionNames = (fromXml: boolean): string[] => actionDefinitions.map((d) => (fromXml ? d.xmlName : d.name));
