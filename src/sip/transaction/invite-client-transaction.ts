/**
 * INVITE client transaction (RFC 3261 §17.1.1, amended by RFC 6026 §7.2).
 *
 * ```
 *                 INVITE sent; Timer A (UDP), Timer B
 *                          |
 *   Timer A: resend   +---------+  Timer B / transport error
 *   INVITE            | calling |---------------------------+
 *                     +---------+                           |
 *               1xx  /   |2xx  \ 300-699: send ACK          |
 *                   v    |      \                           |
 *     1xx  +------------+|       \                          |
 *     ---->| proceeding ||        \                         |
 *          +------------+|         v                        |
 *      2xx  |   300-699: |  +-----------+ 300-699: resend   |
 *           |   send ACK +->| completed | ACK               |
 *           v               +-----------+                   |
 *     +----------+ 2xx: to TU     | Timer D                 |
 *     | accepted |                v                         |
 *     +----------+ Timer M -> +------------+ <--------------+
 *                             | terminated |
 *                             +------------+
 * ```
 */
import { SipHeaders } from '../message/headers.js';
import { SipRequest, type SipResponse } from '../message/message.js';
import { Transaction, type Channel, type TransactionOptions } from './transaction.js';

export type InviteClientState = 'calling' | 'proceeding' | 'completed' | 'accepted' | 'terminated';

const MOVES: Record<InviteClientState, readonly InviteClientState[]> = {
  calling: ['proceeding', 'completed', 'accepted', 'terminated'],
  proceeding: ['completed', 'accepted', 'terminated'],
  completed: ['terminated'],
  accepted: ['terminated'],
  terminated: [],
};

export type ClientTransactionEvents = {
  /** Every response the TU must see: provisionals, the first final, and (INVITE) 2xx retransmissions. */
  response: [response: SipResponse];
  /** Timer B / F fired: the TU treats it as a 408 (RFC 3261 §8.1.3.1). */
  timeout: [];
  /** RFC 3261 §8.1.3.1: a transport failure is treated as a 503. */
  transportError: [error: unknown];
  terminated: [];
};

export class InviteClientTransaction extends Transaction<InviteClientState, ClientTransactionEvents> {
  readonly kind = 'ict';
  readonly request: SipRequest;
  #ack: SipRequest | undefined;
  #timerA: number;

  constructor(id: string, request: SipRequest, channel: Channel, options: TransactionOptions) {
    super(id, channel, 'calling', MOVES, options);
    this.request = request;
    this.#timerA = this.timers.t1;
  }

  /** Sends the INVITE and arms Timers A and B. */
  start(): void {
    this.send(this.request);
    this.onEnter('calling');
  }

  protected onEnter(state: InviteClientState): void {
    const t1 = this.timers.t1;
    switch (state) {
      case 'calling':
        // RFC 3261 §17.1.1.2: Timer A only for unreliable transports, doubling each time; Timer B = 64*T1.
        if (!this.reliable) this.#armA();
        this.arm('B', 64 * t1, () => {
          this.emit('timeout');
          this.transition('terminated');
        });
        break;
      case 'completed':
        // Timer D: at least 32 s for unreliable transports (64*T1 with the default T1), zero for reliable.
        this.arm('D', this.reliable ? 0 : 64 * t1, () => this.transition('terminated'));
        break;
      case 'accepted':
        // RFC 6026 §8.4: Timer M = 64*T1, to absorb 2xx retransmissions from other forks.
        this.arm('M', 64 * t1, () => this.transition('terminated'));
        break;
      case 'terminated':
        this.emit('terminated');
        break;
      case 'proceeding':
        break;
    }
  }

  #armA(): void {
    this.arm('A', this.#timerA, () => {
      if (this.state !== 'calling') return;
      this.send(this.request);
      this.#timerA *= 2;
      this.#armA();
    });
  }

  receiveResponse(response: SipResponse): void {
    const status = response.status;
    switch (this.state) {
      case 'calling':
      case 'proceeding':
        if (status < 200) {
          if (this.state === 'calling') this.transition('proceeding');
          this.emit('response', response);
        } else if (status < 300) {
          this.transition('accepted');
          this.emit('response', response);
        } else {
          // RFC 3261 §17.1.1.2: a 300-699 response MUST be answered with an ACK, then passed up.
          this.#sendAck(response);
          this.transition('completed');
          this.emit('response', response);
        }
        break;
      case 'completed':
        // Retransmissions of the final response: resend the ACK, do not pass up.
        if (status >= 300) this.#sendAck(response);
        break;
      case 'accepted':
        // RFC 6026 §7.2: 2xx retransmissions go to the TU (which re-sends its ACK).
        if (status >= 200 && status < 300) this.emit('response', response);
        break;
      case 'terminated':
        break;
    }
  }

  /**
   * RFC 3261 §17.1.1.3: the ACK has the INVITE's Request-URI, Call-ID, From,
   * CSeq number, top Via and Route headers, and the To of the response.
   */
  #sendAck(response: SipResponse): void {
    if (!this.#ack) {
      const headers = new SipHeaders();
      headers.append('Via', this.request.headers.get('Via')!);
      for (const route of this.request.headers.getAll('Route')) headers.append('Route', route);
      headers.append('Max-Forwards', '70');
      headers.append('From', this.request.headers.get('From')!);
      headers.append('To', response.headers.get('To')!);
      headers.append('Call-ID', this.request.callId);
      headers.append('CSeq', `${this.request.cseq.seq} ACK`);
      this.#ack = new SipRequest({ method: 'ACK', uri: this.request.uri, headers });
    }
    this.send(this.#ack);
  }

  protected onTransportError(error: unknown): void {
    if (this.state === 'calling' || this.state === 'proceeding') {
      this.emit('transportError', error);
      this.transition('terminated');
    }
  }

  /** Ends the transaction now (endpoint shutdown). */
  terminate(): void {
    if (this.state !== 'terminated') this.transition('terminated');
  }
}
