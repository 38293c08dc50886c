import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readServerFile, serverFilePath } from './server-file.js';

/** The options every command that talks to a running server takes (parseArgs form). */
export const serverOptions = {
  url: { type: 'string' },
  'api-key': { type: 'string' },
  data: { type: 'string' },
} as const;

/** Where `serverOptions` are explained in the commands' help. */
export const serverOptionsHelp = [
  '  --url URL        the server (env SAUTIKIT_URL; default: the one started on the data folder,',
  '                   which it names in <data>/server.json, else http://127.0.0.1:8080)',
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

/** How to aim elsewhere, appended to failures that may come from talking to the wrong server. */
const pointElsewhere = 'to use another server, pass --url or set SAUTIKIT_URL (sautikit start prints its URL)';

/** The default when neither an option, the environment nor a running server names the server. */
const defaultUrl = 'http://127.0.0.1:8080';

/**
 * A running server as the CLI reaches it, found the same way by every
 * command: `--url`, else SAUTIKIT_URL, else the server started on the data
 * folder (its `server.json`), else the default; the key from `--api-key`,
 * SAUTIKIT_API_KEY or the data folder's credentials.json (written at the
 * first start). Errors name the server and where its address came from.
 */
export class ServerClient {
  private constructor(
    readonly base: string,
    /** Where `base` came from, for messages: `--url`, `SAUTIKIT_URL`, a server.json path, or `the default`. */
    readonly baseSource: string,
    private readonly key: string,
    private readonly keySource: string,
  ) {}

  static fromOptions(values: { url?: string | boolean | undefined; 'api-key'?: string | boolean | undefined; data?: string | boolean | undefined }, env: NodeJS.ProcessEnv = process.env): ServerClient {
    const dataDir = String(values.data ?? env['SAUTIKIT_DATA'] ?? '.sautikit');
    const running = typeof values.url === 'string' || env['SAUTIKIT_URL'] ? undefined : readServerFile(dataDir);
    const [url, baseSource] = typeof values.url === 'string' ? [values.url, '--url']
      : env['SAUTIKIT_URL'] ? [env['SAUTIKIT_URL'], 'SAUTIKIT_URL']
        : running ? [running.url, serverFilePath(dataDir)]
          : [defaultUrl, 'the default'];
    let key = typeof values['api-key'] === 'string' ? values['api-key'] : undefined;
    let keySource = '--api-key';
    if (!key && env['SAUTIKIT_API_KEY']) [key, keySource] = [env['SAUTIKIT_API_KEY'], 'SAUTIKIT_API_KEY'];
    if (!key) {
      const file = path.join(dataDir, 'credentials.json');
      try {
        key = (JSON.parse(readFileSync(file, 'utf8')) as { api_key: string }).api_key;
        keySource = file;
      } catch {
        throw new CliFailure(`no API key: pass --api-key, set SAUTIKIT_API_KEY, or run where ${file} exists`, 2);
      }
    }
    return new ServerClient(url.replace(/\/+$/, ''), baseSource, key, keySource);
  }

  /** "http://…:8080 (from SAUTIKIT_URL)": which server, and why that one. */
  get described(): string {
    return `${this.base} (${this.baseSource === 'the default' ? 'the default' : `from ${this.baseSource}`})`;
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
      throw new CliFailure(`cannot reach the server at ${this.described}: ${cause?.code ?? cause?.message ?? (error as Error).message}; is it running? ${pointElsewhere}`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new CliFailure(`${this.described} answered HTTP ${res.status} with a body that is not JSON: is it a Sautikit server? ${pointElsewhere}`);
    }
    if (!res.ok) {
      const error = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
      // A key refused is most often a key of another server (another data folder): say which server and which key.
      const whose = res.status === 401 ? ` (server ${this.described}, API key from ${this.keySource}; ${pointElsewhere})` : '';
      throw new CliFailure(`${error?.code ?? `HTTP ${res.status}`}: ${error?.message ?? text}${whose}`);
    }
    return json as T;
  }
}
