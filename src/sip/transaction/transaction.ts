/**
 * Shared machinery of the four RFC 3261 §17 transactions: an explicit state
 * machine (string-literal states, a table of allowed moves, one
 * `transition()` that throws on an illegal move and clears the timers of
 * the state being left) and named timers.
 */
import { TypedEmitter, type EventMap } from '../../shared/typed-emitter.js';
import { silentLogger, type Logger } from '../../shared/log.js';
import { serializeMessage } from '../message/serializer.js';
import type { SipMessage } from '../message/message.js';
import type { NetAddress, SipTransport } from '../transport/transport.js';

/** RFC 3261 §17.1.1.1 timer values; shorten them in tests. */
export interface TransactionTimers {
  /** RTT estimate. Default 500 ms. */
  t1: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses. Default 4000 ms. */
  t2: number;
  /** Maximum duration a message remains in the network. Default 5000 ms. */
  t4: number;
}

export const DEFAULT_TIMERS: TransactionTimers = { t1: 500, t2: 4000, t4: 5000 };

/** Where a transaction sends: a transport and a remote address. */
export interface Channel {
  transport: SipTransport;
  remote: NetAddress;
}

export class IllegalTransitionError extends Error {
  constructor(kind: string, from: string, to: string) {
    super(`${kind}: illegal transition ${from} -> ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

export interface TransactionOptions {
  timers: TransactionTimers;
  logger?: Logger;
}

export abstract class Transaction<S extends string, E extends EventMap> extends TypedEmitter<E> {
  abstract readonly kind: string;
  readonly id: string;
  readonly channel: Channel;
  protected readonly timers: TransactionTimers;
  protected readonly log: Logger;
  #state: S;
  readonly #moves: Readonly<Record<S, readonly S[]>>;
  readonly #armed = new Map<string, NodeJS.Timeout>();

  protected constructor(id: string, channel: Channel, initial: S, moves: Readonly<Record<S, readonly S[]>>, options: TransactionOptions) {
    super();
    this.id = id;
    this.channel = channel;
    this.#state = initial;
    this.#moves = moves;
    this.timers = options.timers;
    this.log = options.logger ?? silentLogger;
  }

  get state(): S {
    return this.#state;
  }

  get reliable(): boolean {
    return this.channel.transport.reliable;
  }

  /** Moves to `to`; clears all timers of the state being left. Throws on a move the table does not allow. */
  protected transition(to: S): void {
    const from = this.#state;
    if (!this.#moves[from].includes(to)) throw new IllegalTransitionError(this.kind, from, to);
    for (const timer of this.#armed.values()) clearTimeout(timer);
    this.#armed.clear();
    this.#state = to;
    this.log.trace({ tx: this.id, kind: this.kind, from, to }, 'transaction state');
    this.onEnter(to);
  }

  /** Hook for state entry; arms timers of the new state. */
  protected abstract onEnter(state: S): void;

  protected arm(name: string, ms: number, fire: () => void): void {
    const old = this.#armed.get(name);
    if (old) clearTimeout(old);
    const timer = setTimeout(() => {
      this.#armed.delete(name);
      fire();
    }, ms);
    timer.unref?.();
    this.#armed.set(name, timer);
  }

  protected send(message: SipMessage): void {
    this.channel.transport.send(serializeMessage(message), this.channel.remote).catch((error: unknown) => this.onTransportError(error));
  }

  protected abstract onTransportError(error: unknown): void;

  /** Stops every timer; used when the owning layer shuts down. */
  dispose(): void {
    for (const timer of this.#armed.values()) clearTimeout(timer);
    this.#armed.clear();
  }
}
