import type { Logger } from '../shared/log.js';
import type { HangupCause } from '../shared/call-codes.js';
import { TypedEmitter } from '../shared/typed-emitter.js';
import type { CallMedia } from '../media/call-media.js';
import type { IncomingCall } from '../sip/ua/incoming-call.js';
import type { CallFailure, OutgoingCall } from '../sip/ua/outgoing-call.js';
import type { SessionEnd, SipSession } from '../sip/ua/sip-session.js';
import type { DigestCredentials } from '../sip/ua/digest.js';
import type { SipUserAgent } from '../sip/ua/sip-user-agent.js';
import { codecList, describeSdp, negotiateOffer, readAnswer } from './sdp-glue.js';
import { FailoverInvite } from './failover-invite.js';

/** How a leg ended, in the words of the call record. */
export interface LegEnd {
  /** Which side ended it: the far end (`remote`) or this platform (`local`). */
  by: 'remote' | 'local';
  /** Why the leg ended (docs/calls.md). */
  cause: HangupCause;
  sipStatus?: number;
}

export type CallLegEvents = {
  ringing: [];
  answered: [];
  ended: [end: LegEnd];
  dtmf: [digit: string];
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
}

/** RFC 3326 Reason of the CANCEL sent to the devices that lost the race. */
const ANSWERED_ELSEWHERE = 'SIP;cause=200;text="Call completed elsewhere"';

/** Where a leg's media comes from: a `MediaBackend` (the engine), or a `MediaEngine` (the sandbox's phones). */
export interface LegMediaSource<M extends CallMedia> {
  createEndpoint(options: { logger?: Logger; near?: CallMedia }): Promise<M>;
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
  /** The INVITE branches of an outbound leg (several when a user's devices all ring; one trunk after another on failover). */
  #outgoing: Array<OutgoingCall | FailoverInvite> = [];
  #session: SipSession | undefined;
  #ended: LegEnd | undefined;

