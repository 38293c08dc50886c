import { errorMessageKeyword } from '../route-schemas.js';
import { aliased, body, integer, schema, text, type Infer } from './body-schema.js';

/**
 * Bodies of the sandbox carrier's routes. A script's steps are read by
 * sandbox/phone-script.ts (which names the bad step), and their `play` URLs
 * checked against the workspace's callback policy, by the routes.
 */

const script = (description: string) => schema({
  type: 'array', maxItems: 200, default: [], description,
  items: { type: 'object', [errorMessageKeyword]: '{name} must be an object such as {"wait":2}' },
  [errorMessageKeyword]: { maxItems: '{name} may hold at most 200 steps', _: '{name} must be an array of steps' },
});

export const sandboxCallBody = body({
  from: text('The calling sandbox phone', { default: '+254711000000', messages: { type: 'from must be an E.164 number' } }),
  to: text('One of your numbers', { messages: { required: 'to must be one of your numbers, e.g. +254700000001', type: 'to must be one of your numbers, e.g. +254700000001' } }),
  script: script('Steps: `{wait: s}`, `{press: "12#"}`, `{play: url}`, `{wait_for_audio: s}`, `{hangup: true}`; a `play` URL obeys the workspace\'s callback policy (403 `callback_url_not_allowed`, field `script[i].play`)'),
  ...aliased('max_duration', ['maxDuration'], integer('Hang up after this many seconds at most (1–3600)', { min: 1, max: 3600 }, 60)),
}, ['to']);
export type SandboxCallBody = Infer<typeof sandboxCallBody>;

const answerMessage = 'answer must be "immediately", {"after":N}, "busy", "no-answer" or "reject"';

export const sandboxPhoneBody = body({
  answer: schema({
    oneOf: [
      { enum: ['immediately', 'busy', 'no-answer', 'reject'], [errorMessageKeyword]: answerMessage },
      {
        type: 'object', required: ['after'], [errorMessageKeyword]: answerMessage,
        properties: { after: { type: 'number', minimum: 0, maximum: 600, description: 'Seconds (0–600)', [errorMessageKeyword]: answerMessage } },
      },
    ],
    default: { after: 1 }, description: 'When and whether to answer',
  }),
  script: script('Steps once answered, as for sandbox calls'),
  ...aliased('hangup_after', ['hangupAfter'], integer('Hang up this many seconds after answering', { min: 1, max: 86_400 })),
});
export type SandboxPhoneBody = Infer<typeof sandboxPhoneBody>;
