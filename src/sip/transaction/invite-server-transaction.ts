/**
 * INVITE server transaction (RFC 3261 §17.2.1, amended by RFC 6026 §7.1).
 *
 * ```
 *                        INVITE received (TU sends 100 Trying)
 *                               |
 *  INVITE: resend last   +------------+  1xx from TU: send
 *  provisional           | proceeding |<-------
 *                        +------------+
 *        300-699 from TU  |          | 2xx from TU: send
 *        send; Timer G,H  v          v
 *  INVITE: resend  +-----------+  +----------+  2xx from TU: send
 *  Timer G: resend | completed |  | accepted |  INVITE: absorb
 *                  +-----------+  +----------+
 *         ACK  |        | Timer H       | Timer L
 *              v        | (to TU)       |
 *       +-----------+   |               |
 *       | confirmed |   |               |
 *       +-----------+   v               v
 *          Timer I -> +------------------+
 *                     |    terminated    |
 *                     +------------------+
 * ```
 */
import type { SipRequest, SipResponse } from '../message/message.js';
import { Transaction, type Channel, type TransactionOptions } from './transaction.js';

export type InviteServerState = 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

const MOVES: Record<InviteServerState, readonly InviteServerState[]> = {
  proceeding: ['completed', 'accepted', 'terminated'],
  completed: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  accepted: ['terminated'],
  terminated: [],
};

export type ServerTransactionEvents = {
  /** Timer H fired without an ACK for a 300-699 (RFC 3261 §17.2.1), or the transport failed. */
  timeout: [];
  transportError: [error: unknown];
  terminated: [];
};

export class InviteServerTransaction extends Transaction<InviteServerState, ServerTransactionEvents> {
  readonly kind = 'ist';
  readonly request: SipRequest;
  #lastResponse: SipResponse | undefined;
  #timerG: number;

  constructor(id: string, request: SipRequest, channel: Channel, options: TransactionOptions) {
    super(id, channel, 'proceeding', MOVES, options);
    this.request = request;
    this.#timerG = this.timers.t1;
  }

  get lastResponse(): SipResponse | undefined {
    return this.#lastResponse;
  }

  protected onEnter(state: InviteServerState): void {
    const t1 = this.timers.t1;
    switch (state) {
      case 'completed':
        // RFC 3261 §17.2.1: Timer G (unreliable only) = T1 doubling up to T2; Timer H = 64*T1.
        if (!this.reliable) this.#armG();
        this.arm('H', 64 * t1, () => {
          this.emit('timeout');
          this.transition('terminated');
        });
        break;
      case 'confirmed':
        // Timer I = T4 for unreliable transports, zero for reliable ones.
        this.arm('I', this.reliable ? 0 : this.timers.t4, () => this.transition('terminated'));
        break;
      case 'accepted':
        // RFC 6026 §7.1: Timer L = 64*T1 absorbs INVITE retransmissions while the TU retransmits the 2xx.
        // Absorbing needs only this transaction's key: the 2xx (the TU's to resend) is not kept for 32 s.
        this.#lastResponse = undefined;
        this.arm('L', 64 * t1, () => this.transition('terminated'));
        break;
      case 'terminated':
        this.emit('terminated');
        break;
      case 'proceeding':
        break;
    }
  }

  #armG(): void {
    this.arm('G', this.#timerG, () => {
      if (this.#lastResponse) this.send(this.#lastResponse);
      this.#timerG = Math.min(2 * this.#timerG, this.timers.t2);
      this.#armG();
    });
  }

  /** Sends a response from the TU. */
  respond(response: SipResponse): void {
    const status = response.status;
    switch (this.state) {
      case 'proceeding':
        this.#lastResponse = response;
        this.send(response);
        if (status >= 300) this.transition('completed');
        else if (status >= 200) this.transition('accepted');
        break;
      case 'accepted':
        // RFC 6026 §7.1: the TU's 2xx retransmissions pass through the Accepted state.
        if (status >= 200 && status < 300) this.send(response);
        break;
      default:
        this.log.debug({ tx: this.id, state: this.state, status }, 'response after final response ignored');
    }
  }

  /** A request matched to this transaction: an INVITE retransmission or the ACK for a 300-699. */
  receiveRequest(request: SipRequest): void {
    if (request.method === 'ACK') {
      if (this.state === 'completed') this.transition('confirmed');
      return;
    }
    // RFC 3261 §17.2.1: a retransmitted INVITE gets the most recent provisional (Proceeding) or the final response (Completed).
    if ((this.state === 'proceeding' || this.state === 'completed') && this.#lastResponse) this.send(this.#lastResponse);
  }

  protected onTransportError(error: unknown): void {
    if (this.state !== 'terminated') {
      this.emit('transportError', error);
      this.transition('terminated');
    }
  }

  terminate(): void {
    if (this.state !== 'terminated') this.transition('terminated');
  }
}
