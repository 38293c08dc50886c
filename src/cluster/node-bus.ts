import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { AppError } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import { BadNodeMessage, encodeMessage, parseNodeReply, parseNodeRequest, replyOfError, type NodeRequest } from './node-messages.js';

/** The subject a node answers its requests on: only that node subscribes (no queue group), so a request reaches it or nobody. */
export function nodeSubject(nodeId: string): string {
  return `sautikit.node.${nodeId}.rpc`;
}

/** Every node subscribes here too: questions whose node the store cannot tell (a sandbox call lives in one node's memory). */
export const everyNodeSubject = 'sautikit.nodes.rpc';

/** Carries out a request locally: answers the route's result, or throws the AppError the route would. */
export type NodeRequestHandler = (request: NodeRequest) => Promise<unknown>;

export interface NodeBusOptions {
  url: string;
  nodeId: string;
  logger: Logger;
  /** How long a request waits for the node holding the call. Default 3 000 ms; PATCH with a redirect gets `controlTimeoutMs`. */
  timeoutMs?: number;
  /** For `call.control`: a redirect fetches the customer's action URL on that node (10 s fetch timeout). Default 12 000 ms. */
  controlTimeoutMs?: number;
  /** Asking every node: how long after the last answer to stop listening. Default 250 ms. */
  stallMs?: number;
}

/** Why a request did not get an answer from its node: none subscribed (no such node running) or it did not answer in time. */
export class NodeUnreachable extends Error {
  override readonly name = 'NodeUnreachable';
  constructor(readonly nodeId: string, readonly reason: 'no_responders' | 'timeout' | 'closed', detail: string) {
    super(`node '${nodeId}' ${reason === 'no_responders' ? 'is not running (no NATS subscriber)' : reason === 'timeout' ? 'did not answer in time' : 'cannot be asked: the NATS connection is closed'}: ${detail}`);
  }
}

/**
 * This node's link to its peers over NATS request/reply (SPEC §16). Opened
 * at start (an unreachable server stops the start with a clear error); the
 * client then reconnects on its own for as long as the node runs. Requests
 * are typed `NodeRequest`s; replies carry the result or the AppError, so the
 * asking node answers exactly as if the call were its own.
 */
export class NodeBus {
  readonly #nc: NatsConnection;
  readonly #options: Required<Omit<NodeBusOptions, 'logger'>> & { logger: Logger };
  #closed: Promise<void> | undefined;

  private constructor(nc: NatsConnection, options: NodeBusOptions) {
    this.#nc = nc;
    this.#options = { timeoutMs: 3000, controlTimeoutMs: 12_000, stallMs: 250, ...options };
    void this.#watchStatus();
  }

  get nodeId(): string {
    return this.#options.nodeId;
  }

