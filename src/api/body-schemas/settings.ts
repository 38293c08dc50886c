import { errorMessageKeyword } from '../route-schemas.js';
import { aliased, body, boolean, nullableText, schema, texts, type Infer } from './body-schema.js';

/**
 * Body of `PATCH /v1/settings` (only the fields sent change). Patterns, host
 * names and the amount are checked by the route.
 */
export const settingsBody = body({
  ...aliased('allowed_destinations', ['allowedDestinations'], texts('E.164 prefixes (`+254`) and `sip:` patterns (`sip:*@pbx.example.com`)', { maxItems: 500 })),
  ...aliased('allowed_callback_hosts', ['allowedCallbackHosts'], texts('Host names (`*.example.com` allowed); empty = any public host', { maxItems: 500 })),
  ...aliased('allow_private_callbacks', ['allowPrivateCallbacks'], boolean('Allow loopback/private callback addresses')),
  ...aliased('daily_spend_limit', ['dailySpendLimit'], schema({
    type: ['string', 'number', 'null'], description: 'KES amount such as `"500.00"`; null removes the limit',
    [errorMessageKeyword]: '{name} must be an amount like "500.00" or null',
  })),
  ...aliased('softphone_routing_url', ['softphoneRoutingUrl'], nullableText('Voice callback for calls placed by the workspace\'s softphones whose credential has no `routing_url`; null: direct routing', { maxLength: 2048 })),
}, [], { description: 'snake_case or camelCase' });
export type SettingsBody = Infer<typeof settingsBody>;
