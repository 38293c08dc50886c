/**
 * RFC 3262 reliable provisional responses, both sides.
 *
 * UAS (`ReliableProvisionals`): when the INVITE says `Require: 100rel`, each
 * 18x carries `Require: 100rel` and an `RSeq`, is retransmitted (UDP) until
 * its PRACK, and the next one waits for that PRACK (§3).
 *
 * ```
 *  idle --send()--> awaiting-prack --PRACK--> idle (the queued 18x, or a deferred 2xx, goes next)
 *                        | 64*T1 without PRACK
 *                        v
 *                     gave-up (the owner rejects the INVITE 5xx, §3)
 * ```
 *
 * UAC (`PrackSender`): a reliable 18x from the far end gets a PRACK with
 * `RAck` in its early dialog; retransmissions of it are dropped (§4).
 */
import { Dialog } from '../dialog/dialog.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import { serializeMessage } from '../message/serializer.js';
import { newBranch } from '../transaction/transaction-layer.js';
import type { Channel, TransactionTimers } from '../transaction/transaction.js';
import type { ServerTransaction } from '../transaction/transaction-layer.js';
import type { TransportProtocol } from '../transport/transport.js';
import type { DigestCredentials } from './digest.js';
import { createResponse } from './message-factory.js';
import type { UaCore } from './ua-core.js';

/** `RAck: 776656 1 INVITE` (RFC 3262 §7.2). */
export function parseRAck(value: string | undefined): { rseq: number; cseq: number; method: string } | undefined {
  const match = /^\s*(\d{1,10})\s+(\d{1,10})\s+([A-Za-z]+)\s*$/.exec(value ?? '');
  return match ? { rseq: Number(match[1]), cseq: Number(match[2]), method: match[3]!.toUpperCase() } : undefined;
}

/** Whether a response is a reliable provisional (RFC 3262 §4): 101-199 with `Require: 100rel` and an `RSeq`. */
export function reliableRSeq(response: SipResponse): number | undefined {
  if (response.status <= 100 || response.status >= 200) return undefined;
  const requires = response.headers.getAll('Require').some((v) => v.split(',').some((t) => t.trim().toLowerCase() === '100rel'));
  const rseq = /^\s*(\d{1,10})\s*$/.exec(response.headers.get('RSeq') ?? '')?.[1];
  return requires && rseq !== undefined ? Number(rseq) : undefined;
}

/** Whether an INVITE makes reliable provisionals mandatory (RFC 3262 §3: `Require: 100rel`). */
export function requiresReliable(invite: SipRequest): boolean {
  return invite.headers.getAll('Require').some((v) => v.split(',').some((t) => t.trim().toLowerCase() === '100rel'));
}

type ReliableState = 'idle' | 'awaiting-prack' | 'gave-up' | 'closed';

interface Pending {
  response: SipResponse;
  rseq: number;
  hasSdp: boolean;
  timer: NodeJS.Timeout | undefined;
}

export class ReliableProvisionals {
  readonly #core: UaCore;
  readonly #tx: ServerTransaction;
  readonly #invite: SipRequest;
  readonly #key: string;
  readonly #onGiveUp: () => void;
  #state: ReliableState = 'idle';
  // §7.1: the first RSeq is random, between 1 and 2^31 - 1.
  #rseq = Math.floor(Math.random() * 2 ** 30) + 1;
  #pending: Pending | undefined;
  #queued: SipResponse | undefined;
  #afterPrack: Array<() => void> = [];

