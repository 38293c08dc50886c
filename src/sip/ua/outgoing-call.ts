/**
 * The caller side of an INVITE until it is answered or fails (RFC 3261
 * §13.2). Cancelling (via `cancel()` or the `signal`) sends CANCEL once a
 * provisional response has arrived (§9.1).
 *
 * ```
 *  calling --1xx--> proceeding --2xx--> answered
 *     |                 |
 *     | cancel()        | cancel(): CANCEL
 *     v                 v
 *  cancelling ---------------> failed (487, or 2xx raced: ACK + BYE)
 *  calling / proceeding --300-699 / timeout--> failed
 * ```
 */
import { TypedEmitter } from '../../shared/typed-emitter.js';
import { Dialog } from '../dialog/dialog.js';
import { SipHeaders } from '../message/headers.js';
import { SipRequest, type SipResponse } from '../message/message.js';
import { newBranch } from '../transaction/transaction-layer.js';
import type { Channel } from '../transaction/transaction.js';
import { isWebSocketProtocol, type TransportProtocol } from '../transport/transport.js';
import type { DigestCredentials } from './digest.js';
import { PrackSender } from './prack.js';
import { negotiateAsUac } from './session-timer.js';
import { SipRequestError, SipSession } from './sip-session.js';
import type { SentRequest, UaCore } from './ua-core.js';

export type OutgoingCallState = 'calling' | 'proceeding' | 'cancelling' | 'answered' | 'failed';

const MOVES: Record<OutgoingCallState, readonly OutgoingCallState[]> = {
  calling: ['proceeding', 'cancelling', 'answered', 'failed'],
  proceeding: ['cancelling', 'answered', 'failed'],
  cancelling: ['failed'],
  answered: [],
  failed: [],
};

export interface CallFailure {
  status: number;
  reason: string;
  response: SipResponse | undefined;
  /** The call was cancelled by us. */
  cancelled: boolean;
}

export interface Provisional {
  status: number;
  reason: string;
  /** Early media SDP (183 Session Progress), when present. */
  sdp: string | undefined;
  response: SipResponse;
}

export type OutgoingCallEvents = {
  provisional: [provisional: Provisional];
  answered: [session: SipSession];
  failed: [failure: CallFailure];
};

export interface OutgoingCallInit {
  invite: SipRequest;
  sdp: string | undefined;
  auth: DigestCredentials | undefined;
  signal: AbortSignal | undefined;
  protocol: TransportProtocol;
}

export class OutgoingCall extends TypedEmitter<OutgoingCallEvents> {
  readonly #core: UaCore;
  readonly #init: OutgoingCallInit;
  #state: OutgoingCallState = 'calling';
  #sent: SentRequest | undefined;
  #provisionalSeen = false;
  #cancelSent = false;
  #cancelReason: string | undefined;
  #session: SipSession | undefined;
  readonly #result: Promise<SipSession>;
  readonly #prack: PrackSender;

