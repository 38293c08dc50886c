import { XMLParser } from 'fast-xml-parser';
import { quoteInput } from '../shared/errors.js';
import { ActionValidationError, type ActionNode } from './action-node.js';
import { FieldReader } from './field-reader.js';
import type { NestedParser } from './nested-parser.js';
import { findAction, knownActionNames } from './registry.js';
import type { VoiceAction } from './schema.js';

/** A customer's answer: `{"actions":[…]}`, a bare array, or `<Response>` XML. */
export type ActionsDocument = { format: 'json'; value: unknown } | { format: 'xml'; text: string };

/** Most actions one answer may hold. */
const maxActions = 500;

/**
 * A field the action does not know, ignored (SPEC §6) but reported as a
 * warning (SPEC §14): a JSON key, an XML attribute, or an XML child element
 * the action does not read (`<Numbr>` inside `<Dial>`).
 */
export interface UnknownActionField {
  /** Where the action stands: `actions[0]`, `actions[0].getDigits.nested[1]`. */
  path: string;
  index: number;
  /** The action's JSON name (`getDigits`). */
  action: string;
  /** The field as written (`numDigit`; `<Numbr>` for a child element). */
  field: string;
  /** A known field of the action close to it, the likely intent. */
  suggestion: string | undefined;
}

export interface ParsedActions {
  actions: VoiceAction[];
  unknownFields: UnknownActionField[];
}

/**
 * Parses and validates a whole answer into typed actions. Throws an
 * ActionValidationError naming the action's index and field.
 */
export function parseActions(doc: ActionsDocument): VoiceAction[] {
  return parseActionsReporting(doc).actions;
}

/** `parseActions`, with the unknown fields of every action (nested ones too) it ignored. */
export function parseActionsReporting(doc: ActionsDocument): ParsedActions {
  const nodes = doc.format === 'json' ? jsonNodes(doc.value) : xmlNodes(doc.text);
  if (nodes.length > maxActions) throw new ActionValidationError('actions', maxActions, '', undefined, `an answer may hold at most ${maxActions} actions`);
  const unknownFields: UnknownActionField[] = [];
  return { actions: nodes.map((node) => parseNode(node, unknownFields)), unknownFields };
}

function parseNode(node: ActionNode, unknownFields: UnknownActionField[]): VoiceAction {
  const definition = findAction(node.name, node.fromXml);
  if (!definition) {
    throw new ActionValidationError(node.path, node.index, node.name, undefined,
      `${node.path} is an unknown action '${quoteInput(node.name)}'; known actions: ${knownActionNames(node.fromXml).join(', ')}`);
  }
  const reader = new FieldReader(node, definition.name);
  // XML children the action reads: all of them as nested actions, or those of the names it asks for.
  const childrenRead = { all: false, names: new Set<string>() };
  const nested: NestedParser = {
    parse: (jsonField) => {
      reader.know(jsonField);
      if (node.fromXml) {
        childrenRead.all = true;
        return node.children.map((child, i) => parseNode({ ...child, path: `${node.path}.nested[${i}]`, index: node.index }, unknownFields));
      }
      const raw = node.fields[jsonField];
      if (raw === undefined || raw === null) return [];
      if (!Array.isArray(raw)) throw new ActionValidationError(node.path, node.index, definition.name, jsonField, `${node.path}.${definition.name}.${jsonField} must be an array of actions`);
      return raw.map((item, i) => parseNode(jsonNode(item, `${node.path}.${definition.name}.${jsonField}[${i}]`, node.index), unknownFields));
    },
    childTexts: (xmlName) => {
      childrenRead.names.add(xmlName);
      return node.children.filter((c) => c.name === xmlName).map((c) => c.text ?? '');
    },
  };
  const action = definition.parse(reader, nested);
  const report = (field: string, suggestion: string | undefined) => {
    unknownFields.push({ path: node.path, index: node.index, action: definition.name, field, suggestion });
  };
  for (const field of reader.unknownFields()) report(field, reader.closestKnown(field));
  if (!childrenRead.all) for (const child of node.children) if (!childrenRead.names.has(child.name)) report(`<${child.name}>`, undefined);
  return action;
}

function jsonNodes(value: unknown): ActionNode[] {
  let list: unknown;
  if (Array.isArray(value)) list = value;
  else if (value && typeof value === 'object' && 'actions' in value) list = (value as { actions: unknown }).actions;
  else throw new ActionValidationError('actions', -1, '', undefined, 'the answer must be {"actions":[…]}, an array of actions or <Response> XML');
  if (!Array.isArray(list)) throw new ActionValidationError('actions', -1, '', undefined, 'actions must be an array');
  return list.map((item, i) => jsonNode(item, `actions[${i}]`, i));
}

/** `{ "say": { "text": "…" } }`: one key, the action's name, holding its fields. */
function jsonNode(item: unknown, path: string, index: number): ActionNode {
  if (!item || typeof item !== 'object' || Array.isArray(item)) {
    throw new ActionValidationError(path, index, '', undefined, `${path} must be an object like {"say":{"text":"…"}}`);
  }
  const keys = Object.keys(item);
  if (keys.length !== 1) {
    throw new ActionValidationError(path, index, '', undefined, `${path} must have exactly one key, the action's name (got ${keys.length ? quoteInput(keys.join(', ')) : 'none'})`);
  }
  const name = keys[0]!;
  const fields = (item as Record<string, unknown>)[name];
  if (fields !== null && fields !== undefined && (typeof fields !== 'object' || Array.isArray(fields))) {
    throw new ActionValidationError(path, index, name, undefined, `${path}.${quoteInput(name)} must be an object of fields`);
  }
  return { name, fields: (fields ?? {}) as Record<string, unknown>, text: undefined, children: [], fromXml: false, path, index };
}

type XmlElement = Record<string, unknown> & { ':@'?: Record<string, string> };

const xmlParser = new XMLParser({
  preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', parseAttributeValue: false, parseTagValue: false,
  trimValues: true, processEntities: true, ignoreDeclaration: true, ignorePiTags: true,
});

function xmlNodes(text: string): ActionNode[] {
  let tree: XmlElement[];
  try {
    tree = xmlParser.parse(text, true) as XmlElement[];
  } catch (error) {
    throw new ActionValidationError('response', -1, '', undefined, `the XML is not well-formed: ${quoteInput((error as Error).message)}`);
  }
  const root = tree.find((el) => elementName(el) !== '#text');
  if (!root || elementName(root) !== 'Response') {
    throw new ActionValidationError('response', -1, '', undefined, 'the XML root element must be <Response>');
  }
  return elementChildren(root).map((el, i) => xmlNode(el, `actions[${i}]`, i));
}

function elementName(el: XmlElement): string {
  return Object.keys(el).find((k) => k !== ':@') ?? '';
}

function elementChildren(el: XmlElement): XmlElement[] {
  const content = el[elementName(el)];
  return (Array.isArray(content) ? (content as XmlElement[]) : []).filter((c) => elementName(c) !== '#text' && elementName(c) !== '#comment');
}

function xmlNode(el: XmlElement, path: string, index: number): ActionNode {
  const name = elementName(el);
  const content = el[name];
  const texts = (Array.isArray(content) ? (content as XmlElement[]) : []).filter((c) => elementName(c) === '#text').map((c) => String(c['#text'] ?? ''));
  const text = texts.join('').trim();
  return {
    name, fields: { ...(el[':@'] ?? {}) }, text: text === '' ? undefined : text,
    children: elementChildren(el).map((child, i) => xmlNode(child, `${path}[${i}]`, index)),
    fromXml: true, path, index,
  };
}
