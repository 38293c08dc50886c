import type { VoiceAction } from './schema.js';

/** Parses the actions nested in another (getDigits' prompts): a JSON array field, or XML children. */
export interface NestedParser {
  parse(jsonField: string): VoiceAction[];
  /** XML children with this element name, as raw text (`<Number>` inside `<Dial>`). */
  childTexts(xmlName: string): string[];
}
