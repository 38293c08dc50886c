import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The options every command that talks to a running server takes (parseArgs form). */
export const serverOptions = {
  url: { type: 'string' },
  'api-key': { type: 'string' },
  data: { type: 'string' },
} as const;

/** Where `serverOptions` are explained in the commands' help. */
export const serverOptionsHelp = [
  '  --url URL        the server (env SAUTIKIT_URL; default http://127.0.0.1:8080)',
  '  --api-key KEY    a workspace API key (env SAUTIKIT_API_KEY; default: credentials.json in the data folder)',
  '  --data DIR       the data folder holding credentials.json (env SAUTIKIT_DATA; default ./.sautikit)',
];

/** A failure to report in one line (the command exits 1; 2 for a usage problem). */
export class CliFailure extends Error {
  constructor(message: string, readonly exitCode: 1 | 2 = 1) {
    super(message);
    this.name = 'CliFailure';
  }
}

/**
 * A running server as the CLI reaches it, found the same way by every
 * command: `--url` or SAUTIKIT_URL, and the key from `--api-key`,
 * SAUTIKIT_API_KEY or the data folder's credentials.json (written at the
 * first start).
 */
export class ServerClient {
  private constructor(readonly base: string, private readonly key: string) {}

  static fromOptions(values: { url?: string | boolean | undefined; 'api-key'?: string | boolean | undefined; data?: string | boolean | undefined }, env: NodeJS.ProcessEnv = process.env): ServerClient {
    const base = String(values.url ?? env['SAUTIKIT_URL'] ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
    let key = (typeof values['api-key'] === 'string' ? values['api-key'] : undefined) ?? env['SAUTIKIT_API_KEY'];
    if (!key) {
      const file = path.join(String(values.data ?? env['SAUTIKIT_DATA'] ?? '.sautikit'), 'credentials.json');
      try {
        key = (JSON.parse(readFileSync(file, 'utf8')) as { api_key: string }).api_key;
      } catch {
        throw new CliFailure(`no API key: pass --api-key, set SAUTIKIT_API_KEY, or run where ${file} exists`, 2);
      }
    }
    return new ServerClient(base, key);
  }

  /** GETs a path; a SPEC §3 error answer becomes a CliFailure with its code and message. */
  get<T>(pathAndQuery: string): Promise<T> {
    return this.#request<T>('GET', pathAndQuery);
  }

  post<T>(pathAndQuery: string, body: unknown): Promise<T> {
    return this.#request<T>('POST', pathAndQuery, body);
  }

  async #request<T>(method: string, pathAndQuery: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${pathAndQuery}`, {
        method, headers: { Authorization: `Bearer ${this.key}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliFailure(`cannot reach ${this.base}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new CliFailure(`${this.base} answered HTTP ${res.status} with a body that is not JSON; is --url a Sautikit server?`);
    }
    if (!res.ok) {
      const error = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new CliFailure(`${error?.code ?? `HTTP ${res.status}`}: ${error?.message ?? text}`);
    }
    return json as T;
  }
}
