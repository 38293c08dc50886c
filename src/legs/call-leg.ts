import type { Logger } from '../shared/log.js';
import type { HangupCause } from '../shared/call-codes.js';
import { TypedEmitter } from '../shared/typed-emitter.js';
import type { CallMedia } from '../media/call-media.js';
import type { KeyEvents } from '../media/dtmf/digits.js';
import type { IncomingCall } from '../sip/ua/incoming-call.js';
import type { CallFailure, OutgoingCall } from '../sip/ua/outgoing-call.js';
import type { SessionEnd, SipSession } from '../sip/ua/sip-session.js';
import type { ReferRequest } from '../sip/ua/refer-request.js';
import type { DigestCredentials } from '../sip/ua/digest.js';
import type { InviteOptions, SipUserAgent } from '../sip/ua/sip-user-agent.js';
import type { AudioMediaDescription } from '../media/codecs/negotiate.js';
import type { MediaDirection } from '../sip/message/sdp.js';
import { generateMasterKey, type SrtpKeys } from '../media/rtp/srtp-keys.js';
import { cryptoAttribute } from '../media/rtp/sdes-crypto.js';
import type { RemoteMedia } from '../media/endpoint-types.js';
import { codecList, describeSdp, isHoldAddress, isWebRtcSdp, isWebSocketTarget, localDirectionFor, negotiateOffer, readAnswer, type SdpRefusal, type SdpSecurity, type SrtpTerms } from './sdp-glue.js';
import { WebRtcGateway, WebRtcPortsExhaustedError } from '../media/webrtc/webrtc-gateway.js';
import { sipStatusOfCause } from './sip-status-of-cause.js';
import { FailoverInvite } from './failover-invite.js';

/** How a leg ended, in the words of the call record. */
export interface LegEnd {
  /** Which side ended it: the far end (`remote`) or this platform (`local`). */
  by: 'remote' | 'local';
  /** Why the leg ended (docs/calls.md). */
  cause: HangupCause;
  sipStatus?: number;
  /** Why the SDP answer could not be used (late offer: the ACK's), recorded on the call as `sdp_not_acceptable`. */
  sdpProblem?: string;
  /** A header of the far end's BYE (`by: 'remote'`), e.g. a peer node's X-Sautikit-Leave on an internal conference leg. */
  byeHeader?: (name: string) => string | undefined;
}

export type CallLegEvents = {
  ringing: [];
  /** An outbound leg's 183 brought SDP: the far end's tones or announcement now reach this leg's media (early media). */
  earlyMedia: [];
  answered: [];
  ended: [end: LegEnd];
  /** `via`: how the digit came — in the media as RFC 4733 or as tones, or as SIP INFO. */
  dtmf: KeyEvents['dtmf'];
  /** The far end asks for a blind transfer (SIP REFER); whoever bridges the leg decides. */
  refer: [refer: ReferRequest];
};

/** What a failed outbound INVITE means for the call's status. */
export function causeOfFailure(failure: Pick<CallFailure, 'status' | 'cancelled'>): 'busy' | 'no_answer' | 'canceled' | 'failed' {
  if (failure.cancelled) return 'canceled';
  if (failure.status === 486 || failure.status === 600) return 'busy';
  if (failure.status === 408 || failure.status === 480 || failure.status === 487) return 'no_answer';
  return 'failed';
}

