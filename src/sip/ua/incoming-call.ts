/**
 * The callee side of an INVITE until it is answered, rejected or cancelled
 * (RFC 3261 §13.3). `answer()` returns the `SipSession` at once; it emits
 * `established` when the ACK arrives (the 2xx is retransmitted until then).
 *
 * ```
 *  ringing --answer()--> answered
 *     |  \--reject()---> rejected
 *     \---CANCEL-------> cancelled (487 sent, `signal` aborted)
 * ```
 */
import { TypedEmitter } from '../../shared/typed-emitter.js';
import { Dialog } from '../dialog/dialog.js';
import type { SipRequest } from '../message/message.js';
import type { NameAddr } from '../message/name-addr.js';
import type { InviteServerTransaction } from '../transaction/invite-server-transaction.js';
import type { NetAddress, TransportProtocol } from '../transport/transport.js';
import { createResponse, newTag } from './message-factory.js';
import { ReliableProvisionals, requiresReliable } from './prack.js';
import { agreementHeaders, negotiateAsUas } from './session-timer.js';
import { ALLOW, SipSession } from './sip-session.js';
import type { UaCore } from './ua-core.js';

export type IncomingCallState = 'ringing' | 'answered' | 'rejected' | 'cancelled';

const MOVES: Record<IncomingCallState, readonly IncomingCallState[]> = {
  ringing: ['answered', 'rejected', 'cancelled'],
  answered: [],
  rejected: [],
  cancelled: [],
};

export type IncomingCallEvents = {
  /** The caller sent CANCEL; a 487 has been sent. `reason`: the CANCEL's Reason header (RFC 3326), e.g. `SIP;cause=200` when answered elsewhere. */
  cancelled: [reason: string | undefined];
  /** Left `ringing`: answered, rejected or cancelled. */
  settled: [state: IncomingCallState];
};

type Headers = Iterable<readonly [string, string]>;

export class IncomingCall extends TypedEmitter<IncomingCallEvents> {
  readonly request: SipRequest;
  /** Source of the INVITE. */
  readonly remote: NetAddress;
  /** Set when the INVITE was authenticated (see `SipUserAgentOptions.inviteAuth`). */
  readonly authenticatedUser: string | undefined;
  readonly #core: UaCore;
  readonly #tx: InviteServerTransaction;
  readonly #tag = newTag();
  readonly #abort = new AbortController();
  #state: IncomingCallState = 'ringing';
  /** RFC 3262: set when the INVITE has `Require: 100rel`; our 18x then go reliably. */
  readonly #reliable: ReliableProvisionals | undefined;

  constructor(core: UaCore, tx: InviteServerTransaction, remote: NetAddress, authenticatedUser?: string) {
    super();
    this.#core = core;
    this.#tx = tx;
    this.request = tx.request;
    this.remote = remote;
    this.authenticatedUser = authenticatedUser;
    if (requiresReliable(this.request)) {
      // §3: a reliable provisional never acknowledged within 64*T1: the INVITE is rejected with a 5xx.
      this.#reliable = new ReliableProvisionals(core, tx, this.#tag, () => this.reject(504, 'Server Time-out (no PRACK)'));
    }
  }

  get state(): IncomingCallState {
    return this.#state;
  }

  get callId(): string {
    return this.request.callId;
  }

  get from(): NameAddr {
    return this.request.from;
  }

  get to(): NameAddr {
    return this.request.to;
  }

  /** The offer, or `undefined` for a late-offer INVITE. */
  get sdp(): string | undefined {
    return this.request.body.length > 0 && this.request.contentType === 'application/sdp' ? this.request.bodyText : undefined;
  }

  /** Aborted when the caller cancels. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Our address as this caller must see it (SPEC §13): for the SDP answer's `o=`/`c=`. */
  get advertisedMediaAddress(): string {
    return this.#core.mediaAddressFor(this.remote.address);
  }

  /** Whether SDES keys may be read from this INVITE's SDP and put in our answer (SPEC §13: TLS only, unless allowed). */
  get keysMayTravel(): boolean {
    return this.#core.keysMayTravelOver(this.protocol);
  }

