/**
 * Non-INVITE client transaction (RFC 3261 §17.1.2).
 *
 * ```
 *                   request sent; Timer E (UDP), Timer F
 *                          |
 *   Timer E: resend   +--------+  Timer F / transport error
 *   request           | trying |----------------------------+
 *                     +--------+                            |
 *                1xx   |      | 200-699                     |
 *                      v      |                             |
 *   Timer E: resend +------------+ Timer F / transport err  |
 *   1xx: to TU      | proceeding |-----------------------+  |
 *                   +------------+                       |  |
 *                      | 200-699                         |  |
 *                      v                                 v  v
 *                  +-----------+    Timer K       +------------+
 *                  | completed |----------------->| terminated |
 *                  +-----------+                  +------------+
 * ```
 */
import type { SipRequest, SipResponse } from '../message/message.js';
import { Transaction, type Channel, type TransactionOptions } from './transaction.js';
import type { ClientTransactionEvents } from './invite-client-transaction.js';

export type NonInviteClientState = 'trying' | 'proceeding' | 'completed' | 'terminated';

const MOVES: Record<NonInviteClientState, readonly NonInviteClientState[]> = {
  trying: ['proceeding', 'completed', 'terminated'],
  proceeding: ['completed', 'terminated'],
  completed: ['terminated'],
  terminated: [],
};

export class NonInviteClientTransaction extends Transaction<NonInviteClientState, ClientTransactionEvents> {
  readonly kind = 'nict';
  readonly request: SipRequest;
  #timerE: number;

  constructor(id: string, request: SipRequest, channel: Channel, options: TransactionOptions) {
    super(id, channel, 'trying', MOVES, options);
    this.request = request;
    this.#timerE = this.timers.t1;
  }

  start(): void {
    this.send(this.request);
    this.onEnter('trying');
  }

  protected onEnter(state: NonInviteClientState): void {
    switch (state) {
      case 'trying':
        if (!this.reliable) this.#armE();
        this.#armF();
        break;
      case 'proceeding':
        // RFC 3261 §17.1.2.2: in Proceeding, Timer E fires at T2 intervals; Timer F keeps running.
        if (!this.reliable) {
          this.#timerE = this.timers.t2;
          this.#armE();
        }
        this.#armF();
        break;
      case 'completed':
        // Timer K = T4 for unreliable transports, zero for reliable ones.
        this.arm('K', this.reliable ? 0 : this.timers.t4, () => this.transition('terminated'));
        break;
      case 'terminated':
        this.emit('terminated');
        break;
    }
  }

  #armE(): void {
    this.arm('E', this.#timerE, () => {
      this.send(this.request);
      this.#timerE = Math.min(2 * this.#timerE, this.timers.t2);
      this.#armE();
    });
  }

  #armF(): void {
    // Timer F is armed once, at 64*T1 from the start; re-arming on Proceeding keeps the remaining time.
    if (this.#deadline === undefined) this.#deadline = Date.now() + 64 * this.timers.t1;
    this.arm('F', Math.max(0, this.#deadline - Date.now()), () => {
      this.emit('timeout');
      this.transition('terminated');
    });
  }

  #deadline: number | undefined;

  receiveResponse(response: SipResponse): void {
    if (this.state === 'trying' || this.state === 'proceeding') {
      if (response.status < 200) {
        if (this.state === 'trying') this.transition('proceeding');
      } else {
        this.transition('completed');
      }
      this.emit('response', response);
    }
    // completed: retransmissions of the final response are absorbed.
  }

  protected onTransportError(error: unknown): void {
    if (this.state === 'trying' || this.state === 'proceeding') {
      this.emit('transportError', error);
      this.transition('terminated');
    }
  }

  terminate(): void {
    if (this.state !== 'terminated') this.transition('terminated');
  }
}
