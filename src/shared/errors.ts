/**
 * Stable error codes: the catalogue of SPEC §3. Each code has one HTTP status
 * and one entry in docs/errors.md (a test keeps the two in step). Code
 * branches on `code`, never on a message string.
 */
export const errorCatalogue = {
  unauthorized: { status: 401, summary: 'The Authorization header is missing, malformed, or names an unknown or revoked key.' },
  forbidden: { status: 403, summary: 'The key is valid but may not use this endpoint (a workspace key on an admin route).' },
  not_found: { status: 404, summary: 'No such resource in your workspace (another workspace\'s resource is also answered 404).' },
  route_not_found: { status: 404, summary: 'No endpoint has this method and path.' },
  method_not_allowed: { status: 405, summary: 'The path exists, but not with this method; the `Allow` header lists the methods it has.' },
  validation_failed: { status: 400, summary: 'The request body or query is malformed; `field` names the offending input.' },
  invalid_json: { status: 400, summary: 'The request body is not valid JSON.' },
  unsupported_media_type: { status: 415, summary: 'The request body has a content type the endpoint does not accept.' },
  payload_too_large: { status: 413, summary: 'The request body is larger than the server accepts.' },
  invalid_url: { status: 400, summary: 'The URL has a malformed percent-escape (`%C0%AE`, `%zz`) or a character a URL may not hold.' },
  url_too_long: { status: 414, summary: 'The URL, or one segment of its path, is longer than the server accepts.' },
  header_too_large: { status: 431, summary: 'The request line and headers together are larger than the server accepts (16 KiB).' },
  malformed_request: { status: 400, summary: 'The request is not well-formed HTTP: a malformed request line or header, a body that does not match its `Content-Length`, or no `Host` header.' },
  request_timeout: { status: 408, summary: 'The request\'s headers or body did not arrive in time.' },
  expectation_failed: { status: 417, summary: 'The `Expect` header asks for something other than `100-continue`.' },
  insufficient_funds: { status: 402, summary: 'The wallet cannot cover at least one minute at the destination rate.' },
  destination_not_allowed: { status: 403, summary: 'The destination does not match the workspace\'s `allowed_destinations`.' },
  callback_url_not_allowed: { status: 403, summary: 'The callback URL is not http(s), its host is outside `allowed_callback_hosts`, or it points at a private or loopback address while `allow_private_callbacks` is off.' },
  number_not_owned: { status: 403, summary: 'The `from` number is not claimed by your workspace.' },
  number_not_available: { status: 409, summary: 'The requested number is already claimed or not in the inventory.' },
  no_numbers_available: { status: 409, summary: 'No unclaimed number in the inventory matches the prefix.' },
  already_exists: { status: 409, summary: 'A resource with this unique name or value already exists.' },
  idempotency_conflict: { status: 409, summary: 'The idempotency key (`clientRequestId`) was used before with a different request body.' },
  call_not_active: { status: 409, summary: 'The call is not in progress, so it cannot be controlled live.' },
  sandbox_not_running: { status: 409, summary: 'The sandbox carrier is off on this server (trunks are configured, or `--sandbox false`).' },
  caller_id_not_allowed: { status: 422, summary: 'The caller ID is not a number your workspace has claimed.' },
  no_rate: { status: 422, summary: 'No rate in the rate table matches the destination.' },
  rate_limited: { status: 429, summary: 'Too many requests; retry after the time in the `Retry-After` header.' },
  internal_error: { status: 500, summary: 'An unexpected error on the server; it has been logged.' },
  shutting_down: { status: 503, summary: 'The server is shutting down (SIGTERM grace period) and takes no new calls; retry on another node or after the restart.' },
  service_unavailable: { status: 503, summary: 'The server is starting up or shutting down.' },
} as const satisfies Record<string, { status: number; summary: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

/** The most characters of one piece of client input an error repeats (SPEC §3 bodies never echo more). */
export const maxEchoedInput = 200;

/** Messages longer than this are clipped when sent: a safety net for a message that echoes input without `quoteInput`. */
export const maxErrorMessageLength = 1000;

/** Clips text to `max` characters, the last of them an ellipsis, without splitting a surrogate pair. */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/**
 * Client input (an id from the path, a URL, a key, a query value) as an error
 * message repeats it: at most `maxEchoedInput` characters, so a 10 KB path
 * parameter comes back as 199 characters and an ellipsis. Non-strings are
 * shown as JSON.
 */
export function quoteInput(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return clipText(text, maxEchoedInput);
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string };
}

/** The JSON of SPEC §3, with an over-long message or field clipped. */
export function errorBody(code: ErrorCode, message: string, field?: string): ErrorBody {
  return { error: { code, message: clipText(message, maxErrorMessageLength), ...(field ? { field: clipText(field, maxEchoedInput) } : {}) } };
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, field?: string) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.status = errorCatalogue[code].status;
    this.field = field;
  }

  toJSON(): ErrorBody {
    return errorBody(this.code, this.message, this.field);
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}
