import type { FieldReader } from './field-reader.js';
import type { HangupAction } from './schema.js';

/** `hangup`: ends the call. XML: `<Hangup/>`. */
export const hangupAction = {
  name: 'hangup',
  xmlName: 'Hangup',
  parse(_r: FieldReader): HangupAction {
    return { kind: 'hangup' };
  },
} as const;