  constructor(core: UaCore, tx: ServerTransaction, localTag: string, onGiveUp: () => void) {
    this.#core = core;
    this.#tx = tx;
    this.#invite = tx.request;
    this.#onGiveUp = onGiveUp;
    this.#key = `${this.#invite.callId}|${localTag}`;
    core.expectPrack(this.#key, (request, prackTx) => this.#receivePrack(request, prackTx));
  }

  /** Sends an 18x reliably (adds `Require: 100rel` and `RSeq`), or queues it behind the one awaiting its PRACK. */
  send(response: SipResponse): void {
    if (this.#state === 'closed' || this.#state === 'gave-up') return;
    if (this.#state === 'awaiting-prack') {
      // §3: no new reliable provisional until the previous one is acknowledged; only the latest is worth sending.
      this.#queued = response;
      return;
    }
    this.#rseq += 1;
    response.headers.append('Require', '100rel');
    response.headers.set('RSeq', String(this.#rseq));
    const pending: Pending = { response, rseq: this.#rseq, hasSdp: response.body.length > 0, timer: undefined };
    this.#pending = pending;
    this.#state = 'awaiting-prack';
    this.#core.respond(this.#tx, response);
    this.#retransmit(pending, this.#core.timers, this.#tx.channel, Date.now());
  }

  /** §3: retransmitted with T1 doubling (no cap) until the PRACK; 64*T1 without it: give up. */
  #retransmit(pending: Pending, timers: TransactionTimers, channel: Channel, started: number, interval = timers.t1): void {
    pending.timer = setTimeout(() => {
      if (this.#pending !== pending) return;
      if (Date.now() - started >= 64 * timers.t1) {
        this.#state = 'gave-up';
        this.#pending = undefined;
        this.#runAfterPrack();
        this.#onGiveUp();
        return;
      }
      if (!channel.transport.reliable) channel.transport.send(serializeMessage(pending.response), channel.remote).catch(() => undefined);
      this.#retransmit(pending, timers, channel, started, interval * 2);
    }, interval);
  }

  /**
   * Runs `send` now, or once the pending reliable 18x is acknowledged when it carried SDP: §3, a 2xx
   * MUST NOT go out before the PRACK of a reliable provisional with a session description.
   */
  whenFinalAllowed(send: () => void): void {
    if (this.#state !== 'awaiting-prack' || !this.#pending?.hasSdp) {
      this.#stopPending();
      send();
      return;
    }
    this.#queued = undefined;
    this.#afterPrack.push(send);
  }

  #receivePrack(request: SipRequest, tx: ServerTransaction): void {
    const rack = parseRAck(request.headers.get('RAck'));
    const pending = this.#pending;
    // §3: a PRACK that matches no unacknowledged reliable provisional gets 481.
    if (!rack || !pending || rack.rseq !== pending.rseq || rack.cseq !== this.#invite.cseq.seq || rack.method !== 'INVITE') {
      this.#core.respond(tx, createResponse(request, 481));
      return;
    }
    this.#core.respond(tx, createResponse(request, 200));
    this.#stopPending();
    const queued = this.#queued;
    this.#queued = undefined;
    if (this.#afterPrack.length > 0) this.#runAfterPrack();
    else if (queued) this.send(queued);
  }

  #stopPending(): void {
    if (this.#pending?.timer) clearTimeout(this.#pending.timer);
    this.#pending = undefined;
    if (this.#state === 'awaiting-prack') this.#state = 'idle';
  }

  #runAfterPrack(): void {
    for (const run of this.#afterPrack.splice(0)) run();
  }

  /** The INVITE got its final response: nothing more is sent or awaited. Idempotent. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#stopPending();
    this.#state = 'closed';
    this.#queued = undefined;
    this.#core.forgetPrack(this.#key);
  }
}

/** UAC side: PRACKs for the reliable provisionals of one INVITE, one early dialog per To tag (RFC 3262 §4). */
export class PrackSender {
  readonly #core: UaCore;
  readonly #early = new Map<string, { dialog: Dialog; lastRSeq: number }>();

  constructor(core: UaCore) {
    this.#core = core;
  }

  /**
   * A provisional to our INVITE arrived. Returns false when it is the retransmission of a reliable one
   * already acknowledged (or out of order), which its owner then ignores.
   */
  receive(response: SipResponse, invite: SipRequest, channel: Channel, auth: DigestCredentials | undefined): boolean {
    const rseq = reliableRSeq(response);
    const tag = response.toTag;
    if (rseq === undefined || tag === undefined) return true;
    let early = this.#early.get(tag);
    if (!early) {
      early = { dialog: Dialog.asUac(invite, response), lastRSeq: rseq - 1 };
      this.#early.set(tag, early);
    }
    // §4: only the next RSeq in order is acknowledged; a retransmission or a gap is dropped.
    if (rseq !== early.lastRSeq + 1) return false;
    early.lastRSeq = rseq;
    early.dialog.refreshTarget(response);
    const protocol: TransportProtocol = channel.transport.protocol;
    const prack = early.dialog.createRequest('PRACK', newBranch(), this.#core.via(protocol), {
      headers: [['RAck', `${rseq} ${invite.cseq.seq} INVITE`], ['User-Agent', this.#core.userAgent]],
    });
    let next: Channel;
    try {
      next = this.#core.channelFor(prack, protocol);
    } catch {
      next = channel;
    }
    this.#core.send(prack, {
      channel: next,
      ...(auth ? { auth, onRetry: (sent) => { early.dialog.localSeq = Math.max(early.dialog.localSeq, sent.request.cseq.seq); } } : {}),
      onResponse: () => undefined,
    });
    return true;
  }

  /** The CSeq the early dialog with this To tag reached: the confirmed dialog continues above it (RFC 3261 §12.2.1.1). */
  localSeq(tag: string | undefined): number | undefined {
    return tag === undefined ? undefined : this.#early.get(tag)?.dialog.localSeq;
  }
}