  constructor(core: UaCore, init: OutgoingCallInit) {
    super();
    this.#core = core;
    this.#init = init;
    this.#prack = new PrackSender(core);
    this.#result = new Promise<SipSession>((resolve, reject) => {
      this.once('answered', resolve);
      this.once('failed', (f) => reject(new SipRequestError(f.status, f.reason, f.response)));
    });
    this.#result.catch(() => undefined);
  }

  get state(): OutgoingCallState {
    return this.#state;
  }

  get callId(): string {
    return this.#init.invite.callId;
  }

  /** The INVITE of the latest attempt. */
  get request(): SipRequest {
    return this.#sent?.request ?? this.#init.invite;
  }

  /** Resolves with the session when answered; rejects with `SipRequestError` (status, reason) when the call fails. */
  wait(): Promise<SipSession> {
    return this.#result;
  }

  #transition(to: OutgoingCallState): void {
    if (!MOVES[this.#state].includes(to)) throw new Error(`outgoing call: illegal transition ${this.#state} -> ${to}`);
    this.#state = to;
  }

  /** Sends the INVITE. Called once by the user agent. */
  start(): void {
    const signal = this.#init.signal;
    if (signal?.aborted) {
      this.#fail(487, 'Request Terminated', undefined, true);
      return;
    }
    signal?.addEventListener('abort', () => this.cancel(), { once: true });
    this.#sent = this.#core.send(this.#init.invite, {
      auth: this.#init.auth,
      preferredProtocol: this.#init.protocol,
      onResponse: (response, sent) => this.#onResponse(response, sent),
      onRetry: (sent) => {
        this.#sent = sent;
      },
    });
  }

  /**
   * Cancels a call not yet answered (RFC 3261 §9.1). No effect once answered
   * or failed. `reason`: a Reason header value (RFC 3326), e.g.
   * `SIP;cause=200;text="Call completed elsewhere"` when another device of a
   * forked call answered, so the phone does not list a missed call.
   */
  cancel(reason?: string): void {
    if (this.#state !== 'calling' && this.#state !== 'proceeding') return;
    this.#cancelReason = reason;
    this.#transition('cancelling');
    // §9.1: a CANCEL must not be sent before a provisional response; it goes out when one arrives.
    if (this.#provisionalSeen) this.#sendCancel();
  }

  /** Fails the call at once, without signalling (the user agent is shutting down). */
  dispose(): void {
    if (this.#state === 'answered' || this.#state === 'failed') return;
    this.#fail(this.#state === 'cancelling' ? 487 : 503, this.#state === 'cancelling' ? 'Request Terminated' : 'Service Unavailable (user agent closed)', undefined, this.#state === 'cancelling');
  }

  #sendCancel(): void {
    if (this.#cancelSent || !this.#sent) return;
    this.#cancelSent = true;
    const invite = this.#sent.request;
    // §9.1: same Request-URI, Call-ID, To, From, CSeq number and top Via (same branch) as the INVITE.
    const headers = new SipHeaders();
    headers.append('Via', invite.headers.get('Via')!);
    for (const route of invite.headers.getAll('Route')) headers.append('Route', route);
    headers.append('Max-Forwards', '70');
    headers.append('From', invite.headers.get('From')!);
    headers.append('To', invite.headers.get('To')!);
    headers.append('Call-ID', invite.callId);
    headers.append('CSeq', `${invite.cseq.seq} CANCEL`);
    headers.append('User-Agent', this.#core.userAgent);
    if (this.#cancelReason) headers.append('Reason', this.#cancelReason);
    const cancel = new SipRequest({ method: 'CANCEL', uri: invite.uri, headers });
    this.#core.send(cancel, { channel: this.#sent.channel, onResponse: () => undefined });
  }

  #onResponse(response: SipResponse, sent: SentRequest): void {
    this.#sent = sent;
    const status = response.status;
    if (status < 200) {
      this.#provisionalSeen = true;
      if (this.#state === 'cancelling') {
        this.#sendCancel();
        return;
      }
      if (this.#state === 'calling') this.#transition('proceeding');
      // RFC 3262 §4: a reliable 18x is PRACKed; its retransmissions are not news.
      if (status > 100 && !this.#prack.receive(response, sent.request, sent.channel, this.#init.auth)) return;
      if (status > 100 && this.#state === 'proceeding') {
        const sdp = response.body.length > 0 && response.contentType === 'application/sdp' ? response.bodyText : undefined;
        this.emit('provisional', { status, reason: response.reason, sdp, response });
      }
      return;
    }
    if (status < 300) {
      this.#on2xx(response, sent);
      return;
    }
    if (this.#state === 'calling' || this.#state === 'proceeding' || this.#state === 'cancelling') {
      this.#fail(status, response.reason, response, this.#state === 'cancelling');
    }
  }

  #on2xx(response: SipResponse, sent: SentRequest): void {
    if (this.#session) {
      if (response.toTag === this.#session.dialog.id.remoteTag) this.#session.receive2xxRetransmission(response);
      else this.#ackAndBye(response, sent);
      return;
    }
    const cancelled = this.#state === 'cancelling';
    if (this.#state === 'answered' || this.#state === 'failed') {
      // A 2xx after we gave up (another fork, or a race with our failure): ACK it and hang it up.
      this.#ackAndBye(response, sent);
      return;
    }
    const session = this.#establish(response, sent);
    if (cancelled) {
      // §9.1: the 2xx raced our CANCEL; the call is up, so end it with BYE.
      void session.bye();
      this.#fail(487, 'Request Terminated', response, true);
      return;
    }
    this.#transition('answered');
    this.emit('answered', session);
  }

  #establish(response: SipResponse, sent: SentRequest): SipSession {
    const dialog = Dialog.asUac(sent.request, response);
    dialog.transition('confirmed');
    // PRACKs in the early dialog used CSeqs above the INVITE's; requests in the confirmed dialog go on from there.
    dialog.localSeq = Math.max(dialog.localSeq, this.#prack.localSeq(response.toTag) ?? 0);
    const timer = negotiateAsUac(response);
    const session = new SipSession(this.#core, {
      dialog,
      role: 'uac',
      invite: sent.request,
      localSdp: this.#init.sdp,
      remoteSdp: response.body.length > 0 ? response.bodyText : undefined,
      protocol: sent.channel.transport.protocol,
      peer: sent.channel,
      peerAllow: response.headers.getAll('Allow'),
      ...(this.#init.auth ? { auth: this.#init.auth } : {}),
      ...(timer ? { sessionTimer: timer } : {}),
    });
    this.#session = session;
    this.#ack(dialog, sent, session);
    return session;
  }

  /** RFC 3261 §13.2.2.4: the ACK for a 2xx is built by the UA core and sent outside any transaction. */
  #ack(dialog: Dialog, sent: SentRequest, session?: SipSession): void {
    const protocol = sent.channel.transport.protocol;
    const ack = dialog.createRequest('ACK', newBranch(), this.#core.via(protocol), { headers: [['User-Agent', this.#core.userAgent]] }, sent.request.cseq.seq);
    for (const auth of ['Authorization', 'Proxy-Authorization']) {
      for (const value of sent.request.headers.getAll(auth)) ack.headers.append(auth, value);
    }
    let channel: Channel;
    try {
      // RFC 7118 §5: a WebSocket peer's Contact (`….invalid`) is not reachable; its connection is.
      channel = isWebSocketProtocol(protocol) ? sent.channel : this.#core.channelFor(ack, protocol);
    } catch {
      channel = sent.channel;
    }
    this.#core.sendStateless(ack, channel);
    session?.rememberAck(ack, channel);
  }

  #ackAndBye(response: SipResponse, sent: SentRequest): void {
    const dialog = Dialog.asUac(sent.request, response);
    dialog.transition('confirmed');
    this.#ack(dialog, sent);
    const extra = new SipSession(this.#core, { dialog, role: 'uac', invite: sent.request, protocol: sent.channel.transport.protocol, ...(this.#init.auth ? { auth: this.#init.auth } : {}) });
    void extra.bye();
  }

  #fail(status: number, reason: string, response: SipResponse | undefined, cancelled: boolean): void {
    if (this.#state === 'failed') return;
    this.#transition('failed');
    this.emit('failed', { status, reason, response, cancelled });
  }
}
