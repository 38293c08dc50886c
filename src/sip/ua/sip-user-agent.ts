/**
 * The SIP endpoint: owns transports and the transaction layer, answers bad
 * input, routes requests to calls, sessions and the registrar, and starts
 * outgoing calls and requests. A B2BUA is built from two `SipSession`s.
 *
 * Responses go back to the source address and port of the request over the
 * transport it came on (symmetric response routing, RFC 3581 style), which
 * is what phones behind NAT need.
 */
import { AdvertisedHost } from '../../shared/advertised-host.js';
import { TypedEmitter } from '../../shared/typed-emitter.js';
import { silentLogger, type Logger } from '../../shared/log.js';
import { dialogKey } from '../dialog/dialog.js';
import { SipHeaders } from '../message/headers.js';
import { SipRequest, type SipMessage, type SipResponse } from '../message/message.js';
import { parseNameAddr, serializeNameAddr } from '../message/name-addr.js';
import type { SipParseError } from '../message/parse-error.js';
import type { SipParserLimits } from '../message/parser.js';
import { parseSdp } from '../message/sdp.js';
import { serializeMessage } from '../message/serializer.js';
import { isSipUri, parseUri, serializeUri, type SipUri } from '../message/uri.js';
import type { InviteServerTransaction } from '../transaction/invite-server-transaction.js';
import { newBranch, TransactionLayer, type ServerTransaction } from '../transaction/transaction-layer.js';
import type { Channel, TransactionTimers } from '../transaction/transaction.js';
import type { StreamTransportOptions } from '../transport/stream-transport.js';
import { TcpTransport } from '../transport/tcp-transport.js';
import { isWebSocketProtocol, type InboundContext, type NetAddress, type SipTransport, type TransportProtocol } from '../transport/transport.js';
import { TlsTransport } from '../transport/tls-transport.js';
import { UdpTransport } from '../transport/udp-transport.js';
import type { CredentialLookup, DigestCredentials, DigestServer } from './digest.js';
import { ensureLr, isStaleChallenge, withCredentials } from './request-helpers.js';
import { advertiseHost } from './advertise-host.js';
import { IncomingCall } from './incoming-call.js';
import { createErrorResponse, createResponse, newCallId, newTag, stampVia } from './message-factory.js';
import { OutgoingCall } from './outgoing-call.js';
import type { Registrar } from './registrar.js';
import { ALLOW, SipRequestError, type SipSession } from './sip-session.js';
import { negotiateAsUas, RFC_MIN_SE } from './session-timer.js';
import { allowHeader, checkRequest, isImplemented, SUPPORTED_EXTENSIONS } from './uas-checks.js';
import { SourceBans } from './source-bans.js';
import type { SendOptions, SentRequest, UaCore } from './ua-core.js';

export interface ListenOptions {
  protocol: TransportProtocol;
  /** Default `'0.0.0.0'`. */
  host?: string;
  /** Default 5060; 0 picks a free port. */
  port?: number;
}

export interface SipUserAgentOptions {
  /** Where to listen. Default one UDP listener on 0.0.0.0:5060. */
  listen?: ListenOptions[];
  /** Transports built by the caller (e.g. a future WebSocket one); used in addition to `listen`. */
  transports?: SipTransport[];
  /** Host put in Via and Contact for every peer (the sandbox's phones, tests). Wins over `advertisedHost`. */
  publicHost?: string;
  /**
   * The address put in Via and Contact, chosen per peer (SPEC §13): the
   * external one, or the local one for peers on loopback and local networks.
   * Default: the bound address, or the first non-loopback interface address
   * when bound to a wildcard.
   */
  advertisedHost?: AdvertisedHost;
  /** User part of our Contact. Default `'sautikit'`. */
  contactUser?: string;
  /** User-Agent header. Default `'Sautikit'`. */
  userAgent?: string;
  /** T1/T2/T4. Default 500/4000/5000 ms. */
  timers?: Partial<TransactionTimers>;
  /** Parser limits. Default 64 KiB messages, 256 headers. */
  limits?: SipParserLimits;
  /** Serve REGISTER with this registrar; without one REGISTER gets 405. */
  registrar?: Registrar;
  /**
   * Challenge every new INVITE and accept only these credentials: 401 /
   * WWW-Authenticate, or 407 / Proxy-Authenticate with `proxy: true` (how a
   * trunk-facing edge usually asks). Default: INVITEs are not challenged.
   */
  inviteAuth?: { digest: DigestServer; credentials: CredentialLookup; proxy?: boolean };
  /** An incoming call neither answered nor rejected within this time gets 480. Default 180000 ms. */
  ringTimeoutMs?: number;
  /** How long `close()` waits for BYE answers. Default 2000 ms. */
  closeTimeoutMs?: number;
  /** TCP idle timeout. Default 300000 ms. */
  tcpIdleTimeoutMs?: number;
  /** Limits on inbound TCP/TLS connections (SPEC §13): per source (default 100) and the header deadline (default 10000 ms). */
  streamLimits?: Pick<StreamTransportOptions, 'maxConnectionsPerSource' | 'headerTimeoutMs'>;
  /** Certificate and key (PEM) for `tls` listeners, and extra CAs trusted when we connect to a TLS peer. */
  tls?: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer };
  /**
   * Sources banned for failed authentication get 403 on every request (SPEC §13). Default: a
   * fresh `SourceBans`; pass one to share it with the registrar that reports failures to it.
   */
  bans?: SourceBans;
  /** Default `silentLogger`. */
  logger?: Logger;
  /**
   * RFC 4028 Min-SE: INVITEs asking for a shorter Session-Expires get 422. Default (and the RFC's floor,
   * §4) 90 s; only tests of the timer machinery go lower, so they need not wait minutes.
   */
  minSessionExpires?: number;
  /**
   * Let SDES keys (`a=crypto`, RFC 4568 §8.3) travel in SDP over UDP and TCP,
   * where anyone on the path reads them. Default false: only over TLS (SPEC §13).
   */
  sdesOverInsecureTransport?: boolean;
}

