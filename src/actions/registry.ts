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
}

/** Every voice action, by its JSON key; the XML element is its PascalCase twin. */
export const actionDefinitions: readonly ActionDefinition[] = [
  sayAction, playAction, getDigitsAction, dialAction, conferenceAction, redirectAction, hangupAction, pauseAction,
  rejectAction, recordAction, streamAction,
];

const byJsonName = new Map(actionDefinitions.map((d) => [d.name, d]));
const byXmlName = new Map(actionDefinitions.map((d) => [d.xmlName, d]));

export function findAction(name: string, fromXml: boolean): ActionDefinition | undefined {
  return fromXml ? byXmlName.get(name) : byJsonName.get(name);
}

export const knownActionNames = (fromXml: boolean): string[] => actionDefinitions.map((d) => (fromXml ? d.xmlName : d.name));