/** Where an outbound leg's INVITE goes. */
export interface DialTarget {
  uri: string;
  /** More Request-URIs rung in parallel with `uri` (every device of a user); the first to answer wins. */
  forks?: readonly string[];
  from: string;
  to?: string;
  proxy?: string;
  auth?: DigestCredentials;
  headers?: Array<[string, string]>;
  /** Targets tried in turn when this one fails over (another trunk of the prefix, SPEC §13); no forks then. */
  alternates?: readonly DialTarget[];
  /** With `alternates`: the time this target has to answer anything before the next is tried. */
  answerTimeoutMs?: number;
  /** Names the target in logs (a trunk's name). Default the URI. */
  label?: string;
  /**
   * SRTP (SDES) on this leg (SPEC §13): a trunk's `off` (default), `optional` (keys offered in RTP/AVP,
   * used when answered) or `mandatory` (RTP/SAVP; a plain answer ends the leg); `with-tls`: mandatory on
   * branches whose signalling is TLS, off on the others (a user's registered devices).
   * Keys are only ever offered over TLS, unless the operator allowed plain transports.
   */
  srtp?: DialSrtp;
}

/** How a dialled leg uses SRTP; see `DialTarget.srtp`. */
export type DialSrtp = 'off' | 'optional' | 'mandatory' | 'with-tls';

/** The SDES state of a leg: our key, the tag and m= protocol our SDP carries, and the peer's key once known. */
interface LegSrtp {
  local: string;
  tag: number;
  protocol: SdpSecurity['protocol'];
  remote?: string;
}

/** The 488 of an SDP we cannot meet: RFC 3261 §21.4.26, with a Warning (§20.43, 399 miscellaneous) saying why. */
function rejectionHeaders(refusal: SdpRefusal): Array<[string, string]> {
  return [['Warning', `399 sautikit "${(refusal.detail ?? refusal.problem).replace(/["\\]/g, "'")}"`]];
}

/** RFC 3326 Reason of the CANCEL sent to the devices that lost the race. */
const ANSWERED_ELSEWHERE = 'SIP;cause=200;text="Call completed elsewhere"';

/** Where a leg's media comes from: a `MediaBackend` (the engine), or a `MediaEngine` (the sandbox's phones). */
export interface LegMediaSource<M extends CallMedia> {
  createEndpoint(options: { logger?: Logger; near?: CallMedia }): Promise<M>;
  /** The UDP ports browser legs' WebRTC gateways take (`--webrtc-ports`). Default: the system's ephemeral range. */
  readonly webrtcPorts?: { min: number; max: number } | undefined;
}

/** Why an INVITE was refused (and with which call error it is recorded: `sdp_not_acceptable` unless `cause` says otherwise). */
export interface LegProblem {
  problem: string;
  cause?: 'webrtc_ports_exhausted';
}

/** A gateway's port range as werift takes it. */
function icePortRange(ports: { min: number; max: number } | undefined): [number, number] | undefined {
  return ports ? [ports.min, ports.max] : undefined;
}

/**
 * One call leg: its SIP side (an incoming or outgoing INVITE, then a
 * session) and its media endpoint, with the few verbs the engine needs.
 * `hangup()` is idempotent and releases everything; `ended` fires once.
 */
export class CallLeg<M extends CallMedia = CallMedia> extends TypedEmitter<CallLegEvents> {
  readonly media: M;
  readonly #log: Logger;
  #incoming: IncomingCall | undefined;
  #answerSdp: string | undefined;
  /** The INVITE had no offer (RFC 3261 §13.2.1 late offer): our 200 carries the offer and the ACK the answer. */
  #lateOffer = false;
  #earlyMedia = false;
  /** The INVITE branches of an outbound leg (several when a user's devices all ring; one trunk after another on failover). */
  #outgoing: Array<OutgoingCall | FailoverInvite> = [];
  #session: SipSession | undefined;
  #ended: LegEnd | undefined;
  /** Our address as this leg's peer must see it (SPEC §13): the `o=`/`c=` of every SDP we send it. */
  #sdpAddress = '';
  /** `o=` of our SDP: one session id, a version bumped with every new description (RFC 3264 §8). */
  readonly #sdpOrigin = { id: Date.now(), version: 0 };
  /** Our side's media direction; anything but sendrecv is a hold (RFC 3264 §8.4). */
  #direction: MediaDirection = 'sendrecv';
  /** SDES keys of this leg (SPEC §13); undefined for plain RTP. */
  #srtp: LegSrtp | undefined;
  /** What this dialog's signalling allows for SDES keys: re-INVITEs are held to it. */
  #srtpTerms: SrtpTerms = { keysMayTravel: false };
  /** A browser's leg: WebRTC (ICE, DTLS-SRTP, Opus) terminated here, plain RTP to `media` (SPEC §15). */
  #webrtc: WebRtcGateway | undefined;