  /** The transport the INVITE came over. */
  get protocol(): TransportProtocol {
    return this.#tx.channel.transport.protocol;
  }

  /** RFC 3261 §12.1.1: an INVITE to a SIPS URI is answered with a SIPS Contact. */
  get #secure(): boolean {
    return this.request.uri.scheme === 'sips';
  }

  #transition(to: IncomingCallState): void {
    if (!MOVES[this.#state].includes(to)) throw new Error(`incoming call: cannot go from ${this.#state} to ${to}`);
    this.#state = to;
    this.emit('settled', to);
  }

  /** 180 Ringing. */
  ring(headers?: Headers): void {
    this.#provisional(180, undefined, headers);
  }

  /** 183 Session Progress with early media SDP. */
  progress(sdp: string, headers?: Headers): void {
    this.#provisional(183, sdp, headers);
  }

  #provisional(status: number, sdp: string | undefined, headers: Headers | undefined): void {
    if (this.#state !== 'ringing') return;
    const extra: Array<readonly [string, string]> = [['Contact', this.#core.contact(this.protocol, undefined, this.#secure)], ...(headers ?? [])];
    const response = createResponse(this.request, status, { toTag: this.#tag, body: sdp, headers: extra });
    if (this.#reliable) this.#reliable.send(response);
    else this.#core.respond(this.#tx, response);
  }

  /**
   * 200 OK with the answer (or the offer, for a late-offer INVITE). The
   * session is returned at once; it emits `established` on the ACK, or ends
   * with a BYE when no ACK comes within 64*T1 (§13.3.1.4).
   */
  answer(sdp: string, headers?: Headers): SipSession {
    this.#transition('answered');
    const dialog = Dialog.asUas(this.request, this.#tag, 'confirmed');
    // RFC 4028 §9: the INVITE's Session-Expires (at or above our Min-SE: the UA answered 422 otherwise) holds.
    const asked = negotiateAsUas(this.request, this.#core.minSessionExpires);
    const timer = asked && !('tooSmall' in asked) ? asked : undefined;
    const session = new SipSession(this.#core, {
      dialog,
      role: 'uas',
      invite: this.request,
      localSdp: sdp,
      remoteSdp: this.sdp,
      protocol: this.protocol,
      peer: this.#tx.channel,
      peerAllow: this.request.headers.getAll('Allow'),
      ...(timer ? { sessionTimer: timer } : {}),
    });
    const extra: Array<readonly [string, string]> = [
      ['Contact', this.#core.contact(this.protocol, undefined, this.#secure)], ['Allow', ALLOW], ...(timer ? agreementHeaders(timer) : []), ...(headers ?? []),
    ];
    const response = createResponse(this.request, 200, { toTag: this.#tag, body: sdp, headers: extra });
    const reliable = this.#reliable;
    if (!reliable) session.send2xx(this.#tx, response);
    else {
      // RFC 3262 §3: no 2xx before the PRACK of a reliable 18x that carried SDP.
      reliable.whenFinalAllowed(() => {
        reliable.close();
        if (session.state === 'awaiting-ack') session.send2xx(this.#tx, response);
      });
    }
    return session;
  }

  /** A final non-2xx response (default 486 Busy Here). */
  reject(status = 486, reason?: string, headers?: Headers): void {
    if (status < 300 || status > 699) throw new RangeError('reject() needs a 3xx-6xx status');
    if (this.#state !== 'ringing') return;
    this.#transition('rejected');
    this.#reliable?.close();
    this.#core.respond(this.#tx, createResponse(this.request, status, { toTag: this.#tag, reason, headers }));
  }

  /** RFC 3261 §9.2: a CANCEL matched this INVITE; answer it 487 if still ringing. */
  receiveCancel(reason?: string): void {
    if (this.#state !== 'ringing') return;
    this.#transition('cancelled');
    this.#reliable?.close();
    this.#core.respond(this.#tx, createResponse(this.request, 487, { toTag: this.#tag }));
    this.#abort.abort();
    this.emit('cancelled', reason);
  }
}
