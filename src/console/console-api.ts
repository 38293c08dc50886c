import type { FastifyInstance } from 'fastify';

export interface ApiAnswer<T = unknown> {
  status: number;
  body: T;
  /** The raw body and its type (audio). */
  payload: Buffer;
  contentType: string;
}

/** An API error as SPEC §3 shapes it. */
export interface ApiErrorBody {
  error?: { code?: string; message?: string; field?: string };
}

/**
 * The console's only way to the platform: every read and every action is a
 * request to the REST API, injected in-process with the session's key. The
 * console therefore goes through the very same authentication, rate limit,
 * validation, permission checks and handlers as `curl` does, and cannot
 * drift from them (docs/architecture.md).
 */
export class ConsoleApi {
  constructor(readonly app: FastifyInstance, readonly key: string) {}

  async request<T = unknown>(method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, body?: unknown): Promise<ApiAnswer<T>> {
    const response = await this.app.inject({
      method, url,
      headers: { authorization: `Bearer ${this.key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
    const contentType = String(response.headers['content-type'] ?? '');
    const parsed = contentType.includes('json') && response.body ? JSON.parse(response.body) as T : undefined as T;
    return { status: response.statusCode, body: parsed, payload: response.rawPayload, contentType };
  }

  /** A GET that must succeed: its body, or an `ApiFailure` the page shows. */
  async get<T>(url: string): Promise<T> {
    const answer = await this.request<T>('GET', url);
    if (answer.status >= 400) throw new ApiFailure(answer.status, answer.body as ApiErrorBody);
    return answer.body;
  }
}

/** A refused API request, carried to the page that shows its message. */
export class ApiFailure extends Error {
  constructor(readonly status: number, readonly body: ApiErrorBody | undefined) {
    super(body?.error?.message ?? `the API answered ${status}`);
  }
}

/** "message (field)" of an API error answer, for a flash message. */
export function apiErrorText(answer: ApiAnswer): string {
  const error = (answer.body as ApiErrorBody | undefined)?.error;
  if (!error) return `the API answered ${answer.status}`;
  return error.field ? `${error.message ?? error.code} (${error.field})` : String(error.message ?? error.code);
}