  private constructor(media: M, log: Logger) {
    super();
    this.media = media;
    this.#log = log;
    media.on('dtmf', (event) => this.emit('dtmf', event.digit, event.source));
    media.on('rtpTimeout', () => {
      if (this.#session) void this.#finish({ by: 'local', cause: 'media_timeout' });
    });
    // Media closes under a live leg only when its media worker died (a leg's own end closes it after \`#ended\` is set).
    media.on('closed', () => {
      if (!this.#ended) void this.hangup('media_failed');
    });
  }

  get answered(): boolean {
    return this.#session !== undefined;
  }

  get endInfo(): LegEnd | undefined {
    return this.#ended;
  }

  /**
   * Takes an INVITE; answers `{problem}` (and rejects it 488) when its SDP cannot be used. An INVITE
   * without SDP (late offer) is taken too: our answer will carry the offer, the ACK its answer.
   */
  static async fromIncoming<M extends CallMedia>(
    incoming: IncomingCall, mediaEngine: LegMediaSource<M>, log: Logger, options: { srtpRequired?: boolean } = {},
  ): Promise<CallLeg<M> | LegProblem> {
    const terms: SrtpTerms = { keysMayTravel: incoming.keysMayTravel, ...(options.srtpRequired ? { required: true } : {}) };
    const offer = incoming.sdp;
    if (!offer) {
      const media = await mediaEngine.createEndpoint({ logger: log });
      const leg = new CallLeg<M>(media, log);
      leg.#sdpAddress = incoming.advertisedMediaAddress;
      leg.#srtpTerms = terms;
      leg.#incoming = incoming;
      leg.#lateOffer = true;
      leg.#answerSdp = leg.#describe(media.localDescription().audio, 'sendrecv');
      incoming.on('cancelled', () => void leg.#finish({ by: 'remote', cause: 'canceled', sipStatus: 487 }));
      return leg;
    }
    if (isWebRtcSdp(offer)) return CallLeg.#fromBrowser(incoming, offer, mediaEngine, log);
    const negotiated = negotiateOffer(offer, codecList(), terms);
    if ('problem' in negotiated) {
      // SPEC §13: an offer we cannot meet (SDES we cannot do, keys over plain UDP) gets 488, never plain RTP.
      incoming.reject(488, 'Not Acceptable Here', rejectionHeaders(negotiated));
      return { problem: `SDP offer: ${negotiated.problem}${negotiated.detail ? ` (${negotiated.detail})` : ''}` };
    }
    const media = await mediaEngine.createEndpoint({ logger: log });
    const leg = new CallLeg<M>(media, log);
    leg.#sdpAddress = incoming.advertisedMediaAddress;
    leg.#srtpTerms = terms;
    if (negotiated.srtp) leg.#srtp = { local: generateMasterKey(), tag: negotiated.srtp.tag, protocol: negotiated.srtp.protocol, remote: negotiated.srtp.key };
    const direction = localDirectionFor(offer) ?? 'sendrecv';
    if (!isHoldAddress(negotiated.remote.address)) leg.#setRemote(negotiated.remote);
    leg.#setDirection(direction);
    leg.#incoming = incoming;
    leg.#answerSdp = leg.#describe(negotiated.answer, direction);
    incoming.on('cancelled', () => void leg.#finish({ by: 'remote', cause: 'canceled', sipStatus: 487 }));
    return leg;
  }

  /** A browser's INVITE (WebRTC offer): the gateway answers it, the endpoint gets its audio as plain RTP. */
  static async #fromBrowser<M extends CallMedia>(incoming: IncomingCall, offer: string, mediaEngine: LegMediaSource<M>, log: Logger): Promise<CallLeg<M> | LegProblem> {
    const media = await mediaEngine.createEndpoint({ logger: log });
    const gateway = await WebRtcGateway.open({ advertisedAddress: incoming.advertisedMediaAddress, icePortRange: icePortRange(mediaEngine.webrtcPorts), logger: log });
    let answer: string;
    try {
      answer = await gateway.answer(offer);
    } catch (error) {
      await gateway.close();
      await media.close();
      if (error instanceof WebRtcPortsExhaustedError) {
        log.warn({ err: error }, 'no port for a browser call\'s WebRTC media');
        incoming.reject(503, 'Service Unavailable');
        return { problem: error.message, cause: 'webrtc_ports_exhausted' };
      }
      log.info({ err: error }, 'unusable WebRTC offer');
      incoming.reject(488, 'Not Acceptable Here');
      return { problem: `SDP offer: ${error instanceof Error ? error.message : String(error)}` };
    }
    const leg = new CallLeg<M>(media, log);
    leg.#webrtc = gateway;
    leg.#sdpAddress = incoming.advertisedMediaAddress;
    leg.#bindGateway(gateway);
    leg.#incoming = incoming;
    leg.#answerSdp = answer;
    incoming.on('cancelled', () => void leg.#finish({ by: 'remote', cause: 'canceled', sipStatus: 487 }));
    return leg;
  }

  /** The endpoint and the gateway send each other plain RTP over loopback. */
  #bindGateway(gateway: WebRtcGateway): void {
    this.media.setRemote(gateway.relayRemote);
    gateway.connect(this.media.localDescription().port);
  }

  /**
   * Places an outbound INVITE; `answered` or `ended` tells how it went.
   * `forks`: more Request-URIs rung at the same time with the same offer (every
   * registered device of one user, RFC 3261 §16.7 style): the first to answer
   * is the leg, the others get CANCEL with `Reason: SIP;cause=200` (or BYE when
   * they answered too), and the leg fails only when every branch failed.
   */
  static async dial<M extends CallMedia>(ua: SipUserAgent, mediaEngine: LegMediaSource<M>, target: DialTarget, log: Logger, near?: CallMedia): Promise<CallLeg<M>> {
    // A target that requires SRTP where the keys would travel in clear is refused before anything is allocated.
    for (const t of [target, ...(target.alternates ?? [])]) {
      for (const uri of [t.uri, ...(t.forks ?? [])]) if (t.srtp === 'mandatory' && !ua.keysMayTravelTo(uri, t.proxy)) throw new SrtpRefusedError(t.label ?? uri);
    }
    // `near`: the leg this one will be bridged to, so a sharded backend keeps both on one worker.
    const media = await mediaEngine.createEndpoint({ logger: log, ...(near ? { near } : {}) });
    const leg = new CallLeg<M>(media, log);
    const offer = media.localDescription().audio;
    // Each INVITE gets the address its next hop must see (a device on a local network, a carrier outside the NAT),
    // and the SRTP its target asks for: one key of ours for every branch, since they share one media endpoint.
    const hosts = new Map<OutgoingCall | FailoverInvite, { host: string; srtp: LegSrtp | undefined }>();
    const localKey = generateMasterKey();
    let failover: FailoverInvite | undefined;
    // A browser's binding (RFC 7118) gets a WebRTC offer from one gateway; the first browser to answer keeps it.
    const allUris = [target.uri, ...(target.forks ?? [])];
    const webrtcOffer = allUris.some(isWebSocketTarget)
      ? await leg.#openGateway(ua.advertisedMediaAddressForTarget(allUris.find(isWebSocketTarget)!), mediaEngine.webrtcPorts, log)
      : undefined;
    const invite = (t: DialTarget, uri: string): OutgoingCall => {
      const host = ua.advertisedMediaAddressForTarget(uri, t.proxy);
      leg.#sdpAddress = host;
      // A browser gets the gateway's WebRTC offer (DTLS-SRTP, not SDES); a phone or carrier our RTP offer, with SDES as its target asks.
      const browser = webrtcOffer !== undefined && isWebSocketTarget(uri);
      const srtp = browser ? undefined : offeredSrtp(t.srtp ?? 'off', ua.keysMayTravelTo(uri, t.proxy), localKey);
      leg.#srtp = srtp;
      const call = ua.invite(uri, branchOptions(t, browser ? webrtcOffer : leg.#describe(offer, 'sendrecv')));
      // Failover tries one trunk at a time: the attempt started last is the one that can answer.
      hosts.set(failover ?? call, { host, srtp });
      return call;
    };
    if (target.alternates?.length) {
      failover = new FailoverInvite([target, ...target.alternates].map((t) => ({
        label: t.label ?? t.uri, start: () => invite(t, t.uri), ...(t.answerTimeoutMs !== undefined ? { answerTimeoutMs: t.answerTimeoutMs } : {}),
      })), (from, to, why) => log.info({ from, to, why }, 'outbound leg fails over to the next trunk'));
    }
    const branches: Array<OutgoingCall | FailoverInvite> = failover
      ? [failover.start()]
      : [target.uri, ...(target.forks ?? [])].map((uri) => invite(target, uri));
    leg.#outgoing = branches;
    const failures: CallFailure[] = [];
    for (const outgoing of branches) {
      outgoing.on('provisional', (p) => {
        if ((p.status === 180 || p.status === 183) && !leg.#session) leg.emit('ringing');
        if (p.sdp && !leg.#session && !leg.#ended && !leg.#earlyMedia) leg.#startEarlyMedia(p.sdp);
      });
      outgoing.on('failed', (failure) => {
        failures.push(failure);
        if (failures.length < branches.length || leg.#session) return;
        const busy = failures.find((f) => causeOfFailure(f) === 'busy');
        const chosen = busy ?? failures.find((f) => !f.cancelled && causeOfFailure(f) === 'no_answer') ?? failures[0]!;
        void leg.#finish({ by: 'remote', cause: causeOfFailure(chosen), sipStatus: chosen.status });
      });
      outgoing.on('answered', (session) => {
        // Another device answered first (or the leg ended meanwhile): this one is hung up again.
        if (leg.#session || leg.#ended) {
          void session.bye().catch(() => undefined);
          return;
        }
        for (const other of branches) if (other !== outgoing) other.cancel(ANSWERED_ELSEWHERE);
        const branch = hosts.get(outgoing);
        leg.#sdpAddress = branch?.host ?? leg.#sdpAddress;
        if (leg.#webrtc && session.remoteSdp && isWebRtcSdp(session.remoteSdp)) {
          leg.#attach(session);
          void leg.#acceptBrowserAnswer(leg.#webrtc, session.remoteSdp);
          return;
        }
        // A phone answered: a gateway opened for browsers ringing beside it is not needed.
        void leg.#webrtc?.close();
        leg.#webrtc = undefined;
        leg.#srtp = branch?.srtp && { ...branch.srtp };
        leg.#srtpTerms = { keysMayTravel: branch?.srtp !== undefined };
        const remote = session.remoteSdp ? leg.#readAnswer(session.remoteSdp) : { problem: 'unparsable' as const };
        leg.#attach(session);
        if ('problem' in remote) {
          log.warn({ problem: remote.problem, detail: remote.detail }, 'unusable SDP answer; hanging up');
          void leg.hangup('failed');
          return;
        }
        if (!isHoldAddress(remote.address)) leg.#setRemote(remote);
        leg.#setDirection(localDirectionFor(session.remoteSdp!) ?? 'sendrecv');
        leg.emit('answered');
      });
    }
    return leg;
  }

  /** No port left in the range: the gateway and the endpoint are released before the error reaches the dialer. */
  async #openGateway(advertisedAddress: string, ports: { min: number; max: number } | undefined, log: Logger): Promise<string> {
    const gateway = await WebRtcGateway.open({ advertisedAddress, icePortRange: icePortRange(ports), logger: log });
    this.#webrtc = gateway;
    try {
      return await gateway.offer();
    } catch (error) {
      this.#webrtc = undefined;
      await gateway.close();
      await this.media.close();
      throw error;
    }
  }

  async #acceptBrowserAnswer(gateway: WebRtcGateway, answer: string): Promise<void> {
    try {
      await gateway.accept(answer);
    } catch (error) {
      this.#log.warn({ err: error }, 'unusable WebRTC answer; hanging up');
      void this.hangup('failed');
      return;
    }
    this.#bindGateway(gateway);
    this.emit('answered');
  }

  /**
   * RFC 3960 early media (183 with SDP): the far end's media goes to this leg's endpoint before the answer.
   * Only the first early dialog is heard; the 2xx's SDP replaces it on answer.
   */
  #startEarlyMedia(sdp: string): void {
    if (this.#webrtc) return; // a browser's early media would need ICE before the answer; our ringback plays
    const remote = this.#readAnswer(sdp);
    if ('problem' in remote) {
      this.#log.info({ problem: remote.problem }, 'unusable early media SDP; keeping our ringback');
      return;
    }
    this.#earlyMedia = true;
    this.#setRemote(remote);
    this.emit('earlyMedia');
  }

  /** Whether the far end of this outbound leg sends early media (a 183 with SDP came). */
  get earlyMedia(): boolean {
    return this.#earlyMedia;
  }

  /** 180 Ringing to the caller (inbound legs). */
  ring(): void {
    this.#incoming?.ring();
  }

  /** Answers an inbound leg (200 OK with our SDP). */
  answer(): void {
    if (!this.#incoming || this.#session || this.#ended) return;
    const session = this.#incoming.answer(this.#answerSdp!);
    this.#attach(session);
    if (this.#lateOffer) session.once('established', () => this.#takeLateAnswer(session));
    this.emit('answered');
  }

  /** RFC 3261 §13.2.1: the ACK carries the answer to the offer in our 200; without a usable one the call cannot have media. */
  #takeLateAnswer(session: SipSession): void {
    const remote = session.remoteSdp ? readAnswer(session.remoteSdp, codecList()) : { problem: 'no SDP answer in the ACK' as const };
    if (!('problem' in remote)) {
      this.media.setRemote(remote);
      return;
    }
    const problem = remote.problem === 'no SDP answer in the ACK' ? remote.problem : `SDP answer in the ACK: ${remote.problem}`;
    this.#log.warn({ problem }, 'late offer: unusable answer in the ACK; hanging up');
    void session.bye().catch(() => undefined);
    void this.#finish({ by: 'local', cause: 'sdp_not_acceptable', sdpProblem: problem });
  }

  /** Refuses an unanswered inbound leg (486 for busy, 603 for rejected). */
  reject(reason: 'busy' | 'rejected'): void {
    if (!this.#incoming || this.#session || this.#ended) return;
    this.#incoming.reject(reason === 'busy' ? 486 : 603, reason === 'busy' ? 'Busy Here' : 'Decline');
    void this.#finish({ by: 'local', cause: reason === 'busy' ? 'busy' : 'rejected', sipStatus: reason === 'busy' ? 486 : 603 });
  }

  /** Ends the leg from our side whatever its state: BYE (with `byeHeaders`), CANCEL, or a final response. Idempotent. */
  async hangup(cause: HangupCause = 'normal_clearing', byeHeaders?: Iterable<readonly [string, string]>): Promise<void> {
    if (this.#ended) return;
    if (this.#session) {
      // The call ends when the BYE is sent, not when (or whether) it is answered: a carrier that never answers
      // must not keep it billed for the 32 s of the BYE transaction (SPEC §13). The transaction goes on in the dialog.
      void this.#session.bye(byeHeaders).catch((error: unknown) => this.#log.debug({ err: error }, 'BYE failed'));
    } else if (this.#outgoing.length > 0) {
      for (const outgoing of this.#outgoing) outgoing.cancel();
    } else if (this.#incoming) {
      // The caller's phone is told why (a softphone's direct call: 402, 403, 404, 486…); 480 for the rest.
      const { status, reason } = sipStatusOfCause(cause);
      this.#incoming.reject(status, reason);
    }
    await this.#finish({ by: 'local', cause });
  }

  #attach(session: SipSession): void {
    this.#session = session;
    // RFC 4028 §10: the refresher let the session lapse; the session sends the BYE, the call ends with it.
    session.once('expired', () => void this.#finish({ by: 'local', cause: 'session_expired' }));
    session.on('ended', (end: SessionEnd) => {
      if (end.by === 'remote') {
        const bye = end.request;
        void this.#finish({ by: 'remote', cause: 'normal_clearing', ...(bye ? { byeHeader: (name: string) => bye.headers.get(name) } : {}) });
      }
      else if (end.by === 'error') void this.#finish({ by: 'local', cause: end.reason === 'ack-timeout' ? 'no_ack' : 'failed' });
    });
    session.on('info', (info) => {
      if (info.dtmf) this.emit('dtmf', info.dtmf.signal, 'info');
    });
    session.on('refer', (refer) => {
      // Only a bridged leg has another party to transfer (the dialer listens then).
      if (this.listenerCount('refer') === 0) refer.reject(603, 'Decline (the call is not bridged to anyone)');
      else this.emit('refer', refer);
    });
    session.on('reinvite', (re) => {
      // A browser's re-INVITE (hold, ICE restart) keeps its running WebRTC session: we answer as before.
      if (this.#webrtc) return re.accept(this.#webrtc.currentAnswer ?? this.#answerSdp ?? '');
      // Hold/unhold and re-offers keep our RTP port; answer with the same codec. A hold (the offer
      // sendonly, inactive or c=0.0.0.0) is answered recvonly/inactive and stops our RTP to the peer
      // (RFC 3264 §8.4); sendrecv again resumes it. A late-offer re-INVITE gets our sendrecv offer.
      const negotiated = re.sdp ? negotiateOffer(re.sdp, codecList(), this.#srtpTerms) : undefined;
      if (negotiated && 'problem' in negotiated) return re.reject(488);
      // A re-offer may not switch between RTP and SRTP mid-call; it may bring a new key (RFC 4568 §7.1.4), we keep ours.
      if (negotiated && (negotiated.srtp === undefined) !== (this.#srtp === undefined)) return re.reject(488);
      if (negotiated?.srtp && this.#srtp) this.#srtp = { ...this.#srtp, tag: negotiated.srtp.tag, protocol: negotiated.srtp.protocol, remote: negotiated.srtp.key };
      const direction = re.sdp ? (localDirectionFor(re.sdp) ?? 'sendrecv') : 'sendrecv';
      if (negotiated && !isHoldAddress(negotiated.remote.address)) this.#setRemote(negotiated.remote);
      this.#setDirection(direction);
      re.accept(this.#describe(negotiated?.answer ?? this.media.localDescription().audio, direction));
    });
    // The SDP the dialog settled on (an ACK's answer to a late offer, too) decides the direction.
    session.on('updated', ({ remote }) => {
      const direction = remote === undefined ? undefined : localDirectionFor(remote);
      if (direction) this.#setDirection(direction);
    });
  }

  /** Our SDP for this leg's peer: its address, a new `o=` version, our SDES key when the leg is SRTP. */
  #describe(audio: AudioMediaDescription, direction: MediaDirection): string {
    const local = this.media.localDescription();
    this.#sdpOrigin.version += 1;
    const srtp = this.#srtp;
    const security: SdpSecurity = srtp ? { protocol: srtp.protocol, crypto: cryptoAttribute(srtp.tag, srtp.local) } : { protocol: 'RTP/AVP' };
    return describeSdp({ ...local, address: this.#sdpAddress || local.address }, audio, this.#sdpOrigin.id, direction, this.#sdpOrigin.version, security);
  }

  /** The peer's answer to our offer; with our SDES offer, its key (required when we offered RTP/SAVP). */
  #readAnswer(sdp: string): (RemoteMedia & { srtpKey?: string }) | SdpRefusal {
    const srtp = this.#srtp;
    const remote = readAnswer(sdp, codecList(), srtp ? { offeredTag: srtp.tag, required: srtp.protocol === 'RTP/SAVP' } : undefined);
    if (srtp && !('problem' in remote)) {
      // An optional offer answered without keys is plain RTP from now on (and in our later SDP).
      if (remote.srtpKey === undefined) this.#srtp = undefined;
      else srtp.remote = remote.srtpKey;
    }
    return remote;
  }

  /** The far end's media with this leg's SRTP keys (none for plain RTP). */
  #setRemote(remote: RemoteMedia): void {
    const srtp = this.#srtp;
    const keys: SrtpKeys | undefined = srtp?.remote !== undefined ? { suite: 'AES_CM_128_HMAC_SHA1_80', local: srtp.local, remote: srtp.remote } : undefined;
    const { address, port, payloadType, telephoneEvent, codec, rtcpPort } = remote;
    this.media.setRemote({
      address, port, payloadType, ...(telephoneEvent !== undefined ? { telephoneEvent } : {}), ...(codec ? { codec } : {}), ...(rtcpPort !== undefined ? { rtcpPort } : {}),
      ...(keys ? { srtp: keys } : {}),
    });
  }

  #setDirection(direction: MediaDirection): void {
    if (direction === this.#direction) return;
    this.#direction = direction;
    this.#log.info({ direction }, direction === 'sendrecv' ? 'leg off hold' : 'leg on hold');
    this.media.setDirection(direction);
  }

  async #finish(end: LegEnd): Promise<void> {
    if (this.#ended) return;
    this.#ended = end;
    void this.#webrtc?.close();
    if (end.by === 'local' && this.#session && end.cause === 'media_timeout') {
      // A far end that went silent rarely answers its BYE either: the leg ends when it is sent.
      void this.#session.bye().catch(() => undefined);
    }
    await this.media.close();
    this.emit('ended', end);
  }
}

function branchOptions(target: DialTarget, sdp: string): InviteOptions {
  return {
    sdp, from: target.from, ...(target.to ? { to: target.to } : {}),
    ...(target.proxy ? { proxy: target.proxy } : {}), ...(target.auth ? { auth: target.auth } : {}), ...(target.headers ? { headers: target.headers } : {}),
  };
}

/** A dial whose target requires SRTP when its signalling cannot carry the keys (not TLS, and not allowed). */
export class SrtpRefusedError extends Error {
  constructor(target: string) {
    super(`${target} requires SRTP, but SDES keys may only be sent over SIP over TLS (see --sdes-over-insecure-transport)`);
    this.name = 'SrtpRefusedError';
  }
}

/**
 * The SDES offer of one branch: RTP/SAVP for `mandatory` (and `with-tls` over TLS), keys in RTP/AVP for
 * `optional`, nothing for `off` or when keys may not travel (`dial` refused `mandatory` targets then).
 */
function offeredSrtp(mode: DialSrtp, keysMayTravel: boolean, local: string): LegSrtp | undefined {
  if (mode === 'off' || !keysMayTravel) return undefined;
  return { local, tag: 1, protocol: mode === 'optional' ? 'RTP/AVP' : 'RTP/SAVP' };
}
