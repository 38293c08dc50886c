/**
 * The objects of the REST API as OpenAPI 3.1 schemas (components/schemas of
 * the document served at /v1/openapi.json), each field with its meaning, so
 * that docs/api.md can be rendered from them. These describe answers, and
 * are descriptive only (the routes shape them: serializers.ts); request
 * bodies are described by the schemas the routes validate them with
 * (body-schemas/).
 */
import { answeredByValues } from '../shared/answered-by.js';

export type Schema = Record<string, unknown>;

/** A field: its JSON type(s) and what it means. */
const field = (type: string | string[], description: string, extra: Schema = {}): Schema => ({ type, description, ...extra });
const oneOfValues = (values: Array<string | null>, description: string, extra: Schema = {}): Schema => ({ enum: values, description, ...extra });
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

const timestamp = (description: string): Schema => field('string', `${description} (ISO 8601)`, { format: 'date-time' });
const maybeTimestamp = (description: string): Schema => field(['string', 'null'], `${description} (ISO 8601)`, { format: 'date-time' });
/** KES as a string with two decimals (SPEC §10). */
export const money = (description: string): Schema => field('string', `${description}; KES, two decimals`, { pattern: '^-?\\d+\\.\\d{2}$' });
const maybeMoney = (description: string): Schema => field(['string', 'null'], `${description}; KES, two decimals`, { pattern: '^-?\\d+\\.\\d{2}$' });
const kes = field('string', 'Always `KES`', { const: 'KES' });
const strings = (description: string): Schema => field('array', description, { items: { type: 'string' } });

const callStatuses = ['queued', 'initiated', 'ringing', 'in-progress', 'completed', 'busy', 'no-answer', 'failed', 'canceled'];

