import { aliased, body, nullableText, text, type Infer } from './body-schema.js';

/**
 * Bodies of `/v1/numbers`. The URLs are checked against the workspace's
 * callback policy by the route, E.164 numbers and prefixes are parsed there.
 */
const numberUrls = {
  ...aliased('routing_url', ['routingUrl'], nullableText('Fetched for voice actions when a call arrives (and for outbound calls from this number without their own action_url)')),
  ...aliased('status_url', ['statusUrl'], nullableText('Receives the lifecycle events of the number\'s calls')),
  ...aliased('fallback_url', ['fallbackUrl'], nullableText('Tried when routing_url fails')),
  ...aliased('friendly_name', ['friendlyName'], nullableText('Your label (at most 200 characters)', { maxLength: 200 })),
};

export const claimNumberBody = body({
  ...aliased('number', ['phone_number', 'phoneNumber'], text('The number to claim (E.164)')),
  prefix: text('Claim the first free number starting with this E.164 prefix'),
  ...numberUrls,
});
export type ClaimNumberBody = Infer<typeof claimNumberBody>;

export const updateNumberBody = body(numberUrls, [], { description: 'snake_case or camelCase (routingUrl, statusUrl, fallbackUrl, friendlyName)' });
export type UpdateNumberBody = Infer<typeof updateNumberBody>;