  private constructor(media: M, log: Logger) {
    super();
    this.media = media;
    this.#log = log;
    media.on('dtmf', (event) => this.emit('dtmf', event.digit));
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

  /** Takes an INVITE; answers `{problem}` (and rejects it 488) when its SDP cannot be used. */
  static async fromIncoming<M extends CallMedia>(incoming: IncomingCall, mediaEngine: LegMediaSource<M>, log: Logger): Promise<CallLeg<M> | { problem: string }> {
    const offer = incoming.sdp;
    if (!offer) {
      incoming.reject(488, 'Not Acceptable Here (an SDP offer is required)');
      return { problem: 'no SDP offer in the INVITE' };
    }
    const negotiated = negotiateOffer(offer, codecList());
    if ('problem' in negotiated) {
      incoming.reject(488, 'Not Acceptable Here');
      return { problem: `SDP offer: ${negotiated.problem}` };
    }
    const media = await mediaEngine.createEndpoint({ logger: log });
    media.setRemote(negotiated.remote);
    const leg = new CallLeg<M>(media, log);
    leg.#incoming = incoming;
    leg.#answerSdp = describeSdp(media.localDescription(), negotiated.answer, Date.now());
    incoming.on('cancelled', () => void leg.#finish({ by: 'remote', cause: 'canceled', sipStatus: 487 }));
    return leg;
  }

  /**
   * Places an outbound INVITE; `answered` or `ended` tells how it went.
   * `forks`: more Request-URIs rung at the same time with the same offer (every
   * registered device of one user, RFC 3261 §16.7 style): the first to answer
   * is the leg, the others get CANCEL with `Reason: SIP;cause=200` (or BYE when
   * they answered too), and the leg fails only when every branch failed.
   */
  static async dial<M extends CallMedia>(ua: SipUserAgent, mediaEngine: LegMediaSource<M>, target: DialTarget, log: Logger, near?: CallMedia): Promise<CallLeg<M>> {
    // `near`: the leg this one will be bridged to, so a sharded backend keeps both on one worker.
    const media = await mediaEngine.createEndpoint({ logger: log, ...(near ? { near } : {}) });
    const leg = new CallLeg<M>(media, log);
    const local = media.localDescription();
    const sdp = describeSdp(local, local.audio, Date.now());
    const invite = (t: DialTarget, uri: string): OutgoingCall => ua.invite(uri, {
      sdp, from: t.from, ...(t.to ? { to: t.to } : {}),
      ...(t.proxy ? { proxy: t.proxy } : {}), ...(t.auth ? { auth: t.auth } : {}), ...(t.headers ? { headers: t.headers } : {}),
    });
    const branches: Array<OutgoingCall | FailoverInvite> = target.alternates?.length
      ? [new FailoverInvite([target, ...target.alternates].map((t) => ({
        label: t.label ?? t.uri, start: () => invite(t, t.uri), ...(t.answerTimeoutMs !== undefined ? { answerTimeoutMs: t.answerTimeoutMs } : {}),
      })), (from, to, why) => log.info({ from, to, why }, 'outbound leg fails over to the next trunk')).start()]
      : [target.uri, ...(target.forks ?? [])].map((uri) => invite(target, uri));
    leg.#outgoing = branches;
    const failures: CallFailure[] = [];
    for (const outgoing of branches) {
      outgoing.on('provisional', (p) => {
        if ((p.status === 180 || p.status === 183) && !leg.#session) leg.emit('ringing');
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
        const remote = session.remoteSdp ? readAnswer(session.remoteSdp, codecList()) : { problem: 'unparsable' as const };
        leg.#attach(session);
        if ('problem' in remote) {
          log.warn({ problem: remote.problem }, 'unusable SDP answer; hanging up');
          void leg.hangup('failed');
          return;
        }
        media.setRemote(remote);
        leg.emit('answered');
      });
    }
    return leg;
  }

  /** 180 Ringing to the caller (inbound legs). */
  ring(): void {
    this.#incoming?.ring();
  }

  /** Answers an inbound leg (200 OK with our SDP). */
  answer(): void {
    if (!this.#incoming || this.#session || this.#ended) return;
    this.#attach(this.#incoming.answer(this.#answerSdp!));
    this.emit('answered');
  }

  /** Refuses an unanswered inbound leg (486 for busy, 603 for rejected). */
  reject(reason: 'busy' | 'rejected'): void {
    if (!this.#incoming || this.#session || this.#ended) return;
    this.#incoming.reject(reason === 'busy' ? 486 : 603, reason === 'busy' ? 'Busy Here' : 'Decline');
    void this.#finish({ by: 'local', cause: reason === 'busy' ? 'busy' : 'rejected', sipStatus: reason === 'busy' ? 486 : 603 });
  }

  /** Ends the leg from our side whatever its state: BYE, CANCEL, or a final response. Idempotent. */
  async hangup(cause: HangupCause = 'normal_clearing'): Promise<void> {
    if (this.#ended) return;
    if (this.#session) {
      // The call ends when the BYE is sent, not when (or whether) it is answered: a carrier that never answers
      // must not keep it billed for the 32 s of the BYE transaction (SPEC §13). The transaction goes on in the dialog.
      void this.#session.bye().catch((error: unknown) => this.#log.debug({ err: error }, 'BYE failed'));
    } else if (this.#outgoing.length > 0) {
      for (const outgoing of this.#outgoing) outgoing.cancel();
    } else if (this.#incoming) {
      this.#incoming.reject(480, 'Temporarily Unavailable');
    }
    await this.#finish({ by: 'local', cause });
  }

  #attach(session: SipSession): void {
    this.#session = session;
    session.on('ended', (end: SessionEnd) => {
      if (end.by === 'remote') void this.#finish({ by: 'remote', cause: 'normal_clearing' });
      else if (end.by === 'error') void this.#finish({ by: 'local', cause: end.reason === 'ack-timeout' ? 'no_ack' : 'failed' });
    });
    session.on('info', (info) => {
      if (info.dtmf) this.emit('dtmf', info.dtmf.signal);
    });
    session.on('reinvite', (re) => {
      // Hold/unhold and re-offers keep our RTP port; answer with the same codec.
      const negotiated = re.sdp ? negotiateOffer(re.sdp, codecList()) : undefined;
      if (negotiated && 'problem' in negotiated) return re.reject(488);
      if (negotiated) this.media.setRemote(negotiated.remote);
      const local = this.media.localDescription();
      re.accept(describeSdp(local, negotiated?.answer ?? local.audio, Date.now(), re.direction === 'sendonly' ? 'recvonly' : re.direction === 'inactive' ? 'inactive' : 'sendrecv'));
    });
  }

  async #finish(end: LegEnd): Promise<void> {
    if (this.#ended) return;
    this.#ended = end;
    if (end.by === 'local' && this.#session && end.cause === 'media_timeout') {
      // A far end that went silent rarely answers its BYE either: the leg ends when it is sent.
      void this.#session.bye().catch(() => undefined);
    }
    await this.media.close();
    this.emit('ended', end);
  }
}
