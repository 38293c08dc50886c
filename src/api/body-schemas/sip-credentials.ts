import { aliased, body, nullableText, requiredText, text, type Infer } from './body-schema.js';

const password = { maxLength: 128, minLength: 8, messages: { minLength: 'password must be at least 8 characters' } };

/** How the credential's own calls go (SPEC §13); `null` or `""` clears either. */
const callFields = {
  ...aliased('routing_url', ['routingUrl'], nullableText('Voice callback for the calls this softphone places (before the workspace\'s `softphone_routing_url`)', { maxLength: 2048 })),
  ...aliased('caller_id', ['callerId'], nullableText('A number of the workspace presented on the calls this softphone places directly', { maxLength: 32 })),
};

/** Body of `POST /v1/sip/credentials`: a softphone user of the workspace's SIP domain. */
export const createSipCredentialBody = body({
  username: requiredText('Letters, digits and `. _ ~ -` (1–64)', {
    maxLength: 64, pattern: '^[A-Za-z0-9._~-]+$', messages: { pattern: 'username may hold letters, digits and . _ ~ - only' },
  }),
  password: requiredText('At least 8 characters', password),
  ...callFields,
}, ['username', 'password']);
export type CreateSipCredentialBody = Infer<typeof createSipCredentialBody>;

/** Body of `PATCH /v1/sip/credentials/{id}` (only the fields sent change). */
export const patchSipCredentialBody = body({
  password: text('A new password, at least 8 characters', password),
  ...callFields,
});
export type PatchSipCredentialBody = Infer<typeof patchSipCredentialBody>;
