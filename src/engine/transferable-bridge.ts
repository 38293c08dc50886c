import type { MediaBackend, MediaBridge } from '../media/call-media.js';
import type { DtmfVia } from '../media/dtmf/digits.js';
import type { ReferRequest } from '../sip/ua/refer-request.js';
import type { BlindTransfer } from './blind-transfer.js';
import type { LiveCall } from './live-call.js';

/**
 * Two live calls whose audio is bridged (a `dial`'s caller and the party
 * that answered), where either may transfer the other away with a REFER
 * (SPEC §13). `whenDone()` resolves when the dial's part is over: a party
 * hung up, `stop()` was called, or the caller itself transferred the other
 * party (`handedOff`: that party and its new leg then live on bridged
 * without the dial, until one of them hangs up and the other is hung up).
 *
 * A party that hangs up while its own transfer is ringing does not end the
 * bridge: the other party waits for the target (RFC 5589 §6: a transferor
 * may leave once it has the 202).
 */
export class TransferableBridge {
  #near: LiveCall;
  #far: LiveCall;
  #media: MediaBridge | undefined;
  #referrer: LiveCall | undefined;
  #handedOff = false;
  #done = false;
  #resolveDone!: () => void;
  readonly #whenDone = new Promise<void>((resolve) => {
    this.#resolveDone = resolve;
  });
  /** Aborts a transfer in flight when the bridge ends. */
  readonly #stopped = new AbortController();
  readonly #unwatch: Array<() => void> = [];

  private constructor(
    private readonly media: MediaBackend,
    private readonly transfer: BlindTransfer,
    /** The caller ID new legs of transfers present (the dial's). */
    private readonly callerId: string,
    near: LiveCall,
    far: LiveCall,
  ) {
    this.#near = near;
    this.#far = far;
  }

  /** Bridges `near` (the dial's caller) and `far` (who answered). */
  static async start(media: MediaBackend, transfer: BlindTransfer, callerId: string, near: LiveCall, far: LiveCall): Promise<TransferableBridge> {
    const bridge = new TransferableBridge(media, transfer, callerId, near, far);
    bridge.#media = await media.bridge(near.leg.media, far.leg.media);
    bridge.#watch(near);
    bridge.#watch(far);
    return bridge;
  }

  /** The party the dial's caller is bridged to now (the target of the last transfer, if any). */
  get far(): LiveCall {
    return this.#far;
  }

  /** The dial's caller transferred the other party away: the dial no longer owns it. */
  get handedOff(): boolean {
    return this.#handedOff;
  }

  whenDone(): Promise<void> {
    return this.#whenDone;
  }

  /** Ends the dial's part (its caller left, a time limit, `*`): a transfer in flight is dropped. Idempotent. */
  stop(): void {
    if (this.#done) return;
    this.#done = true;
    // After a hand-off the pair left behind goes on (and may transfer again): only the dial's part ends.
    if (!this.#handedOff) {
      this.#stopped.abort();
      for (const unwatch of this.#unwatch.splice(0)) unwatch();
    }
    this.#resolveDone();
  }

  /** Unbridges the audio (the dial then hangs up `far`). */
  close(): void {
    if (this.#handedOff) return;
    this.#media?.close();
    this.#media = undefined;
  }

  #watch(call: LiveCall): void {
    const onRefer = (refer: ReferRequest) => void this.#onRefer(call, refer).catch((error: unknown) => {
      call.log.error({ err: error }, 'blind transfer failed');
      void refer.finish(500, 'Server Internal Error');
    });
    const onEnded = () => this.#onEnded(call);
    const onDigit = (digit: string, via?: DtmfVia) => this.#relayDigit(call, digit, via);
    call.leg.on('refer', onRefer);
    call.leg.once('ended', onEnded);
    call.leg.on('dtmf', onDigit);
    this.#unwatch.push(() => {
      call.leg.off('refer', onRefer);
      call.leg.off('ended', onEnded);
      call.leg.off('dtmf', onDigit);
    });
  }

  /**
   * A key one party pressed reaches the other: as RFC 4733 where that leg
   * negotiated telephone-event, else as tones (the endpoint's `sendDtmf`).
   * Keys sent in the media as RFC 4733, or as SIP INFO, are not in the
   * bridged audio (RFC 4733 §2.1: events replace the audio); in-band keys
   * already are, and are not sent twice.
   */
  #relayDigit(from: LiveCall, digit: string, via: DtmfVia | undefined): void {
    if (via === undefined || via === 'inband' || !this.#media || this.#referrer) return;
    const to = from === this.#near ? this.#far : from === this.#far ? this.#near : undefined;
    if (!to || to.leg.endInfo) return;
    void to.leg.media.sendDtmf(digit).catch((error: unknown) => to.log.debug({ err: error, digit }, 'DTMF not relayed over the bridge'));
  }

  #onEnded(call: LiveCall): void {
    // A transferor leaving while its transfer rings: the transfer decides what happens next.
    if (call === this.#referrer || (call !== this.#near && call !== this.#far)) return;
    if (!this.#handedOff) {
      this.stop();
      return;
    }
    // The pair left behind by a hand-off: one hung up, so the other is hung up too.
    this.#media?.close();
    this.#media = undefined;
    const other = call === this.#near ? this.#far : this.#near;
    for (const unwatch of this.#unwatch.splice(0)) unwatch();
    void other.hangupFrom('system', 'normal_clearing');
  }

  async #onRefer(referrer: LiveCall, refer: ReferRequest): Promise<void> {
    if (this.#referrer || (this.#done && !this.#handedOff) || (referrer !== this.#near && referrer !== this.#far)) {
      // RFC 3515 has no pending-REFER rule; 491 is what a peer retries later, as for a re-INVITE.
      refer.reject(491, 'Request Pending (a transfer is in progress)');
      return;
    }
    const other = referrer === this.#near ? this.#far : this.#near;
    this.#referrer = referrer;
    const next = await this.transfer.connect(refer, other, this.callerId, this.#stopped.signal);
    this.#referrer = undefined;
    if (!next) {
      // The transferor hung up while its transfer rang, and the transfer failed: the bridge is over.
      if (referrer.leg.endInfo) this.#onEnded(referrer);
      return;
    }
    if (other.leg.endInfo || (this.#done && !this.#handedOff)) {
      await refer.finish(487, 'Request Terminated');
      await next.hangupFrom('system', 'normal_clearing');
      return;
    }
    this.#media?.close();
    this.#media = await this.media.bridge(other.leg.media, next.leg.media);
    if (referrer === this.#far) {
      this.#far = next;
    } else {
      this.#near = next;
      this.#handedOff = true;
    }
    this.#watch(next);
    await refer.finish(200, 'OK');
    await referrer.hangupFrom('system', 'transferred');
    if (this.#handedOff) {
      this.#done = true;
      this.#resolveDone();
    }
  }
}
