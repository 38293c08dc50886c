import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  json: any;
}

/**
 * A real local HTTP server standing in for a customer's app: it records
 * every request and answers with what `respond` says (200 by default).
 */
export class HttpReceiver {
  readonly requests: ReceivedRequest[] = [];
  respond: (req: ReceivedRequest, index: number) => { status: number; body?: string | Buffer; contentType?: string; delayMs?: number } = () => ({ status: 200 });
  #server: Server;
  #waiters: Array<() => void> = [];

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Listens on `port` (a restarted receiver keeps its address), or a free one, at `host` (default 127.0.0.1). */
  static async start(port = 0, host = '127.0.0.1'): Promise<HttpReceiver> {
    const receiver: HttpReceiver = new HttpReceiver(createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const rawBody = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try { json = JSON.parse(rawBody); } catch { json = undefined; }
        const record: ReceivedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawBody, json };
        const index = receiver.requests.push(record) - 1;
        const answer = receiver.respond(record, index);
        const send = () => {
          res.writeHead(answer.status, { 'content-type': answer.contentType ?? 'application/json' });
          res.end(answer.body ?? '');
          for (const w of receiver.#waiters.splice(0)) w();
        };
        if (answer.delayMs) setTimeout(send, answer.delayMs); else send();
      });
    }));
    await new Promise<void>((resolve) => receiver.#server.listen(port, host, resolve));
    return receiver;
  }

  get url(): string {
    const { address, port } = this.#server.address() as AddressInfo;
    return `http://${address}:${port}`;
  }

  /** Resolves once `predicate` holds for the requests received, or rejects after `timeoutMs`. */
  async waitFor(predicate: (requests: ReceivedRequest[]) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.requests)) {
      if (Date.now() > deadline) throw new Error(`receiver: condition not met after ${timeoutMs} ms (${this.requests.length} requests)`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
