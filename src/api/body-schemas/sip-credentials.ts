import { body, requiredText, type Infer } from './body-schema.js';

/** Body of `POST /v1/sip/credentials`: a softphone user of the workspace's SIP domain. */
export const createSipCredentialBody = body({
  username: requiredText('Letters, digits and `. _ ~ -` (1–64)', {
    maxLength: 64, pattern: '^[A-Za-z0-9._~-]+$', messages: { pattern: 'username may hold letters, digits and . _ ~ - only' },
  }),
  password: requiredText('At least 8 characters', { maxLength: 128, minLength: 8, messages: { minLength: 'password must be at least 8 characters' } }),
}, ['username', 'password']);
export type CreateSipCredentialBody = Infer<typeof createSipCredentialBody>;
