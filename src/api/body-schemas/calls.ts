import { errorMessageKeyword } from '../route-schemas.js';
import { machineDetectionModes } from '../../shared/answered-by.js';
import { aliased, body, boolean, integer, oneOfValues, schema, text, type Infer } from './body-schema.js';

/**
 * Bodies of `/v1/calls`. Destinations are parsed (E.164 or sip: URI), the
 * caller checked against the workspace's numbers, URLs against its callback
 * policy and voice actions by the action parser, all in the routes.
 */

const url = (description: string) => text(description, { messages: { type: '{name} must be a URL' } });

export const createCallBody = body({
  to: schema({
    type: ['string', 'array'], minItems: 1, maxItems: 100,
    items: { type: 'string', maxLength: 2048, [errorMessageKeyword]: { type: '{name} must be a string', maxLength: '{name} is too long' } },
    description: 'E.164 number or `sip:` URI; an array places one call per entry and answers an array',
    [errorMessageKeyword]: { required: 'to is required (an E.164 number, a sip: URI, or an array of them)', minItems: 'to must name 1 to 100 destinations',
      maxItems: 'to must name 1 to 100 destinations', _: 'to must be an E.164 number, a sip: URI, or an array of them' },
  }),
  from: text('A number your workspace has claimed (the caller ID)', {
    maxLength: 32, minLength: 1, messages: { required: 'from is required: a number your workspace has claimed', minLength: 'from is required: a number your workspace has claimed' },
  }),
  ...aliased('action_url', ['voice_callback_url', 'actionUrl', 'voiceCallbackUrl'], url('Fetched for voice actions when the call is answered (default: the `from` number\'s routing_url)')),
  ...aliased('status_url', ['statusUrl'], url('Receives the call\'s lifecycle events (default: the `from` number\'s status_url)')),
  ...aliased('clientRequestId', ['client_request_id'], text('Idempotency key: the same key within 24 h answers the first response', { maxLength: 200 })),
  timeout: integer('Seconds to ring before `no-answer` (1–600)', { min: 1, max: 600 }, 30),
  ...aliased('time_limit', ['timeLimit'], integer('Longest the call may last once answered, in seconds (1–86400)', { min: 1, max: 86_400 })),
  record: boolean('Record the whole call', false),
  ...aliased('machine_detection', ['machineDetection', 'MachineDetection'], oneOfValues(machineDetectionModes,
    'Answering machine detection (docs/campaigns.md): `Enable` fetches the answer URL as soon as it knows who answered; `DetectMessageEnd` waits, for a machine, until its greeting ends (after the beep), for voicemail drops. The answer webhook gets `AnsweredBy`, the call `answered_by`',
    { message: '{name} must be Enable or DetectMessageEnd' })),
  ...aliased('machine_detection_timeout', ['machineDetectionTimeout', 'MachineDetectionTimeout'],
    integer('Longest to listen before deciding `unknown` (or `machine_start`), in seconds (3–120; default 30)', { min: 3, max: 120 })),
  metadata: schema({
    type: ['object', 'null'], maxProperties: 16, description: 'At most 16 string pairs, kept on the call and filterable in the list',
    propertyNames: { pattern: '^[A-Za-z0-9_.-]{1,64}$', [errorMessageKeyword]: 'metadata key \'{key}\' must be 1-64 letters, digits, _ . or -' },
    additionalProperties: { type: 'string', maxLength: 500, [errorMessageKeyword]: '{name} must be a string of at most 500 characters' },
    [errorMessageKeyword]: { maxProperties: 'metadata may hold at most 16 pairs', _: 'metadata must be an object of string values' },
  }),
}, ['to', 'from']);
export type CreateCallBody = Infer<typeof createCallBody>;

/** Live control: one of redirect, new actions, hang up, mute or hold (the route says which applies when). */
export const controlCallBody = body({
  ...aliased('action_url', ['actionUrl', 'url'], url('Redirect: fetch actions from this URL and run them instead')),
  actions: schema({
    type: 'array', description: 'Voice actions (docs/actions.md) that replace the running ones', [errorMessageKeyword]: 'actions must be an array',
    // The actions themselves are read by the action parser, which names the bad field.
    items: { type: 'object', [errorMessageKeyword]: '{name} must be an object like {"say":{"text":"…"}}' },
  }),
  status: oneOfValues(['completed', 'canceled'], 'Hang up', { message: 'status can only be set to "completed" (hang up)' }),
  muted: boolean('Mute in the conference'),
  hold: boolean('Hold in the conference'),
});
export type ControlCallBody = Infer<typeof controlCallBody>;