export interface InviteOptions {
  /** SDP offer; omit for a late-offer INVITE. */
  sdp?: string;
  /** From URI or name-addr. Default `sip:<contactUser>@<publicHost>`. */
  from?: string;
  /** To URI or name-addr. Default: the target. */
  to?: string;
  headers?: Iterable<readonly [string, string]>;
  /** Answer 401/407 once with these credentials (trunks). */
  auth?: DigestCredentials;
  /** Aborting cancels the call (CANCEL once a provisional arrived). */
  signal?: AbortSignal;
  /** Outbound proxy / trunk to route through (a Route header with `;lr`). */
  proxy?: string;
}

export interface RequestOptions {
  from?: string;
  to?: string;
  headers?: Iterable<readonly [string, string]>;
  body?: string;
  contentType?: string;
  auth?: DigestCredentials;
  proxy?: string;
}

export interface RegisterOptions {
  /** Registrar URI, e.g. `sip:sip.example.com`. */
  registrar: string;
  /** Address of record, e.g. `sip:alice@example.com`. */
  aor: string;
  auth?: DigestCredentials;
  /** Requested lifetime in seconds; 0 un-registers. Default 3600. */
  expires?: number;
  /** User part of the Contact registered (where the registrar sends calls). Default `contactUser`. */
  contactUser?: string;
}

/** What an OPTIONS probe heard: any final response (even 404/405), or nothing. */
export type ProbeResult = { answered: true; status: number } | { answered: false; why: 'timeout' | 'transport-error' };

export type SipUserAgentEvents = {
  invite: [call: IncomingCall];
  error: [error: Error];
};


export class SipUserAgent extends TypedEmitter<SipUserAgentEvents> {
  readonly transports: SipTransport[];
  /** Report a failed digest attempt with `bans.failed(address)`; banned sources get 403 on every request. */
  readonly bans: SourceBans;
  readonly #options: SipUserAgentOptions;
  readonly #log: Logger;
  readonly #layer: TransactionLayer;
  readonly #sessions = new Map<string, SipSession>();
  readonly #incoming = new Map<InviteServerTransaction, IncomingCall>();
  readonly #outgoing = new Set<OutgoingCall>();
  readonly #registrations = new Map<string, { callId: string; tag: string; seq: number }>();
  /** Early dialogs (`callId|localTag`) whose reliable provisionals await a PRACK (RFC 3262). */
  readonly #prackHandlers = new Map<string, (request: SipRequest, tx: ServerTransaction) => void>();
  readonly #core: UaCore;
  /** The host our messages are built with (the external one); `#advertiseTo` swaps it per peer as they leave. */
  #host = '127.0.0.1';
  #advertised: AdvertisedHost | undefined;
  #state: 'new' | 'started' | 'closing' | 'closed' = 'new';
  /** Set by `drain()`: OPTIONS probes are answered 503 while calls in progress go on. */
  #draining = false;
  #closing: Promise<void> | undefined;

