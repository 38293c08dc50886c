/**
 * Every way a SIP message can fail to parse. Errors are typed by `code` so
 * callers never branch on a message string; `status` is the response a UAS
 * should send for a bad request (RFC 3261 §21.4.1 400, §21.5.6 505).
 */
export type SipParseErrorCode =
  | 'too-large'
  | 'too-many-headers'
  | 'header-too-long'
  | 'bad-start-line'
  | 'bad-version'
  | 'bad-header-line'
  | 'bad-header'
  | 'missing-header'
  | 'duplicate-header'
  | 'bad-uri'
  | 'bad-content-length'
  | 'truncated-body'
  | 'bad-encoding';

export interface PartialHeaders {
  /** Raw header values in arrival order (canonical names), for building a stateless error response. */
  readonly headers: ReadonlyArray<readonly [name: string, value: string]>;
  /** Whether the start line looked like a request (responses with errors are dropped, never answered). */
  readonly isRequest: boolean;
  /** The method token of the request line, when one was read. */
  readonly method: string | undefined;
}

export class SipParseError extends Error {
  readonly code: SipParseErrorCode;
  /** SIP status for a request carrying this problem. */
  readonly status: number;
  /** For stream transports: the framing is lost and the connection must be closed (RFC 4475 §3.1.2.3, §3.3.9). */
  readonly framingLost: boolean;
  /** What could be read before the error; absent when nothing useful was. */
  partial: PartialHeaders | undefined;

  constructor(code: SipParseErrorCode, message: string, options: { status?: number; framingLost?: boolean } = {}) {
    super(message);
    this.name = 'SipParseError';
    this.code = code;
    this.status = options.status ?? 400;
    this.framingLost = options.framingLost ?? false;
  }

  /** Reason phrase for the error response: names the problem, stays on one line. */
  get reasonPhrase(): string {
    const detail = this.message.replace(/[\r\n]+/g, ' ').slice(0, 120);
    if (this.status === 505) return 'Version Not Supported';
    if (this.status === 513) return `Message Too Large (${detail})`;
    return `Bad Request (${detail})`;
  }
}

export function isSipParseError(value: unknown): value is SipParseError {
  return value instanceof SipParseError;
}
