/**
 * Non-INVITE server transaction (RFC 3261 §17.2.2).
 *
 * ```
 *                       request received
 *                             |
 *                        +--------+
 *                        | trying |-------------+
 *                        +--------+             |
 *              1xx from TU  |                   | 200-699 from TU: send
 *                           v                   |
 *  request: resend 1xx +------------+           |
 *  1xx from TU: send   | proceeding |           |
 *                      +------------+           |
 *        200-699 from TU: send |                |
 *                              v                v
 *  request: resend final   +-----------+
 *                          | completed |
 *                          +-----------+
 *                                | Timer J
 *                                v
 *                          +------------+
 *                          | terminated |
 *                          +------------+
 * ```
 */
import type { SipRequest, SipResponse } from '../message/message.js';
import { Transaction, type Channel, type TransactionOptions } from './transaction.js';
import type { ServerTransactionEvents } from './invite-server-transaction.js';

export type NonInviteServerState = 'trying' | 'proceeding' | 'completed' | 'terminated';

const MOVES: Record<NonInviteServerState, readonly NonInviteServerState[]> = {
  trying: ['proceeding', 'completed', 'terminated'],
  proceeding: ['completed', 'terminated'],
  completed: ['terminated'],
  terminated: [],
};

export class NonInviteServerTransaction extends Transaction<NonInviteServerState, ServerTransactionEvents> {
  readonly kind = 'nist';
  readonly request: SipRequest;
  #lastResponse: SipResponse | undefined;

  constructor(id: string, request: SipRequest, channel: Channel, options: TransactionOptions) {
    super(id, channel, 'trying', MOVES, options);
    this.request = request;
  }

  get lastResponse(): SipResponse | undefined {
    return this.#lastResponse;
  }

  protected onEnter(state: NonInviteServerState): void {
    if (state === 'completed') {
      // RFC 3261 §17.2.2: Timer J = 64*T1 for unreliable transports, zero for reliable ones.
      this.arm('J', this.reliable ? 0 : 64 * this.timers.t1, () => this.transition('terminated'));
    } else if (state === 'terminated') {
      this.emit('terminated');
    }
  }

  respond(response: SipResponse): void {
    if (this.state === 'completed' || this.state === 'terminated') {
      this.log.debug({ tx: this.id, status: response.status }, 'response after final response ignored');
      return;
    }
    this.#lastResponse = response;
    this.send(response);
    if (response.status >= 200) this.transition('completed');
    else if (this.state === 'trying') this.transition('proceeding');
  }

  /** A retransmission of the request: resend the last response, if any (RFC 3261 §17.2.2). */
  receiveRequest(_request: SipRequest): void {
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
