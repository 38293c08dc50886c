/**
 * One action as it arrived, before validation: its fields (JSON values, or
 * XML attributes as strings), its XML text content, and its XML children or
 * JSON nested actions. Both the JSON and the XML parser produce these, so
 * each action validates one shape.
 */
export interface ActionNode {
  /** The key or element name as written (`getDigits`, `GetDigits`). */
  name: string;
  fields: Record<string, unknown>;
  /** XML text content (the text of `<Say>`, the URL of `<Play>`, the number of `<Dial>`). */
  text: string | undefined;
  /** XML child elements in order. */
  children: ActionNode[];
  fromXml: boolean;
  /** Where it stands, for error messages: `actions[2]`, `actions[0].nested[1]`. */
  path: string;
  index: number;
}

/** An action that failed validation; `field` is the offending field. */
export class ActionValidationError extends Error {
  constructor(
    readonly path: string,
    readonly index: number,
    readonly action: string,
    readonly field: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'ActionValidationError';
  }
}