  constructor(options: SipUserAgentOptions = {}) {
    super();
    this.#options = options;
    this.#log = options.logger ?? silentLogger;
    this.#layer = new TransactionLayer({ timers: options.timers, logger: this.#log });
    this.bans = options.bans ?? new SourceBans({ logger: this.#log });
    const listen = options.listen ?? (options.transports ? [] : [{ protocol: 'udp' as const }]);
    this.transports = [...listen.map((l) => this.#makeTransport(l)), ...(options.transports ?? [])];
    this.#core = this.#makeCore();
  }

  #makeTransport(listen: ListenOptions): SipTransport {
    const base = { host: listen.host, port: listen.port, limits: this.#options.limits, logger: this.#log };
    if (listen.protocol === 'udp') return new UdpTransport(base);
    const stream = { ...base, idleTimeoutMs: this.#options.tcpIdleTimeoutMs, ...this.#options.streamLimits };
    if (listen.protocol === 'tcp') return new TcpTransport(stream);
    if (!this.#options.tls) throw new Error('a TLS listener needs a certificate and key (options.tls)');
    return new TlsTransport({ ...stream, ...this.#options.tls });
  }

  /** Binds every transport. */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error('SipUserAgent already started');
    this.#state = 'started';
    for (const transport of this.transports) {
      transport.on('message', (message, context) => this.#onMessage(message, context));
      transport.on('invalid', (error, context) => this.#onInvalid(error, context));
      transport.on('error', (error) => this.emit('error', error));
      await transport.listen();
    }
    this.#advertised = this.#options.advertisedHost ?? new AdvertisedHost({ bind: this.transports[0]?.local.address ?? '127.0.0.1' });
    this.#host = this.#options.publicHost ?? sipHost(this.#advertised.external);
  }

  /** The host (IPv6 in brackets) we give `peer`, an IP address or host name: see `AdvertisedHost`. */
  advertisedHostFor(peer: string): string {
    if (this.#options.publicHost !== undefined || !this.#advertised) return this.#host;
    return sipHost(this.#advertised.forPeer(peer));
  }

  /** The media address (an IP, no brackets) for the SDP `peer` gets: the same choice as `advertisedHostFor`. */
  advertisedMediaAddressFor(peer: string): string {
    if (this.#options.publicHost !== undefined || !this.#advertised) return this.#host.replace(/^\[(.*)\]$/, '$1');
    return this.#advertised.mediaForPeer(peer);
  }

  /**
   * The media address for the next hop of a request to `target` (a SIP URI,
   * or the outbound proxy it is routed through): for the SDP of an outgoing
   * INVITE, which is written before the request exists.
   */
  advertisedMediaAddressForTarget(target: string, proxy?: string): string {
    const hop = parseUri(stripBrackets(proxy ?? target));
    return this.advertisedMediaAddressFor(isSipUri(hop) ? (hop.params.get('maddr') ?? hop.host) : '');
  }

  /**
   * Whether SDES keys may go in the SDP of an INVITE to `target` (through
   * `proxy`): its first hop is TLS, or the operator allowed plain transports
   * (`sdesOverInsecureTransport`). RFC 4568 §8.3: the keys are only as secret
   * as the signalling that carries them.
   */
  keysMayTravelTo(target: string, proxy?: string): boolean {
    const hop = parseUri(stripBrackets(proxy ? ensureLr(proxy) : target));
    return this.#core.keysMayTravelOver(isSipUri(hop) ? hopProtocol(hop) : 'udp');
  }

  /** Our Via/Contact host in `message`, swapped for the one `remote` must be given. */
  #advertiseTo(message: SipMessage, remote: NetAddress): void {
    advertiseHost(message, this.#host, this.advertisedHostFor(remote.address));
  }

  /** The host:port in our Via/Contact for a protocol. */
  localAddress(protocol: TransportProtocol = 'udp'): { host: string; port: number } {
    const transport = this.#transport(protocol);
    return { host: this.#host, port: transport.local.port };
  }

  /** Live sessions (answered calls) keyed by dialog. */
  get sessions(): ReadonlyMap<string, SipSession> {
    return this.#sessions;
  }

  /** Starts an outgoing call to `target` (a SIP URI). */
  invite(target: string, options: InviteOptions = {}): OutgoingCall {
    this.#assertStarted();
    const request = this.#newRequest('INVITE', target, { ...options, body: options.sdp, contentType: 'application/sdp' });
    const protocol = this.#core.channelFor(request).transport.protocol;
    request.headers.append('Contact', this.#core.contact(protocol));
    request.headers.append('Allow', ALLOW);
    // RFC 3262 / RFC 4028: the far end may send reliable provisionals and run a session timer with us.
    request.headers.append('Supported', SUPPORTED_EXTENSIONS.join(', '));
    const call = new OutgoingCall(this.#core, { invite: request, sdp: options.sdp, auth: options.auth, signal: options.signal, protocol });
    this.#outgoing.add(call);
    const forget = (): void => {
      this.#outgoing.delete(call);
    };
    call.once('answered', forget).once('failed', forget);
    call.start();
    return call;
  }

  /** Sends an out-of-dialog request (OPTIONS ping, MESSAGE...) and resolves with its final response. */
  request(method: string, target: string, options: RequestOptions = {}): Promise<SipResponse> {
    this.#assertStarted();
    const request = this.#newRequest(method, target, options);
    return new Promise((resolve) => {
      this.#core.send(request, { auth: options.auth, onResponse: (response) => response.status >= 200 && resolve(response) });
    });
  }

  /**
   * Registers `aor` at a registrar (trunk registration), answering a digest
   * challenge when `auth` is given. Refreshing is up to the caller (call
   * again before `expires` runs out). Rejects with `SipRequestError`.
   */
  async register(options: RegisterOptions): Promise<{ expires: number; response: SipResponse }> {
    this.#assertStarted();
    // §10.2.4: refreshes keep the Call-ID and raise the CSeq, per registrar and AOR.
    const key = `${options.registrar} ${options.aor}`;
    let state = this.#registrations.get(key);
    if (!state) {
      state = { callId: newCallId(this.#host), tag: newTag(), seq: 0 };
      this.#registrations.set(key, state);
    }
    const expires = options.expires ?? 3600;
    const request = this.#newRequest('REGISTER', options.registrar, { from: options.aor, to: options.aor });
    state.seq = Math.max(state.seq, 0) + 1;
    request.headers.set('Call-ID', state.callId);
    request.headers.set('From', `<${options.aor}>;tag=${state.tag}`);
    request.headers.set('CSeq', `${state.seq} REGISTER`);
    const protocol = this.#core.channelFor(request).transport.protocol;
    const contact = this.#core.contact(protocol, options.contactUser);
    request.headers.append('Contact', contact);
    request.headers.append('Expires', String(expires));
    const response = await new Promise<SipResponse>((resolve) => {
      this.#core.send(request, {
        auth: options.auth,
        onRetry: (sent) => {
          state.seq = sent.request.cseq.seq;
        },
        onResponse: (r) => r.status >= 200 && resolve(r),
      });
    });
    if (response.status >= 300) throw new SipRequestError(response.status, response.reason, response);
    if (expires === 0) this.#registrations.delete(key);
    // §10.2.4: the 200 lists every binding of the AOR; ours is the one with our Contact URI.
    const granted = response.contacts === '*' ? [] : response.contacts;
    const ours = serializeUri(parseNameAddr(contact, 'Contact').uri);
    const binding = granted.find((c) => serializeUri(c.uri) === ours) ?? granted.find((c) => c.params.has('expires'));
    const mine = binding?.params.get('expires');
    return { expires: mine != null ? Number(mine) : (response.expires ?? expires), response };
  }

  /**
   * Sends OPTIONS to `target` (RFC 3261 §11) and tells whether the peer
   * answered within `timeoutMs`: any final response, even 404 or 405, shows
   * it is there; silence or a transport error shows it is not.
   */
  probe(target: string, options: { timeoutMs: number; from?: string }): Promise<ProbeResult> {
    this.#assertStarted();
    const request = this.#newRequest('OPTIONS', target, { ...(options.from ? { from: options.from } : {}), headers: [['Accept', 'application/sdp']] });
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ answered: false, why: 'timeout' }), options.timeoutMs);
      timer.unref();
      const settle = (result: ProbeResult): void => {
        clearTimeout(timer);
        resolve(result);
      };
      this.#core.send(request, {
        onResponse: (response) => response.status >= 200 && settle({ answered: true, status: response.status }),
        onNoResponse: (why) => settle({ answered: false, why }),
      });
    });
  }

  /**
   * The node is draining (SIGTERM or a drain request, SPEC §16): from now on
   * OPTIONS are answered 503 so a load balancer probing this node takes it out
   * of rotation; dialogs in progress (BYE, re-INVITE) are served as before.
   * New INVITEs are refused by the call engine (503 with Retry-After).
   */
  drain(): void {
    this.#draining = true;
  }

  /** Ends every call and closes the transports. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#state = 'closing';
    for (const call of this.#outgoing) call.cancel();
    for (const call of this.#incoming.values()) if (call.state === 'ringing') call.reject(503);
    const byes = [...this.#sessions.values()].map((s) => s.close());
    const timeout = this.#options.closeTimeoutMs ?? 2000;
    const waitFor = [...byes, ...[...this.#outgoing].map((call) => call.wait())];
    await Promise.race([Promise.allSettled(waitFor), new Promise((r) => setTimeout(r, timeout).unref())]);
    // Whatever did not finish in time ends now, so every owner sees a final event.
    for (const call of [...this.#outgoing]) call.dispose();
    for (const session of [...this.#sessions.values()]) session.dispose();
    this.#layer.close();
    this.#sessions.clear();
    this.#incoming.clear();
    await Promise.allSettled(this.transports.map((t) => t.close()));
    this.#state = 'closed';
  }

  #assertStarted(): void {
    if (this.#state !== 'started') throw new Error(`SipUserAgent is ${this.#state}`);
  }

  #transport(protocol: TransportProtocol): SipTransport {
    // A request that must be secure (sips:, transport=tls) never falls back to a plain transport (RFC 3261 §26.2.2).
    // A WebSocket peer is reached only over its own connection (RFC 7118 §5), never over UDP instead.
    const transport = this.transports.find((t) => t.protocol === protocol) ?? (protocol === 'tls' || isWebSocketProtocol(protocol) ? undefined : this.transports[0]);
    if (!transport) throw new Error(protocol === 'tls' ? 'no TLS transport (SIP over TLS needs a certificate and key)' : isWebSocketProtocol(protocol) ? 'no WebSocket transport' : 'no transport');
    return transport;
  }

  /** The WebSocket transport there is for `ws`/`wss` (one listener serves both when a TLS proxy is in front). */
  #webSocketProtocol(wanted: 'ws' | 'wss'): TransportProtocol {
    return this.transports.some((t) => t.protocol === wanted) ? wanted : wanted === 'ws' ? 'wss' : 'ws';
  }

  #newRequest(method: string, target: string, options: RequestOptions): SipRequest {
    const uri = parseUri(stripBrackets(target));
    const headers = new SipHeaders();
    headers.append('Via', 'SIP/2.0/UDP placeholder;branch=z9hG4bKplaceholder');
    if (options.proxy) headers.append('Route', `<${ensureLr(options.proxy)}>`);
    headers.append('Max-Forwards', '70');
    const from = parseNameAddr(options.from ?? `sip:${this.#options.contactUser ?? 'sautikit'}@${this.#host}`, 'From');
    from.params.set('tag', newTag());
    headers.append('From', serializeNameAddr(from));
    headers.append('To', serializeNameAddr(parseNameAddr(options.to ?? target, 'To')));
    headers.append('Call-ID', newCallId(this.#host));
    headers.append('CSeq', `1 ${method}`);
    headers.append('User-Agent', this.#options.userAgent ?? 'Sautikit');
    for (const [name, value] of options.headers ?? []) headers.append(name, value);
    if (options.body) headers.append('Content-Type', options.contentType ?? 'application/sdp');
    const request = new SipRequest({ method, uri, headers, body: options.body });
    const protocol = this.#core.channelFor(request).transport.protocol;
    const via = this.#core.via(protocol);
    request.headers.set('Via', `SIP/2.0/${via.protocol} ${via.host}:${via.port};branch=${newBranch()};rport`);
    return request;
  }

  #makeCore(): UaCore {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the getter below needs the instance, not the literal
    const ua = this;
    const core: UaCore = {
      get timers() {
        return ua.#layer.timers;
      },
      log: this.#log,
      userAgent: this.#options.userAgent ?? 'Sautikit',
      mediaAddressFor: (peer) => ua.advertisedMediaAddressFor(peer),
      keysMayTravelOver: (protocol) => protocol === 'tls' || ua.#options.sdesOverInsecureTransport === true,
      via: (protocol) => ({ protocol: protocol.toUpperCase(), host: ua.#host, port: ua.#transport(protocol).local.port }),
      contact: (protocol, user, secure) => {
        const transport = ua.#transport(protocol);
        const name = user ?? ua.#options.contactUser ?? 'sautikit';
        // RFC 3261 §8.1.1.8, §12.1.1: a dialog begun with a SIPS URI has a SIPS Contact (which implies TLS, no transport parameter).
        if (secure && transport.protocol === 'tls') return `<sips:${name}@${ua.#host}:${transport.local.port}>`;
        return `<sip:${name}@${ua.#host}:${transport.local.port}${transport.protocol === 'udp' ? '' : `;transport=${transport.protocol}`}>`;
      },
      channelFor: (request, preferred) => {
        const first = request.routes[0];
        const next = first && isSipUri(first.uri) && first.uri.params.has('lr') ? first.uri : request.uri;
        if (!isSipUri(next)) throw new Error(`cannot route to ${serializeUri(next)}`);
        const host = (next.params.get('maddr') ?? next.host).replace(/^\[(.*)\]$/, '$1');
        const port = next.port ?? (next.scheme === 'sips' ? 5061 : 5060);
        const protocol = hopProtocol(next, preferred);
        // RFC 7118 §5: `transport=ws`/`wss` (a browser's binding) goes over its WebSocket; with TLS behind a proxy, either may serve.
        return { transport: ua.#transport(protocol === 'ws' || protocol === 'wss' ? ua.#webSocketProtocol(protocol) : protocol), remote: { address: host, port } };
      },
      send: (request, options) => ua.#send(request, options),
      sendStateless: (request, channel) => {
        ua.#advertiseTo(request, channel.remote);
        channel.transport.send(serializeMessage(request), channel.remote).catch((error: unknown) => ua.#log.debug({ err: error }, 'stateless send failed'));
      },
      respond: (tx, response) => {
        if (tx.state === 'terminated') return;
        ua.#advertiseTo(response, tx.channel.remote);
        tx.respond(response);
      },
      minSessionExpires: this.#options.minSessionExpires ?? RFC_MIN_SE,
      expectPrack: (key, handler) => ua.#prackHandlers.set(key, handler),
      forgetPrack: (key) => ua.#prackHandlers.delete(key),
      addSession: (session) => ua.#sessions.set(session.dialog.key, session),
      removeSession: (session) => {
        if (ua.#sessions.get(session.dialog.key) === session) ua.#sessions.delete(session.dialog.key);
      },
    };
    return core;
  }

  #send(request: SipRequest, options: SendOptions, attempts = 0): SentRequest {
    const channel = options.channel ?? this.#core.channelFor(request, options.preferredProtocol);
    this.#advertiseTo(request, channel.remote);
    const transaction = this.#layer.sendRequest(request, channel);
    const sent: SentRequest = { request, transaction, channel };
    transaction.on('response', (response) => {
      // One retry with credentials; one more only when the server says our nonce was merely stale (RFC 2617 §3.2.1).
      if ((response.status === 401 || response.status === 407) && options.auth && (attempts === 0 || (attempts === 1 && isStaleChallenge(response)))) {
        const retry = withCredentials(request, response, options.auth);
        if (retry) {
          const next = this.#send(retry, { ...options, channel }, attempts + 1);
          options.onRetry?.(next);
          return;
        }
      }
      options.onResponse(response, sent);
    });
    const onNoResponse = options.onNoResponse;
    if (onNoResponse) {
      transaction.on('timeout', () => onNoResponse('timeout'));
      transaction.on('transportError', () => onNoResponse('transport-error'));
      return sent;
    }
    transaction.on('timeout', () => options.onResponse(createResponse(request, 408), sent));
    transaction.on('transportError', () => options.onResponse(createResponse(request, 503, { reason: 'Service Unavailable (transport error)' }), sent));
    return sent;
  }

  // ---- inbound ----

  #onInvalid(error: SipParseError, context: InboundContext): void {
    // Responses that fail to parse are dropped silently (RFC 4475 §3.1.2.5, §3.1.2.19).
    const partial = error.partial;
    if (!partial?.isRequest || this.#state !== 'started') return;
    const method = partial.method;
    // §8.2.1 comes first: an unknown method gets 501 even when other parts are broken too (RFC 4475 §3.1.2.18).
    const useNotImplemented = method !== undefined && !isImplemented(method) && error.code !== 'bad-start-line' && error.code !== 'bad-version';
    const status = useNotImplemented ? 501 : error.status;
    const response = createErrorResponse(error, status, useNotImplemented ? [['Allow', allowHeader(!!this.#options.registrar)]] : []);
    if (!response) return;
    context.transport.send(serializeMessage(response), context.remote).catch(() => undefined);
  }

  #onMessage(message: SipMessage, context: InboundContext): void {
    // While closing, answers to our BYEs and CANCELs still have to get through.
    if (this.#state !== 'started' && this.#state !== 'closing') return;
    try {
      if (message.kind === 'request' && this.bans.isBanned(context.remote.address)) this.#refuseBanned(message, context);
      else if (message.kind === 'request') this.#onRequest(message, context);
      else this.#onResponse(message);
    } catch (error) {
      this.#log.error({ err: error }, 'SIP message handling failed');
    }
  }

  /**
   * SPEC §13: a banned source gets 403 on every request, statelessly, so that nothing is kept for it
   * (no transaction, no registrar lookup). Its ACKs need no answer.
   */
  #refuseBanned(request: SipRequest, context: InboundContext): void {
    if (request.method === 'ACK') return;
    const response = createResponse(request, 403, { toTag: request.toTag ?? newTag(), reason: 'Forbidden (source banned)' });
    context.transport.send(serializeMessage(response), context.remote).catch(() => undefined);
  }

  #onResponse(response: SipResponse): void {
    const tx = this.#layer.matchClient(response);
    if (tx) {
      tx.receiveResponse(response);
      return;
    }
    // §13.2.2.4: a 2xx retransmission after the transaction ended is re-ACKed by the dialog.
    if (response.status >= 200 && response.status < 300 && response.cseq.method === 'INVITE') {
      const session = this.#sessions.get(dialogKey({ callId: response.callId, localTag: response.fromTag ?? '', remoteTag: response.toTag ?? '' }));
      session?.receive2xxRetransmission(response);
    }
    // Anything else (stray responses, RFC 4475 §3.3.10) is dropped.
  }

  #onRequest(request: SipRequest, context: InboundContext): void {
    stampVia(request, context.remote);
    const channel: Channel = { transport: context.transport, remote: context.remote };
    if (request.method === 'ACK') {
      // The ACK of a 300-699 belongs to the INVITE transaction (§17.2.1); the ACK of a 2xx to the
      // dialog (§13.3.1.4) — even when an old or sloppy peer reuses the INVITE's branch for it.
      const tx = this.#layer.matchServer(request);
      if (tx && (tx.state === 'completed' || tx.state === 'confirmed')) {
        tx.receiveRequest(request);
        return;
      }
      this.#sessionFor(request)?.receiveAck(request);
      return;
    }
    const existing = this.#layer.matchServer(request);
    if (existing) {
      existing.receiveRequest(request);
      return;
    }
    const tx = this.#layer.createServer(request, channel);
    if (request.method === 'CANCEL') {
      const target = this.#layer.matchCancelTarget(request);
      const call = target && this.#incoming.get(target);
      // §9.2: 200 to the CANCEL when it matches an INVITE transaction, 481 otherwise.
      tx.respond(createResponse(request, target ? 200 : 481, { toTag: newTag() }));
      call?.receiveCancel(request.headers.get('Reason'));
      return;
    }
    // §17.2.1: answer an INVITE with 100 Trying at once so the client stops retransmitting.
    if (request.method === 'INVITE') tx.respond(createResponse(request, 100));
    const failure = checkRequest(request, { registrar: !!this.#options.registrar });
    if (failure) {
      if (failure.status >= 300 && !failure.toTag) failure.headers.set('To', `${failure.headers.get('To')};tag=${newTag()}`);
      tx.respond(failure);
      return;
    }
    const prack = request.method === 'PRACK' ? this.#prackHandlers.get(`${request.callId}|${request.toTag ?? ''}`) : undefined;
    if (prack) {
      prack(request, tx);
      return;
    }
    if (request.toTag !== undefined) {
      const session = this.#sessionFor(request);
      if (!session) tx.respond(createResponse(request, 481));
      else session.receiveRequest(request, tx);
      return;
    }
    if (this.#state === 'closing') {
      tx.respond(createResponse(request, 503, { toTag: newTag(), reason: 'Service Unavailable (shutting down)' }));
      return;
    }
    switch (request.method) {
      case 'INVITE':
        void this.#onInvite(request, tx as InviteServerTransaction, context);
        return;
      case 'OPTIONS':
        // A draining node (SPEC §16) tells a load balancer's probe it is unavailable, so the balancer (Kamailio's
        // dispatcher) sends new calls elsewhere; RFC 3261 §21.5.4: 503, Retry-After for when to try again.
        if (this.#draining) {
          tx.respond(createResponse(request, 503, { toTag: newTag(), reason: 'Service Unavailable (draining)', headers: [['Retry-After', '30']] }));
          return;
        }
        tx.respond(createResponse(request, 200, { toTag: newTag(), headers: [['Allow', allowHeader(!!this.#options.registrar)], ['Accept', 'application/sdp'], ['Supported', SUPPORTED_EXTENSIONS.join(', ')], ['Server', this.#core.userAgent]] }));
        return;
      case 'REGISTER':
        void this.#onRegister(request, tx, context);
        return;
      default:
        // BYE / INFO outside a dialog.
        tx.respond(createResponse(request, 481, { toTag: newTag() }));
    }
  }

  #sessionFor(request: SipRequest): SipSession | undefined {
    return this.#sessions.get(dialogKey({ callId: request.callId, localTag: request.toTag ?? '', remoteTag: request.fromTag ?? '' }));
  }

  async #onInvite(request: SipRequest, tx: InviteServerTransaction, context: InboundContext): Promise<void> {
    if (request.body.length > 0) {
      try {
        parseSdp(request.bodyText);
      } catch {
        tx.respond(createResponse(request, 488, { toTag: newTag(), reason: 'Not Acceptable Here (malformed SDP)' }));
        return;
      }
    }
    // RFC 4028 §8.1: a Session-Expires below our Min-SE is refused with 422 naming it.
    const timer = negotiateAsUas(request, this.#core.minSessionExpires);
    if (timer && 'tooSmall' in timer) {
      tx.respond(createResponse(request, 422, { toTag: newTag(), headers: [['Min-SE', String(timer.tooSmall)]] }));
      return;
    }
    let user: string | undefined;
    const auth = this.#options.inviteAuth;
    if (auth) {
      try {
        const verdict = await auth.digest.verify(request, auth.credentials, auth.proxy ? 'Proxy-Authorization' : 'Authorization');
        if (!verdict.ok) {
          // A request that merely had no credentials yet is no failure; a wrong answer is (SPEC §13).
          if (verdict.reason !== 'missing' && !verdict.stale) this.bans.failed(context.remote.address);
          const header = auth.proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate';
          tx.respond(createResponse(request, auth.proxy ? 407 : 401, { toTag: newTag(), headers: auth.digest.challenge(verdict.stale).map((v) => [header, v] as const) }));
          return;
        }
        user = verdict.username;
      } catch (error) {
        this.#log.error({ err: error }, 'INVITE credential lookup failed');
        if (tx.state === 'proceeding') tx.respond(createResponse(request, 500, { toTag: newTag() }));
        return;
      }
    }
    if (tx.state !== 'proceeding') return;
    const call = new IncomingCall(this.#core, tx, context.remote, user);
    // Only a ringing call needs finding (CANCEL, close). Once it is answered, rejected or cancelled
    // it is forgotten, so that the transaction, which lives on for Timer L (64*T1 = 32 s), does not
    // keep the call and everything listening to it (the engine's leg, its media) alive that long.
    this.#incoming.set(tx, call);
    let ringTimeout: NodeJS.Timeout | undefined;
    const forget = (): void => {
      this.#incoming.delete(tx);
      clearTimeout(ringTimeout);
      ringTimeout = undefined;
    };
    call.once('settled', forget);
    tx.once('terminated', forget);
    if (this.listenerCount('invite') === 0) {
      call.reject(480, 'Temporarily Unavailable (no handler)');
      return;
    }
    ringTimeout = this.#ringTimeout(call);
    this.emit('invite', call);
  }

  /**
   * A call nobody answers or rejects must not ring (and hold memory) forever. Armed here, not in
   * `#onInvite`, so the timer's closure does not share a scope with the transaction's listener.
   */
  #ringTimeout(call: IncomingCall): NodeJS.Timeout {
    const timer = setTimeout(() => call.state === 'ringing' && call.reject(480, 'Temporarily Unavailable (no answer)'), this.#options.ringTimeoutMs ?? 180_000);
    timer.unref();
    return timer;
  }

  async #onRegister(request: SipRequest, tx: ServerTransaction, context: InboundContext): Promise<void> {
    const registrar = this.#options.registrar!;
    let response: SipResponse;
    try {
      response = await registrar.handle(request, context.remote, context.transport.protocol);
    } catch (error) {
      this.#log.error({ err: error }, 'registrar failed');
      response = createResponse(request, 500);
    }
    if (response.toTag === undefined) response.headers.set('To', `${response.headers.get('To')};tag=${newTag()}`);
    if (tx.state !== 'terminated') tx.respond(response);
  }
}

/** An address as a SIP host: IPv6 in brackets (RFC 3261 §25.1 IPv6reference). */
function sipHost(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}

function stripBrackets(target: string): string {
  return target.startsWith('<') ? target.slice(1, -1) : target;
}

/** The transport of a hop's URI: RFC 3261 §26.2.2, a SIPS URI is reached over TLS whatever else it says; then `transport=`. */
function hopProtocol(uri: SipUri, preferred?: TransportProtocol): TransportProtocol {
  const param = uri.params.get('transport')?.toLowerCase();
  if (param === 'ws' || param === 'wss') return param;
  return uri.scheme === 'sips' || param === 'tls' ? 'tls' : param === 'tcp' ? 'tcp' : param === 'udp' ? 'udp' : (preferred ?? 'udp');
}
