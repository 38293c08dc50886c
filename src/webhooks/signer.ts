import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Request signatures (SPEC §9):
 * `Sautikit-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.
 * During a secret rotation the header carries one `v1` per valid secret, so a
 * receiver holding either the old or the new secret accepts it.
 */
export const signatureHeader = 'Sautikit-Signature';
export const eventIdHeader = 'Sautikit-Event-Id';
export const attemptHeader = 'Sautikit-Delivery-Attempt';

export function computeSignature(secret: string, timestamp: number, rawBody: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

/** The header value for a body signed with every secret given (newest first). */
export function signBody(rawBody: string | Buffer, secrets: readonly string[], now: Date): string {
  const t = Math.floor(now.getTime() / 1000);
  return [`t=${t}`, ...secrets.map((s) => `v1=${computeSignature(s, t, rawBody)}`)].join(',');
}

/** The headers every request to a customer's server carries. */
export function signedHeaders(input: { rawBody: string; secrets: readonly string[]; eventId: string; attempt: number; now: Date }): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'Sautikit-Webhooks/1',
    [signatureHeader.toLowerCase()]: signBody(input.rawBody, input.secrets, input.now),
    [eventIdHeader.toLowerCase()]: input.eventId,
    [attemptHeader.toLowerCase()]: String(input.attempt),
  };
}

export type VerifyResult = { ok: true; timestamp: number } | { ok: false; reason: 'missing_header' | 'malformed_header' | 'timestamp_too_old' | 'timestamp_in_future' | 'signature_mismatch' };

export interface VerifyOptions {
  /** Reject signatures older than this many seconds. Default 300 (5 minutes). */
  toleranceSeconds?: number;
  /** The current time; defaults to now. */
  now?: Date;
}

/**
 * Verifies a `Sautikit-Signature` header against the raw request body (the
 * exact bytes received, before any JSON parsing) and your secret or secrets.
 * Import it in your app: `import { verifySautikitSignature } from 'sautikit'`.
 */
export function verifySautikitSignature(rawBody: string | Buffer, header: string | string[] | undefined, secret: string | readonly string[], options: VerifyOptions = {}): VerifyResult {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return { ok: false, reason: 'missing_header' };
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(v)) timestamp = Number(v);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(v)) signatures.push(v);
  }
  if (timestamp === undefined || signatures.length === 0) return { ok: false, reason: 'malformed_header' };
  const nowSeconds = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const tolerance = options.toleranceSeconds ?? 300;
  if (nowSeconds - timestamp > tolerance) return { ok: false, reason: 'timestamp_too_old' };
  if (timestamp - nowSeconds > tolerance) return { ok: false, reason: 'timestamp_in_future' };
  const secrets = typeof secret === 'string' ? [secret] : secret;
  for (const s of secrets) {
    const expected = Buffer.from(computeSignature(s, timestamp, rawBody), 'hex');
    for (const sig of signatures) {
      const given = Buffer.from(sig, 'hex');
      if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true, timestamp };
    }
  }
  return { ok: false, reason: 'signature_mismatch' };
}
