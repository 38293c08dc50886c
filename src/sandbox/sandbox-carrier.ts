import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { publicOnlyPolicy, type FetchPolicy } from '../shared/fetch-policy.js';
import type { Logger } from '../shared/log.js';
import { CallLeg } from '../legs/call-leg.js';
import { userOf } from '../legs/uri-user.js';
import type { MediaEngine } from '../media/engine.js';
import type { MediaEndpoint } from '../media/endpoint.js';
import { SipUserAgent } from '../sip/ua/sip-user-agent.js';
import type { IncomingCall } from '../sip/ua/incoming-call.js';
import type { PhoneStep } from './phone-script.js';
import { SandboxCall, type SandboxCallReport } from './sandbox-call.js';

/** Names the sandbox call in the INVITEs a sandbox phone sends, so the platform can tie its record to it. */
export const sandboxCallHeader = 'X-Sautikit-Sandbox-Call';

/** How a sandbox phone behaves when the platform dials it (SPEC §11). */
export interface PhoneBehaviour {
  answer: 'immediately' | { after: number } | 'busy' | 'no-answer' | 'reject';
  script: PhoneStep[];
  /** The phone hangs up this many seconds after answering; undefined: it stays until hung up. */
  hangupAfterSeconds: number | undefined;
}

/** Phones and their call lists are kept per workspace (`owner`; none for a carrier used on its own). */
function phoneKey(owner: string | undefined, number: string): string {
  return `${owner ?? ''}|${number}`;
}

/** By default a dialled sandbox phone answers after 1 s and stays until hung up. */
export const defaultPhoneBehaviour: PhoneBehaviour = { answer: { after: 1 }, script: [], hangupAfterSeconds: undefined };

export interface SandboxCarrierOptions {
  media: MediaEngine;
  /** Where the platform's SIP listens. */
  platform: { host: string; port: number };
  /** Address the carrier binds to. Default 127.0.0.1. */
  host?: string;
  /** Calls placed by `placeCall` end after this many seconds at most. Default 300. */
  maxDurationSeconds?: number;
  /** The workspace of a platform call, so a dialled phone's call is readable by that workspace only. */
  ownerOfCall?: (callId: string) => string | undefined;
  /**
   * A workspace's fetch policy, read when a script's `play` step plays.
   * Default, and for a script of no known workspace: `publicOnlyPolicy`.
   */
  policyOf?: (workspaceId: string) => Promise<FetchPolicy>;
  logger: Logger;
}

/**
 * The built-in telephone network: phones that call the platform and that the
 * platform can call, speaking real SIP and RTP from their own user agent.
 */
export class SandboxCarrier {
  readonly #ua: SipUserAgent;
  readonly #options: SandboxCarrierOptions;
  readonly #phones = new Map<string, PhoneBehaviour>();
  readonly #calls = new Map<string, SandboxCall>();
  readonly #byPhone = new Map<string, SandboxCall[]>();
  readonly #running = new Set<Promise<void>>();
  readonly #closing = new AbortController();

