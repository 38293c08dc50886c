import type { FieldReader } from './field-reader.js';
import type { RedirectAction } from './schema.js';

/** `redirect`: fetch new actions that replace the rest of the list. XML: `<Redirect method>url</Redirect>`. */
export const redirectAction = {
  name: 'redirect',
  xmlName: 'Redirect',
  parse(r: FieldReader): RedirectAction {
    return {
      kind: 'redirect',
      url: r.url('url', { required: true, text: true })!,
      method: (r.string('method', { enum: ['POST', 'GET', 'post', 'get'] })?.toUpperCase() ?? 'POST') as RedirectAction['method'],
    };
  },
} as const;