export const schemas: Record<string, Schema> = {
  Error: {
    type: 'object',
    description: 'Every error answer; `code` is stable (see docs/errors.md).',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: field('string', 'Stable error code'),
          message: field('string', 'What went wrong, for people; repeats at most 200 characters of any input', { maxLength: 1000 }),
          field: field('string', 'The offending input, where there is one (`to`, `metadata.team`, `actions[1].number`)', { maxLength: 200 }),
        },
      },
    },
  },
  Health: {
    type: 'object',
    properties: {
      status: oneOfValues(['ok', 'starting', 'draining'], '`ok` once every component is ready; `draining` (503) from SIGTERM on, while running calls finish'),
      components: field('object', 'Readiness of `store`, `sip`, `media` and `api`', { additionalProperties: { type: 'boolean' } }),
    },
  },
  AvailableNumber: {
    type: 'object',
    properties: {
      number: field('string', 'E.164 number'),
      type: oneOfValues(['mobile', 'landline', 'tollfree'], 'Kind of number (decides the inbound rate)'),
    },
  },
  Number: {
    type: 'object',
    properties: {
      id: field('string', 'Number id (`num_…`)'),
      number: field('string', 'E.164 number'),
      friendly_name: field(['string', 'null'], 'Your label'),
      routing_url: field(['string', 'null'], 'Fetched for voice actions when a call arrives, and when an outbound call from this number is answered without its own action_url'),
      status_url: field(['string', 'null'], 'Receives the lifecycle events of calls on this number'),
      fallback_url: field(['string', 'null'], 'Tried when routing_url fails, times out or answers invalid actions'),
      claimed_at: timestamp('When the workspace claimed it'),
    },
  },
  Call: {
    type: 'object',
    properties: {
      id: field('string', 'Call id (`call_…`)'),
      direction: oneOfValues(['inbound', 'outbound'], 'Inbound to one of your numbers, or placed by you (API or dial)'),
      from: field('string', 'Caller: E.164 number or sip: URI'),
      to: field('string', 'Callee: E.164 number or sip: URI'),
      status: oneOfValues(callStatuses, '`queued` → `initiated` → `ringing` → `in-progress` → `completed`, or ending in `busy`, `no-answer`, `failed`, `canceled`'),
      parent_call_id: field(['string', 'null'], 'The call whose `dial` created this leg'),
      number_id: field(['string', 'null'], 'Your number the call came in on or was placed from'),
      conference: field(['string', 'null'], 'The room the call joined, if any'),
      created_at: timestamp('Created'),
      ringing_at: maybeTimestamp('Started ringing'),
      answered_at: maybeTimestamp('Answered'),
      ended_at: maybeTimestamp('Ended'),
      duration_seconds: field(['integer', 'null'], 'Answered time in whole seconds, rounded up (the billed duration)'),
      ring_seconds: field(['integer', 'null'], 'Time spent ringing'),
      hangup_cause: field(['string', 'null'], 'Why it ended, e.g. `normal_clearing`, `busy`, `no_answer`, `insufficient_funds`, `media_timeout`, `platform_restart`; every cause with what to do is in docs/calls.md'),
      hangup_by: oneOfValues(['caller', 'callee', 'api', 'system', null], 'Which side ended it'),
      price: maybeMoney('What the leg cost, once rated'),
      currency: kes,
      rate_per_minute: maybeMoney('The rate applied per minute, charged per second'),
      client_request_id: field(['string', 'null'], 'The `clientRequestId` it was placed with'),
      metadata: field('object', 'Your string pairs (≤ 16), filterable with `metadata.KEY=VALUE`', { additionalProperties: { type: 'string' } }),
      answered_by: oneOfValues([...answeredByValues, null], 'Answering machine detection\'s decision, on calls placed with `machine_detection` (docs/campaigns.md); null otherwise'),
      recording: field(['object', 'null'], 'The call recording, if any', {
        properties: { id: field('string', 'Recording id'), url: field('string', 'Where to GET the WAV'), duration_seconds: field('integer', 'Length') },
      }),
      events: field('array', 'Only on `GET /v1/calls/{id}`: lifecycle states with their timestamps', {
        items: { type: 'object', properties: { status: field('string', 'State entered'), timestamp: timestamp('When') } },
      }),
      errors: field('array', 'Only on `GET /v1/calls/{id}`: webhook and action errors (`code`, `timestamp`, details); every code is in docs/calls.md', {
        items: { type: 'object', properties: { code: field('string', 'What failed'), timestamp: timestamp('When') } },
      }),
    },
  },
  TimelineEntry: {
    type: 'object',
    description: 'One thing that happened on a call; the other fields depend on `type`.',
    required: ['at', 'type'],
    properties: {
      at: timestamp('When it happened'),
      type: oneOfValues(['status', 'webhook.request', 'webhook.response', 'action.start', 'action.end', 'digits', 'dial', 'conference', 'stream', 'recording', 'machine_detection', 'warning', 'error'],
        '`status`: `status` entered (with `hangup_cause`, `sip_status` at the end). '
        + '`webhook.request`: `url`, `method`, `body` (the fields sent). '
        + '`webhook.response`: `url`, `status`, `duration_ms`, `content_type`, `body` (the first 64 KiB as text; `body_truncated` when cut), or `error` and `code` when no answer came. '
        + '`action.start` / `action.end`: `index` in its list, `name`, and on end `result` (`continue`, `replace`, `end`, `aborted`). '
        + '`digits`: `digits` and why input ended (`reason`). '
        + '`dial`: `event` `placed` (`legs`: each `call_id`, `to`, `status`; each leg has its own timeline), `answered` (`call_id`), `ended` (`status`, `call_id`, `duration_seconds`). '
        + '`conference`: `event` `join` / `leave`, `room`. `stream`: `event` `stream-started` / `stream-stopped` / `stream-error`, `name`, `url`. '
        + '`recording`: `recording_id`, `url`, `duration_seconds`. '
        + '`machine_detection`: `event` `started` (`mode`, `timeout_seconds`) or `decided` (`answered_by`, `reason`, `decided_after_ms` and what was measured: `initial_silence_ms`, `greeting_ms`, `words`, `noise_floor_dbfs`, `beep_hz`/`beep_ms`, `tone_hz`). '
        + '`warning` / `error`: `code` (docs/calls.md), `message` and details, also in the call\'s `errors`.'),
    },
    additionalProperties: true,
  },
  Recording: {
    type: 'object',
    properties: {
      id: field('string', 'Recording id (`rec_…`)'),
      call_id: field(['string', 'null'], 'The recorded call (for a room: the call that started the recording)'),
      conference: field(['string', 'null'], 'The recorded room, if any'),
      duration_seconds: field('integer', 'Length'),
      channels: field('integer', '1 (mono) or 2 (stereo: one side per channel)'),
      url: field('string', 'Where to GET the WAV'),
      created_at: timestamp('Created'),
    },
  },
  Conference: {
    type: 'object',
    properties: {
      name: field('string', 'Room name, scoped to the workspace'),
      status: oneOfValues(['active', 'completed'], 'Active while someone is in it'),
      state: oneOfValues(['waiting', 'started', 'ended'], '`waiting` until a `startOnEnter` participant joins'),
      created_at: timestamp('First participant joined'),
      started_at: maybeTimestamp('Audio started flowing'),
      recording: field('boolean', 'The room is being recorded'),
      participant_count: field('integer', 'Participants now'),
      participants: field('array', 'Only on `GET /v1/conferences/{name}`', { items: ref('Participant') }),
    },
  },
  Participant: {
    type: 'object',
    properties: {
      call_id: field('string', 'The participant\'s call'),
      caller: field('string', 'Its caller number or URI'),
      muted: field('boolean', 'Heard by nobody'),
      hold: field('boolean', 'Hears the wait music, is not heard'),
      start_on_enter: field('boolean', 'Starts the room when joining'),
      end_on_exit: field('boolean', 'Ends the room when leaving'),
      joined_at: timestamp('Joined'),
    },
  },
  SandboxCall: {
    type: 'object',
    properties: {
      id: field('string', 'Sandbox call id'),
      status: oneOfValues(['calling', 'ringing', 'in-progress', 'completed', 'busy', 'no-answer', 'failed', 'canceled'], 'Where the phone\'s call is'),
      call_id: field(['string', 'null'], 'The platform\'s call id (see `GET /v1/calls/{id}`)'),
      from: field('string', 'The sandbox phone'),
      to: field('string', 'The number called'),
      direction: oneOfValues(['inbound', 'outbound'], 'Seen from the platform: the phone called in, or was dialled'),
      digits_heard: field('string', 'DTMF the phone received'),
      audio_seconds_heard: field('number', 'Seconds of non-silent audio the phone heard'),
      beeps_heard: field('integer', 'Beeps (tones) the phone heard'),
      hangup_by: oneOfValues(['phone', 'platform', null], 'Who hung up'),
      duration_seconds: field(['integer', 'null'], 'Answered time'),
      sip_status: field(['integer', 'null'], 'Final SIP status of a call that was not answered'),
      started_at: timestamp('Placed'),
      answered_at: maybeTimestamp('Answered'),
      ended_at: maybeTimestamp('Ended; poll until it is set'),
      errors: field('array', 'Script steps that failed: `{step, code, message, url}`, code `fetch_not_allowed` (the workspace\'s fetch policy refused the `play` URL) or `play_failed`', {
        items: { type: 'object', properties: { step: { type: 'integer' }, code: { enum: ['fetch_not_allowed', 'play_failed'] }, message: { type: 'string' }, url: { type: 'string' } } },
      }),
    },
  },
  SandboxPhone: {
    type: 'object',
    properties: {
      number: field('string', 'The sandbox number'),
      answer: field(['string', 'object'], '`"immediately"`, `{"after": N}` seconds, `"busy"`, `"no-answer"` or `"reject"`'),
      script: field('array', 'Steps once answered: `{wait}`, `{press}`, `{play}`, `{wait_for_audio}`, `{hangup}`', { items: { type: 'object' } }),
      hangup_after: field(['integer', 'null'], 'Hang up this many seconds after answering'),
    },
  },
  SipCredential: {
    type: 'object',
    properties: {
      id: field('string', 'Credential id'),
      username: field('string', 'SIP user name'),
      domain: field('string', 'The workspace\'s SIP domain'),
      aor: field('string', 'Address to dial: `sip:USERNAME@DOMAIN`'),
      registered: field('boolean', 'A softphone is registered now'),
      registrar: field('string', 'Where softphones register'),
      routing_url: field(['string', 'null'], 'Voice callback for this user\'s calls; null = the workspace\'s `softphone_routing_url`, else direct routing'),
      caller_id: field(['string', 'null'], 'Number presented on this user\'s direct calls; null = the workspace\'s first number'),
      created_at: timestamp('Created'),
    },
  },
  Wallet: {
    type: 'object',
    properties: {
      balance: money('Sum of the ledger'),
      currency: kes,
      reserved: money('Held for calls in progress'),
      available: money('balance − reserved'),
    },
  },
  Transaction: {
    type: 'object',
    properties: {
      id: field('string', 'Transaction id'),
      type: oneOfValues(['credit', 'call_charge', 'recording_charge', 'adjustment'], 'What moved the money'),
      amount: money('Signed change to the wallet'),
      currency: kes,
      call_id: field(['string', 'null'], 'The call charged'),
      leg: field(['string', 'null'], 'Which leg or fee of the call'),
      reference: field(['string', 'null'], 'Top-up reference'),
      description: field(['string', 'null'], 'Human-readable line'),
      created_at: timestamp('Posted'),
    },
  },
  RateQuote: {
    type: 'object',
    properties: {
      to: field('string', 'The destination, normalised'),
      category: oneOfValues(['outbound', 'inbound', 'sip', 'recording'], 'Rate category'),
      prefix: field('string', 'The longest matching prefix'),
      description: field('string', 'e.g. "Kenya mobile (Safaricom)"'),
      rate_per_minute: money('Per minute, charged per second'),
      currency: kes,
      billing_increment_seconds: field('integer', 'Always 1'),
    },
  },
  Rate: {
    type: 'object',
    properties: {
      category: oneOfValues(['outbound', 'inbound', 'sip', 'recording'], 'Rate category (default `outbound`)'),
      prefix: field('string', 'E.164 prefix for outbound/inbound; empty for sip and recording'),
      description: field('string', 'Label'),
      rate_per_minute: money('Per minute, charged per second'),
      currency: kes,
    },
  },
  Settings: {
    type: 'object',
    properties: {
      allowed_destinations: strings('E.164 prefixes and `sip:` domain patterns calls may go to (default `["+254"]`)'),
      allowed_callback_hosts: strings('Host names webhooks may be sent to (`*.example.com` allowed); empty = any public host'),
      allow_private_callbacks: field('boolean', 'Loopback/private callback addresses allowed (on in the embedded default)'),
      daily_spend_limit: maybeMoney('Most the workspace may spend per day; null = no limit'),
      softphone_routing_url: field(['string', 'null'], 'Voice callback for calls placed by softphone users without their own `routing_url`; null = direct routing like a PBX'),
    },
  },
  WebhookEndpoint: {
    type: 'object',
    properties: {
      id: field('string', 'Endpoint id (`wh_…`)'),
      url: field('string', 'Where events are POSTed'),
      events: strings('Subscribed event types, or `["*"]`'),
      secret: field('string', 'Only in the answer to POST: the endpoint\'s signing secret, shown once'),
      created_at: timestamp('Created'),
    },
  },
  Delivery: {
    type: 'object',
    properties: {
      id: field('string', 'Delivery id'),
      event_id: field('string', 'The event (the `Sautikit-Event-Id` header)'),
      type: field('string', 'Event type'),
      url: field('string', 'Target'),
      status: oneOfValues(['pending', 'delivered', 'failed', 'stopped'], '`stopped` after a 410'),
      attempts: field('integer', 'Attempts so far (at most 8)'),
      next_attempt_at: maybeTimestamp('Next try, while pending'),
      last_error: field(['string', 'null'], 'Last failure'),
      created_at: timestamp('Queued'),
      attempt_log: field('array', 'Every attempt: `attempt`, `status_code`, `latency_ms`, `error`, `at`', { items: { type: 'object' } }),
    },
  },
  Workspace: {
    type: 'object',
    properties: {
      id: field('string', 'Workspace id (`ws_…`)'),
      name: field('string', 'Name'),
      created_at: timestamp('Created'),
      balance: money('Wallet balance'),
      reserved: money('Held for calls in progress'),
      currency: kes,
    },
  },
  Node: {
    type: 'object',
    description: 'One node of the platform (SPEC §16), as its heartbeat in the database says.',
    properties: {
      id: field('string', 'Node id (`--node-id`, default the host name)'),
      sip_address: field('string', 'host:port of its SIP (UDP and TCP)'),
      http_url: field('string', 'Its REST API'),
      state: oneOfValues(['active', 'draining'], 'active, or draining (SIGTERM or a drain request: no new calls)'),
      live_calls: field('integer', 'Calls it held at its last heartbeat'),
      started_at: timestamp('When it started'),
      last_heartbeat_at: timestamp('Its last heartbeat (every 5 s)'),
      alive: field('boolean', 'Its last heartbeat is under 15 s old'),
    },
  },
  SipBan: {
    type: 'object',
    description: 'A source address refused on SIP after failed authentication (SPEC §13); per node, in memory.',
    properties: {
      address: field('string', 'Source IP address'),
      banned_at: timestamp('When the ban began'),
      expires_at: timestamp('When it ends by itself'),
      failures: field('integer', 'Failed digest attempts counted when it began'),
    },
  },
  Trunk: {
    type: 'object',
    properties: {
      id: field('string', 'Trunk id'),
      name: field('string', 'Unique name'),
      host: field('string', 'Carrier SIP host or IP'),
      port: field('integer', 'SIP port'),
      transport: oneOfValues(['udp', 'tcp', 'tls'], 'SIP transport'),
      username: field(['string', 'null'], 'Digest user name'),
      password_set: field('boolean', 'A digest password is stored (never shown)'),
      prefixes: strings('E.164 prefixes routed to this trunk (longest match wins)'),
      inbound_addresses: strings('IP addresses or CIDR ranges whose INVITEs are inbound calls (INVITEs from the registrar of a registered trunk are too)'),
      priority: field('integer', 'Order among trunks of one prefix: lower first, ties by name'),
      answer_timeout: field('integer', 'Seconds to answer an INVITE (any provisional) or an OPTIONS ping before failover / `down`'),
      register: field('boolean', 'The trunk registers with its carrier'),
      auth_username: field(['string', 'null'], 'Digest user name when it differs from `username`'),
      realm: field(['string', 'null'], 'Digest realm answered; any when null'),
      register_expires: field('integer', 'Lifetime asked for in REGISTER, seconds'),
      options_ping: field('integer', 'Seconds between OPTIONS pings; 0 = off'),
      country_code: field('string', 'Country calling code of numbers the trunk sends without it'),
      number_format: oneOfValues(['e164', 'international', 'national'], 'Dialled number in the Request-URI and To'),
      tech_prefix: field(['string', 'null'], 'Put before the dialled number'),
      from_domain: field(['string', 'null'], 'Host of our From URI towards the trunk'),
      send_pai: field('boolean', 'P-Asserted-Identity with the caller ID is sent'),
      srtp: oneOfValues(['off', 'optional', 'mandatory'], 'SRTP (SDES) on calls with this trunk'),
      registration: {
        type: 'object',
        description: 'The registration with the carrier, live',
        properties: {
          status: oneOfValues(['registered', 'failed', 'registering', 'disabled'], '`disabled` when `register` is false'),
          expires_at: maybeTimestamp('When the binding runs out unless refreshed (refreshed at 85 % of the granted lifetime)'),
          last_error: field(['string', 'null'], 'Why the last REGISTER failed (`403 Forbidden`, `408 Request Timeout`), until one succeeds'),
        },
      },
      health: {
        type: 'object',
        description: 'OPTIONS health, live',
        properties: {
          status: oneOfValues(['up', 'down', 'unknown'], '`up`: the last ping was answered (any status); `down`: it was not; `unknown`: not pinged (yet)'),
          last_reply_at: maybeTimestamp('When a ping was last answered'),
        },
      },
      created_at: timestamp('Created'),
      updated_at: timestamp('Last changed'),
    },
  },
};

/** A `$ref` to one of the schemas above, or an array of them. */
export const refTo = (name: keyof typeof schemas & string): Schema => ref(name);
export const listOf = (name: keyof typeof schemas & string): Schema => ({ type: 'array', items: ref(name) });
