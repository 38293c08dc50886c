import { aliased, body, integer, requiredText, texts, type Infer } from './body-schema.js';

/** Bodies of `/v1/webhooks` and of secret rotation. Event types and the URL's policy are checked by the routes. */

export const createWebhookBody = body({
  url: requiredText('Where events are POSTed'),
  events: texts('Event types (docs/webhooks.md), or `"*"`', { maxItems: 100, default: ['*'] }),
}, ['url']);
export type CreateWebhookBody = Infer<typeof createWebhookBody>;

/** Rotating a signing secret (an endpoint's or the workspace's); the body may be left out. */
export const rotateSecretBody = body({
  ...aliased('grace_seconds', ['graceSeconds'], integer('How long the previous secret stays valid (at most 604800)', { min: 0, max: 7 * 86_400 }, 86_400)),
});
export type RotateSecretBody = Infer<typeof rotateSecretBody>;
