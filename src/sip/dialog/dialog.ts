/**
 * Dialog state (RFC 3261 §12): identifiers, route set, remote target and
 * CSeq spaces, and the construction of requests inside the dialog.
 *
 * ```
 *   1xx with To tag         2xx / ACK
 *  ------------> early ---------------> confirmed
 *                  |                        |
 *                  | non-2xx final          | BYE sent or received
 *                  v                        v
 *               terminated <----------------+
 * ```
 */
import { SipHeaders } from '../message/headers.js';
import { SipRequest, type SipResponse } from '../message/message.js';
import { cloneNameAddr, parseNameAddr, serializeNameAddr, type NameAddr } from '../message/name-addr.js';
import { isSipUri, type Uri } from '../message/uri.js';

export type DialogState = 'early' | 'confirmed' | 'terminated';

const MOVES: Record<DialogState, readonly DialogState[]> = {
  early: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  terminated: [],
};

export interface DialogId {
  callId: string;
  localTag: string;
  remoteTag: string;
}

export function dialogKey(id: DialogId): string {
  return `${id.callId}|${id.localTag}|${id.remoteTag}`;
}

export interface InDialogRequestOptions {
  body?: string | Buffer;
  contentType?: string;
  headers?: Iterable<readonly [string, string]>;
}

export class Dialog {
  readonly id: DialogId;
  #state: DialogState;
  /** Local URI with our tag (From of our requests). */
  readonly local: NameAddr;
  /** Remote URI with their tag (To of our requests). */
  readonly remote: NameAddr;
  remoteTarget: Uri;
  /** Route set as raw name-addr values, in the order to put in Route. */
  readonly routeSet: readonly string[];
  localSeq: number;
  remoteSeq: number | undefined;
  /** RFC 3261 §12.1.1: true when the request arrived over TLS with a sips Request-URI. */
  readonly secure: boolean;

  private constructor(init: {
    id: DialogId;
    state: DialogState;
    local: NameAddr;
    remote: NameAddr;
    remoteTarget: Uri;
    routeSet: string[];
    localSeq: number;
    remoteSeq: number | undefined;
    secure: boolean;
  }) {
    this.id = init.id;
    this.#state = init.state;
    this.local = init.local;
    this.remote = init.remote;
    this.remoteTarget = init.remoteTarget;
    this.routeSet = init.routeSet;
    this.localSeq = init.localSeq;
    this.remoteSeq = init.remoteSeq;
    this.secure = init.secure;
  }

  /**
   * RFC 3261 §12.1.2: the UAC's dialog from the request and a 1xx/2xx with a
   * To tag. Route set = Record-Route of the response, reversed; remote
   * target = its Contact.
   */
  static asUac(request: SipRequest, response: SipResponse): Dialog {
    const contacts = response.contacts;
    const target = contacts !== '*' && contacts[0] ? contacts[0].uri : request.uri;
    return new Dialog({
      id: { callId: request.callId, localTag: request.fromTag ?? '', remoteTag: response.toTag ?? '' },
      state: response.status < 200 ? 'early' : 'confirmed',
      local: cloneNameAddr(request.from),
      remote: cloneNameAddr(response.to),
      remoteTarget: target,
      routeSet: response.headers.getAll('Record-Route').reverse(),
      localSeq: request.cseq.seq,
      remoteSeq: undefined,
      secure: isSipUri(request.uri) && request.uri.scheme === 'sips',
    });
  }

  /**
   * RFC 3261 §12.1.1: the UAS's dialog. Route set = Record-Route of the
   * request in order; remote target = its Contact; remote sequence = its CSeq.
   */
  static asUas(request: SipRequest, localTag: string, state: DialogState = 'early'): Dialog {
    const contacts = request.contacts;
    const target = contacts !== '*' && contacts[0] ? contacts[0].uri : request.from.uri;
    const local = cloneNameAddr(request.to);
    local.params.set('tag', localTag);
    return new Dialog({
      id: { callId: request.callId, localTag, remoteTag: request.fromTag ?? '' },
      state,
      local,
      remote: cloneNameAddr(request.from),
      remoteTarget: target,
      routeSet: request.headers.getAll('Record-Route'),
      localSeq: Math.floor(Math.random() * 10_000) + 1,
      remoteSeq: request.cseq.seq,
      secure: isSipUri(request.uri) && request.uri.scheme === 'sips',
    });
  }

  get state(): DialogState {
    return this.#state;
  }

  get key(): string {
    return dialogKey(this.id);
  }

  transition(to: DialogState): void {
    if (to === this.#state) return;
    if (!MOVES[this.#state].includes(to)) throw new Error(`dialog: illegal transition ${this.#state} -> ${to}`);
    this.#state = to;
  }

  /**
   * RFC 3261 §12.2.2: a request with a lower CSeq than the last one is out
   * of order and gets a 500; otherwise the remote sequence moves forward.
   */
  acceptRemoteCSeq(request: SipRequest): boolean {
    const seq = request.cseq.seq;
    if (request.method === 'ACK' || request.method === 'CANCEL') return true;
    if (this.remoteSeq !== undefined && seq <= this.remoteSeq) return false;
    this.remoteSeq = seq;
    return true;
  }

  /** RFC 3261 §12.2.1.2, §12.2.2: a target refresh (re-INVITE and its 2xx) updates the remote target. */
  refreshTarget(message: SipRequest | SipResponse): void {
    const contacts = message.contacts;
    if (contacts !== '*' && contacts[0]) this.remoteTarget = contacts[0].uri;
  }

  /**
   * RFC 3261 §12.2.1.1: a request in the dialog. Loose routing when the
   * first route has `lr`; strict routing (RFC 2543) otherwise.
   */
  createRequest(method: string, branch: string, via: { protocol: string; host: string; port: number }, options: InDialogRequestOptions = {}, seq?: number): SipRequest {
    if (seq === undefined) {
      this.localSeq += 1;
      seq = this.localSeq;
    }
    const headers = new SipHeaders();
    headers.append('Via', `SIP/2.0/${via.protocol} ${via.host}:${via.port};branch=${branch};rport`);
    let uri = this.remoteTarget;
    const routes = [...this.routeSet];
    const first = routes[0] === undefined ? undefined : parseNameAddr(routes[0], 'Route');
    if (first && isSipUri(first.uri) && !first.uri.params.has('lr')) {
      // Strict router: it becomes the Request-URI and the remote target goes last in Route.
      uri = first.uri;
      routes.shift();
      routes.push(`<${serializeNameAddr({ displayName: undefined, uri: this.remoteTarget, params: new Map() }).slice(1, -1)}>`);
    }
    for (const route of routes) headers.append('Route', route);
    headers.append('Max-Forwards', '70');
    headers.append('From', serializeNameAddr(this.local));
    headers.append('To', serializeNameAddr(this.remote));
    headers.append('Call-ID', this.id.callId);
    headers.append('CSeq', `${seq} ${method}`);
    for (const [name, value] of options.headers ?? []) headers.append(name, value);
    if (options.body !== undefined && options.body.length > 0) headers.append('Content-Type', options.contentType ?? 'application/sdp');
    return new SipRequest({ method, uri, headers, body: options.body });
  }
}
