/**
 * What apps import from the `sautikit` package: the signature check for the
 * webhooks Sautikit sends, and the platform itself for embedding.
 */
export { verifySautikitSignature, computeSignature, signatureHeader, eventIdHeader, attemptHeader } from './webhooks/signer.js';
export type { VerifyOptions, VerifyResult } from './webhooks/signer.js';
export { startPlatform } from './main.js';
export type { Platform } from './main.js';
export { loadConfig } from './config/load-config.js';