  /** Connects to `url`; throws an Error naming --nats-url when the server cannot be reached now. */
  static async connect(options: NodeBusOptions): Promise<NodeBus> {
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: options.url, name: `sautikit-${options.nodeId}`, timeout: 3000,
        // After the first connection, a lost server is retried for as long as the node runs.
        reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 1000,
      });
    } catch (error) {
      throw new Error(`--nats-url ${options.url} is not reachable: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    return new NodeBus(nc, options);
  }

  /**
   * Answers requests for this node, and the questions asked of every node,
   * with `handler`. Resolves once the server has the subscriptions (a flush):
   * from then on a peer's request reaches this node instead of meeting "no
   * responders", which would read as "call live nowhere".
   */
  async serve(handler: NodeRequestHandler): Promise<void> {
    // Nothing a peer sends may crash the node: whatever escapes #answer is logged.
    const respond = (msg: Msg) => void this.#answer(msg, handler).catch((error: unknown) => this.#options.logger.error({ err: error }, 'could not answer another node'));
    this.#nc.subscribe(nodeSubject(this.#options.nodeId), { callback: (error, msg) => (error ? this.#subscriptionFailed(error) : respond(msg)) });
    this.#nc.subscribe(everyNodeSubject, { callback: (error, msg) => (error ? this.#subscriptionFailed(error) : respond(msg)) });
    await this.#nc.flush();
  }

  /**
   * Asks node `nodeId` to carry out `request`: answers its result, throws the
   * AppError it answered, or NodeUnreachable (no such node subscribed: at once;
   * no answer: after the timeout).
   */
  async request(nodeId: string, request: NodeRequest): Promise<unknown> {
    const timeout = request.kind === 'call.control' ? this.#options.controlTimeoutMs : this.#options.timeoutMs;
    let msg: Msg;
    try {
      msg = await this.#nc.request(nodeSubject(nodeId), encodeMessage(request), { timeout });
    } catch (error) {
      throw this.#unreachable(nodeId, error);
    }
    return resultOf(msg.data);
  }

  /**
   * Asks every node; answers the first success, or throws the first error
   * that is not `not_found` (or `not_found` when no node has it). Nodes that
   * have nothing answer `not_found` at once, so the wait ends `stallMs` after
   * the last of them.
   */
  async requestAny(request: NodeRequest, notFound: AppError): Promise<unknown> {
    let replies: AsyncIterable<Msg>;
    try {
      replies = await this.#nc.requestMany(everyNodeSubject, encodeMessage(request), { strategy: 'stall', stall: this.#options.stallMs, maxWait: this.#options.timeoutMs });
    } catch (error) {
      throw this.#unreachable('*', error);
    }
    let failure: AppError | undefined;
    try {
      for await (const msg of replies) {
        try {
          return resultOf(msg.data);
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
          if (error.code !== 'not_found') failure ??= error;
        }
      }
    } catch (error) {
      if (error instanceof AppError) throw error;
      // No responders when only this node runs, or the wait ran out: nobody had it.
      this.#options.logger.debug({ err: error, kind: request.kind }, 'asking every node ended');
    }
    throw failure ?? notFound;
  }

  /** Unsubscribes and closes; idempotent. Requests being answered get their replies first (drain). */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      try {
        await this.#nc.drain();
      } catch {
        await this.#nc.close();
      }
    })();
    return this.#closed;
  }

  async #answer(msg: Msg, handler: NodeRequestHandler): Promise<void> {
    const log = this.#options.logger;
    let reply;
    try {
      const request = parseNodeRequest(msg.data);
      const log2 = log.child({ kind: request.kind, ...('callId' in request ? { callId: request.callId } : {}) });
      try {
        reply = { ok: true as const, result: await handler(request) };
      } catch (error) {
        if (!(error instanceof AppError)) log2.error({ err: error }, 'a request from another node failed');
        reply = replyOfError(error);
      }
    } catch (error) {
      if (!(error instanceof BadNodeMessage)) throw error;
      log.warn({ subject: msg.subject, problem: error.message }, 'malformed request from another node');
      reply = replyOfError(new AppError('validation_failed', `malformed request from another node: ${error.message}`, 'message'));
    }
    if (!msg.reply) return;
    try {
      msg.respond(encodeMessage(reply));
    } catch (error) {
      // A reply larger than the server's max_payload, or the connection closing: the asker gets a clear error, not a hang.
      log.error({ err: error }, 'could not send a reply to another node');
      try {
        msg.respond(encodeMessage(replyOfError(error)));
      } catch {
        // The connection is closing: the asker's request ends as unreachable.
      }
    }
  }

  #unreachable(nodeId: string, error: unknown): Error {
    const detail = error instanceof Error ? error.message : String(error);
    const name = error instanceof Error ? error.name : '';
    const noResponders = /no responders/i.test(detail) || name === 'NoRespondersError';
    if (noResponders) return new NodeUnreachable(nodeId, 'no_responders', detail);
    if (this.#nc.isClosed()) return new NodeUnreachable(nodeId, 'closed', detail);
    return new NodeUnreachable(nodeId, 'timeout', detail);
  }

  #subscriptionFailed(error: Error): void {
    this.#options.logger.error({ err: error }, 'NATS subscription failed');
  }

  /** Logs losing and finding the server again (the client reconnects by itself). */
  async #watchStatus(): Promise<void> {
    try {
      for await (const status of this.#nc.status()) {
        if (status.type === 'disconnect' || status.type === 'reconnect' || status.type === 'error') {
          this.#options.logger.warn({ nats: status.type, server: 'server' in status ? status.server : undefined }, `NATS ${status.type}`);
        }
      }
    } catch (error) {
      this.#options.logger.error({ err: error }, 'NATS status watch ended');
    }
  }
}

/** A peer's reply as this node's result; its AppError is thrown as is. */
function resultOf(data: Uint8Array): unknown {
  const reply = parseNodeReply(data);
  if (reply.ok) return reply.result;
  throw new AppError(reply.error.code, reply.error.message, reply.error.field);
}