  constructor(options: SandboxCarrierOptions) {
    this.#options = options;
    this.#ua = new SipUserAgent({
      listen: [{ protocol: 'udp', host: options.host ?? '127.0.0.1', port: 0 }],
      publicHost: options.host ?? '127.0.0.1', contactUser: 'sandbox', userAgent: 'Sautikit-Sandbox', logger: options.logger,
    });
    this.#ua.on('invite', (incoming) => this.#track(this.#answerIncoming(incoming)));
  }

  async start(): Promise<void> {
    await this.#ua.start();
  }

  /** The carrier's SIP address: INVITEs from it are sandbox calls; sandbox numbers are dialled at it. */
  get address(): { host: string; port: number } {
    return this.#ua.localAddress('udp');
  }

  /**
   * How `number` behaves when `owner`'s calls dial it. Each workspace sets its
   * own phones: one workspace's settings never change what another's calls
   * meet (SPEC §2, §11).
   */
  setPhone(number: string, behaviour: PhoneBehaviour, owner?: string): void {
    this.#phones.set(phoneKey(owner, number), behaviour);
  }

  phone(number: string, owner?: string): PhoneBehaviour {
    return this.#phones.get(phoneKey(owner, number)) ?? defaultPhoneBehaviour;
  }

  /** The last 100 calls between `owner`'s calls and the phone `number`, oldest first. */
  callsOf(number: string, owner?: string): SandboxCallReport[] {
    return (this.#byPhone.get(phoneKey(owner, number)) ?? []).map((c) => ({ ...c.report }));
  }

  call(id: string): SandboxCall | undefined {
    return this.#calls.get(id);
  }

  /** A sandbox phone calls a number on the platform and runs its script. */
  placeCall(input: { from: string; to: string; script: PhoneStep[]; maxDurationSeconds?: number; owner?: string }): SandboxCall {
    const call = this.#newCall('to-platform', input.from, input.to, input.from, input.owner);
    this.#track(this.#runOutgoing(call, input));
    return call;
  }

  async close(): Promise<void> {
    this.#closing.abort();
    await Promise.allSettled([...this.#running]);
    await this.#ua.close();
  }

  #newCall(direction: SandboxCallReport['direction'], from: string, to: string, phone: string, owner: string | undefined): SandboxCall {
    const call = new SandboxCall({ id: `sbx_${randomUUID().replace(/-/g, '').slice(0, 20)}`, direction, from, to });
    call.owner = owner;
    this.#calls.set(call.report.id, call);
    const key = phoneKey(owner, phone);
    const list = this.#byPhone.get(key) ?? [];
    list.push(call);
    if (list.length > 100) list.shift();
    this.#byPhone.set(key, list);
    if (this.#calls.size > 10_000) this.#calls.delete(this.#calls.keys().next().value!);
    return call;
  }

  #track(run: Promise<void>): void {
    const tracked = run.catch((error: unknown) => this.#options.logger.error({ err: error }, 'sandbox call failed'));
    this.#running.add(tracked);
    void tracked.finally(() => this.#running.delete(tracked));
  }

  async #runOutgoing(call: SandboxCall, input: { from: string; to: string; script: PhoneStep[]; maxDurationSeconds?: number; owner?: string }): Promise<void> {
    const { host, port } = this.#options.platform;
    const self = this.address;
    const leg = await CallLeg.dial(this.#ua, this.#options.media, {
      uri: `sip:${input.to}@${host}:${port}`, from: `sip:${input.from}@${self.host}:${self.port}`,
      headers: [[sandboxCallHeader, call.report.id]],
    }, this.#options.logger.child({ sandboxCall: call.report.id }));
    leg.on('ringing', () => {
      if (call.report.status === 'calling') call.report.status = 'ringing';
    });
    const maxMs = Math.min(input.maxDurationSeconds ?? this.#options.maxDurationSeconds ?? 300, 3600) * 1000;
    await this.#converse(call, leg, { script: input.script, owner: input.owner }, maxMs);
  }

  /** The fetch policy a script of `owner` plays its URLs within, read now. */
  async #policyOf(owner: string | undefined): Promise<FetchPolicy> {
    return owner && this.#options.policyOf ? this.#options.policyOf(owner) : publicOnlyPolicy;
  }

  /** Runs a leg from answer to end: script (`owner`: whose it is), hang-up rules, report. */
  async #converse(call: SandboxCall, leg: CallLeg<MediaEndpoint>, run: { script: PhoneStep[]; owner: string | undefined }, maxMs: number, hangupAfterMs?: number): Promise<void> {
    const stop = new AbortController();
    const ended = new Promise<void>((resolve) => leg.once('ended', (end) => {
      stop.abort();
      if (!leg.answered) {
        call.end(end.cause === 'busy' ? 'busy' : end.cause === 'no_answer' ? 'no-answer' : end.cause === 'canceled' ? 'canceled' : 'failed', end.by === 'local' ? 'phone' : 'platform', end.sipStatus);
      } else {
        call.end('completed', end.by === 'local' ? 'phone' : 'platform');
      }
      resolve();
    }));
    const onClose = () => void leg.hangup();
    this.#closing.signal.addEventListener('abort', onClose, { once: true });
    const limit = setTimeout(() => void leg.hangup(), maxMs);
    try {
      await new Promise<void>((resolve) => {
        if (leg.answered) resolve();
        leg.once('answered', () => resolve());
        leg.once('ended', () => resolve());
      });
      if (leg.answered && !leg.endInfo) {
        call.answered(leg.media);
        if (hangupAfterMs !== undefined) setTimeout(() => void leg.hangup(), hangupAfterMs).unref();
        const hangUp = await call.runScript(run.script, leg.media, stop.signal, () => this.#policyOf(run.owner));
        if (hangUp) await leg.hangup();
      }
      await ended;
    } finally {
      clearTimeout(limit);
      this.#closing.signal.removeEventListener('abort', onClose);
    }
  }

  /** The platform dialled a sandbox number: behave as that phone is set to. */
  async #answerIncoming(incoming: IncomingCall): Promise<void> {
    const number = userOf(incoming.request.uri) ?? '';
    const platformCallId = incoming.request.headers.get('x-sautikit-call-id');
    const owner = platformCallId ? this.#options.ownerOfCall?.(platformCallId) : undefined;
    // The workspace whose call this is set the phone: its script plays within that workspace's fetch policy.
    const behaviour = this.phone(number, owner);
    const call = this.#newCall('from-platform', userOf(incoming.from.uri) ?? '', number, number, owner);
    if (platformCallId) call.report.call_id = platformCallId;
    const made = await CallLeg.fromIncoming(incoming, this.#options.media, this.#options.logger.child({ sandboxCall: call.report.id }));
    if ('problem' in made) {
      call.end('failed', 'phone', 488);
      return;
    }
    const leg = made;
    if (behaviour.answer === 'busy') return this.#refuse(call, leg, 'busy');
    if (behaviour.answer === 'reject') return this.#refuse(call, leg, 'rejected');
    leg.ring();
    call.report.status = 'ringing';
    const conversation = this.#converse(call, leg, { script: behaviour.script, owner }, 3600_000, behaviour.hangupAfterSeconds === undefined ? undefined : behaviour.hangupAfterSeconds * 1000);
    if (behaviour.answer !== 'no-answer') {
      const afterMs = behaviour.answer === 'immediately' ? 0 : behaviour.answer.after * 1000;
      await sleep(afterMs, undefined, { signal: this.#closing.signal }).catch(() => undefined);
      if (!leg.endInfo) leg.answer();
    }
    await conversation;
  }

  async #refuse(call: SandboxCall, leg: CallLeg<MediaEndpoint>, reason: 'busy' | 'rejected'): Promise<void> {
    leg.reject(reason);
    call.end(reason === 'busy' ? 'busy' : 'failed', 'phone', reason === 'busy' ? 486 : 603);
  }
}
