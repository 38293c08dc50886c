/**
 * Owns the live transactions and matches messages to them
 * (RFC 3261 §17.1.3 for responses, §17.2.3 for requests, including the
 * RFC 2543 fallback for branches without the magic cookie).
 */
import { silentLogger, type Logger } from '../../shared/log.js';
import { randomBase64url } from '../../shared/random-pool.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import { serializeUri } from '../message/uri.js';
import { isRfc3261Branch, MAGIC_COOKIE, viaBranch } from '../message/via.js';
import { InviteClientTransaction } from './invite-client-transaction.js';
import { InviteServerTransaction } from './invite-server-transaction.js';
import { NonInviteClientTransaction } from './non-invite-client-transaction.js';
import { NonInviteServerTransaction } from './non-invite-server-transaction.js';
import { DEFAULT_TIMERS, type Channel, type TransactionTimers } from './transaction.js';

export type ClientTransaction = InviteClientTransaction | NonInviteClientTransaction;
export type ServerTransaction = InviteServerTransaction | NonInviteServerTransaction;

export interface TransactionLayerOptions {
  /** T1/T2/T4. Default 500/4000/5000 ms. */
  timers?: Partial<TransactionTimers>;
  /** Default `silentLogger`. */
  logger?: Logger;
}

/** A fresh RFC 3261 branch: magic cookie + 96 random bits (§8.1.1.7). */
export function newBranch(): string {
  return `${MAGIC_COOKIE}${randomBase64url(12)}`;
}

/** RFC 3261 §17.2.3: the key of the server transaction a request belongs to. ACK and CANCEL map to the INVITE's own method key when asked. */
export function serverKey(request: SipRequest, methodOverride?: string): string {
  const via = request.topVia;
  const method = methodOverride ?? (request.method === 'ACK' ? 'INVITE' : request.method);
  const branch = viaBranch(via);
  if (isRfc3261Branch(branch)) {
    return `3261|${branch}|${via.host}:${via.port ?? ''}|${method}`;
  }
  // RFC 2543 fallback: Request-URI, From tag, Call-ID, CSeq number and top Via identify the transaction.
  // The To tag is left out so the ACK for a non-2xx (which carries our tag) still matches.
  const uri = serializeUri(request.uri);
  return `2543|${uri}|${request.fromTag ?? ''}|${request.callId}|${request.cseq.seq}|${request.headers.get('Via')}|${method}`;
}

function clientKey(branch: string, method: string): string {
  return `${branch}|${method}`;
}

export class TransactionLayer {
  readonly timers: TransactionTimers;
  readonly #log: Logger;
  readonly #clients = new Map<string, ClientTransaction>();
  readonly #servers = new Map<string, ServerTransaction>();
  #closed = false;

  constructor(options: TransactionLayerOptions = {}) {
    this.timers = { ...DEFAULT_TIMERS, ...options.timers };
    this.#log = options.logger ?? silentLogger;
  }

  get size(): { clients: number; servers: number } {
    return { clients: this.#clients.size, servers: this.#servers.size };
  }

  /**
   * Starts a client transaction for `request` (its top Via must carry a
   * fresh branch). ACK is never sent in a transaction (§17.1.1.3 for non-2xx, §13.2.2.4 for 2xx).
   */
  sendRequest(request: SipRequest, channel: Channel): ClientTransaction {
    if (this.#closed) throw new Error('transaction layer closed');
    if (request.method === 'ACK') throw new Error('ACK is not sent in a client transaction');
    const branch = viaBranch(request.topVia);
    if (!isRfc3261Branch(branch)) throw new Error('client request needs an RFC 3261 branch');
    const key = clientKey(branch, request.method);
    const options = { timers: this.timers, logger: this.#log };
    const tx = request.method === 'INVITE'
      ? new InviteClientTransaction(key, request, channel, options)
      : new NonInviteClientTransaction(key, request, channel, options);
    this.#clients.set(key, tx);
    tx.on('terminated', () => this.#clients.delete(key));
    tx.start();
    return tx;
  }

  /** RFC 3261 §17.1.3: branch of the top Via and CSeq method. */
  matchClient(response: SipResponse): ClientTransaction | undefined {
    const branch = viaBranch(response.topVia);
    if (!branch) return undefined;
    return this.#clients.get(clientKey(branch, response.cseq.method));
  }

  /** A request that matches an existing server transaction (a retransmission, or the ACK of a non-2xx). */
  matchServer(request: SipRequest): ServerTransaction | undefined {
    const tx = this.#servers.get(serverKey(request));
    // An ACK for a 2xx travels in its own transaction (new branch in RFC 3261); only an ACK in Completed belongs to the IST.
    if (tx && request.method === 'ACK' && !(tx instanceof InviteServerTransaction)) return undefined;
    return tx;
  }

  /** RFC 3261 §9.2: the INVITE server transaction a CANCEL refers to. */
  matchCancelTarget(cancel: SipRequest): InviteServerTransaction | undefined {
    const tx = this.#servers.get(serverKey(cancel, 'INVITE'));
    return tx instanceof InviteServerTransaction ? tx : undefined;
  }

  /** Creates the server transaction for a new request (not for ACK). */
  createServer(request: SipRequest, channel: Channel): ServerTransaction {
    if (this.#closed) throw new Error('transaction layer closed');
    const key = serverKey(request);
    const options = { timers: this.timers, logger: this.#log };
    const tx = request.method === 'INVITE'
      ? new InviteServerTransaction(key, request, channel, options)
      : new NonInviteServerTransaction(key, request, channel, options);
    this.#servers.set(key, tx);
    tx.on('terminated', () => {
      if (this.#servers.get(key) === tx) this.#servers.delete(key);
    });
    return tx;
  }

  /** Terminates everything; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const tx of [...this.#clients.values(), ...this.#servers.values()]) {
      tx.removeAllListeners('timeout');
      tx.removeAllListeners('transportError');
      tx.terminate();
      tx.dispose();
    }
    this.#clients.clear();
    this.#servers.clear();
  }
}
