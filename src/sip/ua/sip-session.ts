/**
 * An established call leg: one INVITE dialog (RFC 3261 §12-15) with BYE,
 * re-INVITE (hold/unhold, SDP renegotiation), INFO and OPTIONS inside it.
 * Both the caller side (from `OutgoingCall`) and the callee side (from
 * `IncomingCall.answer`) are a `SipSession`, so a B2BUA bridges two of them.
 *
 * ```
 *  UAS: 2xx sent           ACK received
 *  awaiting-ack ----------------------------> established
 *       |  no ACK in 64*T1: BYE                |  bye() / BYE received
 *       v                                      v
 *  terminating <------------------------------ +
 *       | final response to BYE (or timeout)   |
 *       v                                      v (BYE received)
 *     ended <----------------------------------+
 * ```
 */
import { TypedEmitter } from '../../shared/typed-emitter.js';
import type { Dialog } from '../dialog/dialog.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import { serializeMessage } from '../message/serializer.js';
import { answerDirection, mediaDirection, parseSdp, serializeSdp, type MediaDirection } from '../message/sdp.js';
import { newBranch } from '../transaction/transaction-layer.js';
import type { Channel } from '../transaction/transaction.js';
import type { ServerTransaction } from '../transaction/transaction-layer.js';
import { isWebSocketProtocol, type TransportProtocol } from '../transport/transport.js';
import { createResponse, isPrivateHost } from './message-factory.js';
import { parseReferTo, ReferRequest } from './refer-request.js';
import { isSipUri } from '../message/uri.js';
import type { DigestCredentials } from './digest.js';
import { agreementHeaders, negotiateAsUac, negotiateAsUas, parseMinSE, refreshHeaders, SessionTimer, type SessionTimerAgreement } from './session-timer.js';
import type { SentRequest, UaCore } from './ua-core.js';
import { allowHeader } from './uas-checks.js';

export type SessionState = 'awaiting-ack' | 'established' | 'terminating' | 'ended';

const MOVES: Record<SessionState, readonly SessionState[]> = {
  'awaiting-ack': ['established', 'terminating', 'ended'],
  established: ['terminating', 'ended'],
  terminating: ['ended'],
  ended: [],
};

export interface SessionEnd {
  by: 'local' | 'remote' | 'error';
  /** e.g. `bye`, `ack-timeout`, `dialog-gone`, `closed`, `session-expired`. */
  reason: string;
  status?: number;
  /** The BYE that ended the session (`by: 'remote'`): its headers may say why (RFC 3326 Reason, or a peer node's X-Sautikit-Leave). */
  request?: SipRequest;
}

/** An incoming re-INVITE (§14.2); answer with `accept` or `reject` once. */
export interface ReinviteRequest {
  readonly request: SipRequest;
  /** The offer, or `undefined` for a late-offer re-INVITE (our answer then carries the offer). */
  readonly sdp: string | undefined;
  /** Direction of the offered audio (`sendonly` = the peer puts us on hold). */
  readonly direction: MediaDirection | undefined;
  accept(sdp: string): void;
  reject(status?: number, reason?: string): void;
}

export interface InfoRequest {
  readonly request: SipRequest;
  readonly contentType: string | undefined;
  readonly body: string;
  /** For `application/dtmf-relay` (and `application/dtmf`) bodies: the digit, e.g. `'5'`, `'*'`. */
  readonly dtmf: { signal: string; durationMs: number | undefined } | undefined;
}

export type SipSessionEvents = {
  /** UAS side: the ACK arrived. */
  established: [];
  ended: [end: SessionEnd];
  reinvite: [reinvite: ReinviteRequest];
  /** SDP changed after a re-INVITE in either direction. */
  updated: [sdp: { local: string | undefined; remote: string | undefined }];
  info: [info: InfoRequest];
  /**
   * RFC 4028 §10: the peer, the refresher, let the session expire (or our refresh failed):
   * a BYE is being sent. Emitted before the BYE, so owners end the call when it is sent.
   */
  expired: [];
  /** A REFER (RFC 3515) in the dialog: the owner accepts or rejects it; unheard, it is refused 603. */
  refer: [refer: ReferRequest];
};

export class SipRequestError extends Error {
  readonly status: number;
  readonly response: SipResponse | undefined;
  constructor(status: number, reason: string, response?: SipResponse) {
    super(`${status} ${reason}`);
    this.name = 'SipRequestError';
    this.status = status;
    this.response = response;
  }
}

/** Parses `Signal=5\r\nDuration=160` (application/dtmf-relay) or a bare digit (application/dtmf). */
export function parseDtmfBody(contentType: string | undefined, body: string): InfoRequest['dtmf'] {
  if (contentType === 'application/dtmf-relay') {
    const signal = /^\s*signal\s*=\s*([0-9A-D*#]|1[0-6])\s*$/im.exec(body)?.[1];
    const duration = /^\s*duration\s*=\s*(\d+)\s*$/im.exec(body)?.[1];
    if (!signal) return undefined;
    const code = Number(signal);
    const digit = /^\d+$/.test(signal) && code >= 10 ? ('0123456789*#ABCD'[code] ?? signal) : signal;
    return { signal: digit.toUpperCase(), durationMs: duration === undefined ? undefined : Number(duration) };
  }
  if (contentType === 'application/dtmf' && /^\s*[0-9A-D*#]\s*$/i.test(body)) return { signal: body.trim().toUpperCase(), durationMs: undefined };
  return undefined;
}

/** The methods a dialog of ours takes (RFC 3261 §20.5): what the stack implements, REGISTER aside. */
export const ALLOW = allowHeader(false);

interface Pending2xx {
  response: SipResponse;
  channel: Channel;
  seq: number;
  timer: NodeJS.Timeout | undefined;
  onAck: ((ack: SipRequest) => void) | undefined;
}

export class SipSession extends TypedEmitter<SipSessionEvents> {
  readonly dialog: Dialog;
  readonly role: 'uac' | 'uas';
  /** The INVITE that created the dialog. */
  readonly invite: SipRequest;
  localSdp: string | undefined;
  remoteSdp: string | undefined;
  readonly #core: UaCore;
  readonly #protocol: TransportProtocol;
  readonly #peer: Channel | undefined;
  #state: SessionState;
  /** UAC: the ACK for the last 2xx, re-sent on 2xx retransmissions (§13.2.2.4). */
  #lastAck: { ack: SipRequest; channel: Channel } | undefined;
  /** UAS: the 2xx being retransmitted until its ACK (§13.3.1.4). */
  #pending2xx: Pending2xx | undefined;
  #outgoingInvite = false;
  #incomingInvite = false;
  #closing: Promise<void> | undefined;
  /** A BYE asked for before the ACK came (§15), sent once it does. */
  #byeAfterAck: (() => void) | undefined;
  /** RFC 3261 §22.2: the credentials the dialog was created with answer 401/407 to requests inside it too. */
  readonly #auth: DigestCredentials | undefined;
  /** Whether the peer's Allow lists UPDATE (RFC 3311): refreshes then go without SDP. */
  readonly #peerAllowsUpdate: boolean;
  readonly #timer: SessionTimer;
  #refreshing = false;

  constructor(core: UaCore, init: {
    dialog: Dialog; role: 'uac' | 'uas'; invite: SipRequest; localSdp?: string; remoteSdp?: string; protocol: TransportProtocol; peer?: Channel;
    auth?: DigestCredentials; sessionTimer?: SessionTimerAgreement; peerAllow?: readonly string[];
  }) {
    super();
    this.#core = core;
    this.dialog = init.dialog;
    this.role = init.role;
    this.invite = init.invite;
    this.localSdp = init.localSdp;
    this.remoteSdp = init.remoteSdp;
    this.#protocol = init.protocol;
    this.#peer = init.peer;
    this.#state = init.role === 'uas' ? 'awaiting-ack' : 'established';
    this.#auth = init.auth;
    this.#peerAllowsUpdate = (init.peerAllow ?? []).some((m) => m.trim().toUpperCase() === 'UPDATE');
    this.#timer = new SessionTimer({ onRefresh: () => void this.#refresh(), onExpire: () => this.#expire() });
    if (init.sessionTimer) this.#timer.arm(init.sessionTimer);
    core.addSession(this);
  }

  /** The RFC 4028 agreement in force, if any. */
  get sessionTimer(): SessionTimerAgreement | undefined {
    return this.#timer.agreement;
  }

  get state(): SessionState {
    return this.#state;
  }

  get callId(): string {
    return this.dialog.id.callId;
  }

  #transition(to: SessionState): void {
    if (to === this.#state) return;
    if (!MOVES[this.#state].includes(to)) throw new Error(`session: illegal transition ${this.#state} -> ${to}`);
    this.#state = to;
    if (to === 'ended' || to === 'terminating') this.#timer.close();
    if (to === 'ended') {
      this.#stop2xx();
      this.dialog.transition('terminated');
      this.#core.removeSession(this);
    }
  }

  #end(end: SessionEnd): void {
    if (this.#state === 'ended') return;
    this.#transition('ended');
    this.emit('ended', end);
  }

  // ---- UAS: 2xx retransmission until ACK (RFC 3261 §13.3.1.4) ----

  /** Sends a 2xx to an INVITE (initial or re-INVITE) and retransmits it until the ACK comes. */
  send2xx(tx: ServerTransaction, response: SipResponse, onAck?: (ack: SipRequest) => void): void {
    this.#core.respond(tx, response);
    const channel = tx.channel;
    let interval = this.#core.timers.t1;
    const started = Date.now();
    const entry: Pending2xx = { response, channel, seq: response.cseq.seq, timer: undefined, onAck };
    const tick = (): void => {
      if (this.#pending2xx !== entry) return;
      if (Date.now() - started >= 64 * this.#core.timers.t1) {
        // §13.3.1.4: no ACK within 64*T1: the dialog is confirmed but dead; end it with a BYE.
        this.#pending2xx = undefined;
        this.#core.log.info({ callId: this.callId }, 'no ACK for 2xx; sending BYE');
        const deferred = this.#byeAfterAck;
        if (deferred) deferred();
        else void this.#sendBye('ack-timeout');
        return;
      }
      if (!channel.transport.reliable) channel.transport.send(serializeMessage(response), channel.remote).catch(() => undefined);
      interval = Math.min(interval * 2, this.#core.timers.t2);
      entry.timer = setTimeout(tick, Math.min(interval, Math.max(1, started + 64 * this.#core.timers.t1 - Date.now())));
    };
    this.#pending2xx = entry;
    entry.timer = setTimeout(tick, interval);
  }

  #stop2xx(): void {
    if (this.#pending2xx?.timer) clearTimeout(this.#pending2xx.timer);
    this.#pending2xx = undefined;
  }

  /** An ACK for a 2xx arrived in this dialog. */
  receiveAck(ack: SipRequest): void {
    const pending = this.#pending2xx;
    if (!pending || ack.cseq.seq !== pending.seq) return;
    this.#stop2xx();
    pending.onAck?.(ack);
    if (this.#state === 'awaiting-ack') {
      if (ack.body.length > 0 && ack.contentType === 'application/sdp') this.remoteSdp = ack.bodyText;
      this.#transition('established');
      this.emit('established');
      this.#byeAfterAck?.();
    }
  }

  /** UAC: remember the ACK of a 2xx so that retransmissions of it are re-ACKed. */
  rememberAck(ack: SipRequest, channel: Channel): void {
    this.#lastAck = { ack, channel };
  }

  /** A 2xx retransmission for our INVITE reached us: send the same ACK again (§13.2.2.4). */
  receive2xxRetransmission(response: SipResponse): void {
    if (this.#lastAck && this.#lastAck.ack.cseq.seq === response.cseq.seq) this.#core.sendStateless(this.#lastAck.ack, this.#lastAck.channel);
  }

  // ---- requests inside the dialog ----

  /**
   * Where a request in the dialog goes. NAT: when there is no route set and
   * the remote target is a private address other than the peer's source
   * address, the peer's own address (where its INVITE came from, or where we
   * reached it) is used instead — the Contact behind a NAT is unreachable.
   */
  #channel(request: SipRequest): Channel {
    const peer = this.#peer;
    // RFC 7118 §5: a browser is reached only over its WebSocket connection, whatever its Contact says.
    if (peer && isWebSocketProtocol(peer.transport.protocol)) return peer;
    const target = this.dialog.remoteTarget;
    if (peer && this.dialog.routeSet.length === 0 && isSipUri(target) && isPrivateHost(target.host) && target.host.replace(/^\[(.*)\]$/, '$1') !== peer.remote.address) {
      return peer;
    }
    return this.#core.channelFor(request, this.#protocol);
  }

  #newRequest(method: string, options: { body?: string; contentType?: string; headers?: Iterable<readonly [string, string]> } = {}): SipRequest {
    const via = this.#core.via(this.#protocol);
    const headers: Array<readonly [string, string]> = [...(options.headers ?? [])];
    if (method === 'INVITE') headers.push(['Contact', this.#core.contact(this.#protocol, undefined, this.dialog.secure)], ['Allow', ALLOW]);
    // RFC 6665 §8.2.1: a NOTIFY carries a Contact (it refreshes the target of the subscription's dialog).
    if (method === 'NOTIFY') headers.push(['Contact', this.#core.contact(this.#protocol, undefined, this.dialog.secure)]);
    headers.push(['User-Agent', this.#core.userAgent]);
    return this.dialog.createRequest(method, newBranch(), via, { ...options, headers });
  }

  /**
   * RFC 3261 §22.2: a 401/407 to a request in the dialog is answered once with the dialog's credentials;
   * the retry has CSeq + 1, so the dialog's local sequence moves past it (§12.2.1.1).
   */
  #credentials(): { auth?: DigestCredentials; onRetry?: (sent: SentRequest) => void } {
    if (!this.#auth) return {};
    return {
      auth: this.#auth,
      onRetry: (sent) => {
        this.dialog.localSeq = Math.max(this.dialog.localSeq, sent.request.cseq.seq);
      },
    };
  }

  // ---- RFC 4028 session timers ----

  /** We are the refresher and half the interval passed: UPDATE without SDP when the peer allows it, else re-INVITE (§7.4). */
  async #refresh(): Promise<void> {
    let agreement = this.#timer.agreement;
    if (!agreement || this.#state !== 'established' || this.#refreshing) return;
    this.#refreshing = true;
    try {
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const headers = refreshHeaders(agreement, this.#core.minSessionExpires);
        let response: SipResponse | undefined;
        if (this.#peerAllowsUpdate) response = await this.request('UPDATE', { headers });
        else if (this.localSdp) {
          response = await this.reinvite(this.localSdp, headers).then((r) => r.response, (error: unknown) => (error instanceof SipRequestError ? error.response : undefined));
        }
        if (this.#state !== 'established' || !response) break;
        if (response.status < 300) {
          // §7.2: the 2xx says the interval and who refreshes next; a 2xx without Session-Expires keeps ours.
          this.#timer.arm(negotiateAsUac(response) ?? agreement);
          return;
        }
        // §7.4 / §8.1: 422 gives the peer's Min-SE; one more try with it.
        const floor = parseMinSE(response);
        if (response.status !== 422 || floor === undefined || floor <= agreement.interval) break;
        agreement = { ...agreement, interval: floor };
      }
      // The refresh failed (not with 408/481, which ended the dialog): the session lasts to its expiry unless the peer refreshes.
      if (this.#state === 'established') this.#timer.armExpiry(agreement.interval / 2);
    } finally {
      this.#refreshing = false;
    }
  }

  /** §10: no refresh came before the session expired: BYE, and owners learn it before the BYE goes out. */
  #expire(): void {
    if (this.#state !== 'established') return;
    this.#core.log.info({ callId: this.callId }, 'session timer expired without a refresh; sending BYE');
    this.emit('expired');
    void this.#sendBye('session-expired');
  }

  /**
   * UAS side of a refresh (re-INVITE or UPDATE, RFC 4028 §9): the headers of our 2xx, arming the timer
   * with what it asks; or the 422 to send when its interval is below our Min-SE (§8.1).
   */
  #refreshAnswer(request: SipRequest): { headers: Array<[string, string]> } | { tooSmall: number } {
    const asked = negotiateAsUas(request, this.#core.minSessionExpires);
    if (asked && 'tooSmall' in asked) return asked;
    const agreement = asked ?? this.#timer.agreement;
    if (!agreement) return { headers: [] };
    return { headers: agreementHeaders(agreement) };
  }

  #armAfterRefresh(request: SipRequest): void {
    const asked = negotiateAsUas(request, this.#core.minSessionExpires);
    const agreement = asked && !('tooSmall' in asked) ? asked : this.#timer.agreement;
    if (agreement) this.#timer.arm(agreement);
  }

  /** Sends a non-INVITE request in the dialog; resolves with the final response. */
  request(method: string, options: { body?: string; contentType?: string; headers?: Iterable<readonly [string, string]> } = {}): Promise<SipResponse> {
    if (this.#state === 'ended') return Promise.reject(new Error('session ended'));
    const request = this.#newRequest(method, options);
    return new Promise((resolve) => {
      this.#core.send(request, {
        channel: this.#channel(request),
        ...this.#credentials(),
        onResponse: (response) => {
          if (response.status < 200) return;
          // §12.2.1.2: 481 or 408 to a request in the dialog ends it.
          if ((response.status === 481 || response.status === 408) && method !== 'BYE') this.#end({ by: 'error', reason: 'dialog-gone', status: response.status });
          resolve(response);
        },
      });
    });
  }

  /** RFC 3261 §15.1.1: ends the call. Idempotent; resolves once the BYE is answered (or timed out). */
  bye(headers?: Iterable<readonly [string, string]>): Promise<void> {
    return this.#sendBye('bye', headers);
  }

  /** Same as `bye()`; `close()` exists so owners can tear down everything uniformly. */
  close(): Promise<void> {
    return this.#sendBye('closed');
  }

  #sendBye(reason: string, headers?: Iterable<readonly [string, string]>): Promise<void> {
    if (this.#closing) return this.#closing;
    if (this.#state === 'ended') return Promise.resolve();
    if (this.#state === 'awaiting-ack' && this.#pending2xx) {
      // §15: the callee MUST NOT send BYE before the ACK for its 2xx arrives (or the 2xx times out).
      this.#closing = new Promise((resolve) => {
        this.#byeAfterAck = () => {
          this.#byeAfterAck = undefined;
          this.#closing = undefined;
          void this.#sendBye(reason, headers).then(resolve);
        };
      });
      return this.#closing;
    }
    this.#stop2xx();
    this.#transition('terminating');
    const bye = this.#newRequest('BYE', { headers });
    this.#closing = new Promise((resolve) => {
      this.#core.send(bye, {
        channel: this.#channel(bye),
        ...this.#credentials(),
        onResponse: (response) => {
          if (response.status < 200) return;
          this.#end({ by: 'local', reason, status: response.status });
          resolve();
        },
      });
    });
    return this.#closing;
  }

  /**
   * Ends the session without signalling (the user agent is shutting down and
   * its BYE went unanswered). Emits `ended` if it had not been emitted.
   */
  dispose(): void {
    this.#end({ by: 'local', reason: 'closed' });
  }

  /** Sends INFO (e.g. `application/dtmf-relay` with `Signal=5\r\nDuration=160`). */
  info(body: string, contentType: string): Promise<SipResponse> {
    return this.request('INFO', { body, contentType });
  }

  /**
   * RFC 3261 §14.1: re-INVITE with a new offer; resolves with the answer.
   * Rejects with `SipRequestError` (e.g. 491 when both sides re-INVITE at once).
   */
  reinvite(sdp: string, headers?: Iterable<readonly [string, string]>): Promise<{ sdp: string | undefined; response: SipResponse }> {
    if (this.#state !== 'established') return Promise.reject(new Error(`cannot re-INVITE in state ${this.#state}`));
    // §14.1: no new INVITE while another INVITE transaction is in progress in the dialog.
    if (this.#outgoingInvite || this.#incomingInvite) return Promise.reject(new SipRequestError(491, 'Request Pending'));
    this.#outgoingInvite = true;
    const invite = this.#newRequest('INVITE', { body: sdp, contentType: 'application/sdp', headers });
    return new Promise((resolve, reject) => {
      const channel = this.#channel(invite);
      this.#core.send(invite, {
        channel,
        ...this.#credentials(),
        onResponse: (response, sent) => {
          if (response.status < 200) return;
          if (response.status < 300) {
            if (!this.#outgoingInvite) {
              this.receive2xxRetransmission(response);
              return;
            }
            this.#outgoingInvite = false;
            // §13.2.2.4: the ACK has the CSeq of the INVITE it answers — the digest retry's, when there was one (§22.2).
            const ack = this.dialog.createRequest('ACK', newBranch(), this.#core.via(this.#protocol), { headers: [['User-Agent', this.#core.userAgent]] }, sent.request.cseq.seq);
            for (const name of ['Authorization', 'Proxy-Authorization']) for (const value of sent.request.headers.getAll(name)) ack.headers.append(name, value);
            this.#core.sendStateless(ack, channel);
            this.rememberAck(ack, channel);
            this.dialog.refreshTarget(response);
            this.localSdp = sdp;
            if (response.body.length > 0) this.remoteSdp = response.bodyText;
            this.emit('updated', { local: this.localSdp, remote: this.remoteSdp });
            resolve({ sdp: response.body.length > 0 ? response.bodyText : undefined, response });
            return;
          }
          this.#outgoingInvite = false;
          if (response.status === 481 || response.status === 408) this.#end({ by: 'error', reason: 'dialog-gone', status: response.status });
          reject(new SipRequestError(response.status, response.reason, response));
        },
      });
    });
  }

  /** Puts the peer on hold (RFC 3264 §8.4: a=sendonly) or takes it off hold. */
  hold(on = true): Promise<{ sdp: string | undefined; response: SipResponse }> {
    if (!this.localSdp) return Promise.reject(new Error('no local SDP to modify'));
    return this.reinvite(withDirection(this.localSdp, on ? 'sendonly' : 'sendrecv'));
  }

  /** Handles a request the dialog layer matched to this session. */
  receiveRequest(request: SipRequest, tx: ServerTransaction): void {
    // §12.2.2: a lower CSeq than the last one is out of order.
    if (!this.dialog.acceptRemoteCSeq(request)) {
      this.#core.respond(tx, createResponse(request, 500, { reason: 'Server Internal Error (CSeq out of order)' }));
      return;
    }
    switch (request.method) {
      case 'BYE':
        this.#core.respond(tx, createResponse(request, 200));
        this.#end({ by: 'remote', reason: 'bye', request });
        return;
      case 'INVITE':
      case 'UPDATE':
        this.#receiveReinvite(request, tx);
        return;
      case 'PRACK':
        // A PRACK for a reliable provisional that reached us after the answer (RFC 3262 §3): nothing is pending.
        this.#core.respond(tx, createResponse(request, 200));
        return;
      case 'INFO': {
        this.#core.respond(tx, createResponse(request, 200));
        const contentType = request.contentType;
        const body = request.bodyText;
        this.emit('info', { request, contentType, body, dtmf: parseDtmfBody(contentType, body) });
        return;
      }
      case 'OPTIONS':
        this.#core.respond(tx, createResponse(request, 200, { headers: [['Allow', ALLOW], ['Accept', 'application/sdp']] }));
        return;
      case 'REFER':
        this.#receiveRefer(request, tx);
        return;
      default:
        this.#core.respond(tx, createResponse(request, 405, { headers: [['Allow', ALLOW]] }));
    }
  }

  /** RFC 3515: a REFER goes to the owner (`refer` event); 400 without exactly one Refer-To (§2.4.1), 603 when nobody listens. */
  #receiveRefer(request: SipRequest, tx: ServerTransaction): void {
    const target = parseReferTo(request);
    if ('problem' in target) {
      this.#core.respond(tx, createResponse(request, 400, { reason: `Bad Request (${target.problem})` }));
      return;
    }
    const refer = new ReferRequest(request, target.uri, (response) => this.#core.respond(tx, response),
      (notify) => this.request('NOTIFY', notify));
    if (this.#state !== 'established' || this.listenerCount('refer') === 0) {
      refer.reject(603, 'Decline (no transfer possible now)');
      return;
    }
    this.emit('refer', refer);
  }

  /**
   * A re-INVITE (§14.2) or an UPDATE (RFC 3311 §5.2) in the dialog: a new offer, a late-offer re-INVITE, or a
   * session refresh (RFC 4028 §9). An UPDATE without SDP is only a refresh and gets its 200 at once.
   */
  #receiveReinvite(request: SipRequest, tx: ServerTransaction): void {
    const update = request.method === 'UPDATE';
    if (this.#state !== 'established' && !(update && this.#state === 'awaiting-ack')) {
      this.#core.respond(tx, createResponse(request, this.#state === 'awaiting-ack' ? 491 : 481));
      return;
    }
    const timer = this.#refreshAnswer(request);
    if ('tooSmall' in timer) {
      // RFC 4028 §8.1: a Session-Expires below our Min-SE is refused with 422 and our Min-SE.
      this.#core.respond(tx, createResponse(request, 422, { headers: [['Min-SE', String(timer.tooSmall)]] }));
      return;
    }
    const hasOffer = request.body.length > 0 && request.contentType === 'application/sdp';
    if (update && !hasOffer) {
      this.#armAfterRefresh(request);
      this.#core.respond(tx, createResponse(request, 200, { headers: [['Contact', this.#core.contact(this.#protocol, undefined, this.dialog.secure)], ...timer.headers] }));
      return;
    }
    // §14.2: an INVITE while our own is pending gets 491; while another incoming one is pending, 500 + Retry-After.
    if (this.#outgoingInvite) {
      this.#core.respond(tx, createResponse(request, 491));
      return;
    }
    if (this.#incomingInvite) {
      this.#core.respond(tx, createResponse(request, 500, { headers: [['Retry-After', '1']] }));
      return;
    }
    if (!update) this.#incomingInvite = true;
    const offer = hasOffer ? request.bodyText : undefined;
    let direction: MediaDirection | undefined;
    if (offer) {
      try {
        direction = mediaDirection(parseSdp(offer));
      } catch {
        this.#incomingInvite = false;
        this.#core.respond(tx, createResponse(request, 488, { reason: 'Not Acceptable Here (bad SDP)' }));
        return;
      }
    }
    let done = false;
    const reinvite: ReinviteRequest = {
      request,
      sdp: offer,
      direction,
      accept: (sdp: string) => {
        if (done) return;
        done = true;
        this.dialog.refreshTarget(request);
        this.#armAfterRefresh(request);
        const response = createResponse(request, 200, { body: sdp, headers: [['Contact', this.#core.contact(this.#protocol, undefined, this.dialog.secure)], ['Allow', ALLOW], ...timer.headers] });
        if (update) {
          // RFC 3311 §5.2: the answer goes in the 200 to the UPDATE; no ACK follows.
          this.#core.respond(tx, response);
          this.localSdp = sdp;
          this.remoteSdp = offer;
          this.emit('updated', { local: this.localSdp, remote: this.remoteSdp });
          return;
        }
        this.send2xx(tx, response, (ack) => {
          this.#incomingInvite = false;
          if (!offer && ack.body.length > 0) this.remoteSdp = ack.bodyText;
          this.emit('updated', { local: this.localSdp, remote: this.remoteSdp });
        });
        this.localSdp = sdp;
        if (offer) this.remoteSdp = offer;
      },
      reject: (status = 488, reason?: string) => {
        if (done) return;
        done = true;
        this.#incomingInvite = false;
        this.#core.respond(tx, createResponse(request, status, { reason }));
      },
    };
    if (this.listenerCount('reinvite') > 0) {
      this.emit('reinvite', reinvite);
      return;
    }
    // No owner decision: answer with our current SDP, mirroring the offered direction (RFC 3264 §6.1).
    if (!this.localSdp) {
      reinvite.reject(488);
      return;
    }
    reinvite.accept(direction ? withDirection(this.localSdp, answerDirection(direction)) : this.localSdp);
  }
}

/** The SDP with every media line's direction set to `direction` and the origin version bumped (RFC 3264 §8). */
export function withDirection(sdp: string, direction: MediaDirection): string {
  const parsed = parseSdp(sdp);
  delete parsed.direction;
  for (const media of parsed.media) media.direction = direction;
  if (parsed.origin) parsed.origin.sessionVersion = Number(parsed.origin.sessionVersion) + 1;
  return serializeSdp(parsed);
}
