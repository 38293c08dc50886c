/**
 * A registrar (RFC 3261 §10.3): bindings of contacts to an address of
 * record, with expiry, several contacts per AOR, wildcard un-registration,
 * NAT-aware contacts and digest authentication through an injected
 * credential lookup (the host keeps users in its own database).
 */
import { TypedEmitter } from '../../shared/typed-emitter.js';
import { serializeNameAddr } from '../message/name-addr.js';
import { aorOf, cloneUri, isSipUri, serializeUri, unescapeUriPart, type SipUri, type Uri } from '../message/uri.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import type { NetAddress, TransportProtocol } from '../transport/transport.js';
import { createResponse, isPrivateHost as isPrivate } from './message-factory.js';
import { DigestServer, type CredentialLookup } from './digest.js';

export interface Binding {
  aor: string;
  /** The contact as registered. */
  contact: Uri;
  /** Where to send requests for this binding: the registered contact, or the source address when behind NAT. */
  target: SipUri | Uri;
  /** Source of the REGISTER (where NATed phones are reachable). */
  source: NetAddress;
  transport: TransportProtocol;
  callId: string;
  cseq: number;
  /** Absolute expiry time, ms since epoch. */
  expiresAt: number;
  q: number;
}

/** What one REGISTER changed: a binding added or refreshed, one removed, or every binding of an AOR removed (`Contact: *`). */
export type BindingChange =
  | { kind: 'registered'; binding: Binding }
  | { kind: 'unregistered'; binding: Binding }
  | { kind: 'cleared'; aor: string };

export interface RegistrarOptions {
  /** Realm of the digest challenge; usually the domain. */
  realm: string;
  /** Password lookup; when absent, registrations are not authenticated. */
  credentials?: CredentialLookup;
  /** Whether an AOR must authenticate. Default: every AOR when `credentials` is set. */
  requireAuth?: (aor: string) => boolean;
  /** Username allowed to register an AOR. Default: the AOR's user part must equal the digest username. */
  mayRegister?: (username: string, aor: string) => boolean;
  /** Domains served; REGISTERs for others get 404. Default: any. */
  domains?: string[];
  /** Default 3600 s. */
  defaultExpires?: number;
  /** Shorter requests get 423 with Min-Expires (RFC 3261 §10.3 step 7). Default 60 s. */
  minExpires?: number;
  /** Longer requests are cut down to this. Default 7200 s. */
  maxExpires?: number;
  /** Digest server (nonce secret, TTL, algorithms); created from `realm` when absent. */
  digest?: DigestServer;
  /** Time source. Default `Date.now`. */
  now?: () => number;
  /**
   * Writes a REGISTER's changes to a durable copy; awaited before the 200,
   * so an acknowledged registration survives a crash. A rejection answers
   * 500 (the phone tries again). Default: bindings live in memory only.
   */
  persist?: (changes: readonly BindingChange[]) => Promise<void>;
  /**
   * Told of every failed digest attempt (wrong password, unknown user, forged
   * nonce) — not of a first REGISTER that is merely challenged — so that a
   * source guessing passwords can be banned (SPEC §13, `SourceBans.failed`).
   */
  authFailed?: (source: NetAddress) => void;
}

export type RegistrarEvents = {
  registered: [binding: Binding];
  unregistered: [binding: Binding];
};


export class Registrar extends TypedEmitter<RegistrarEvents> {
  readonly #options: RegistrarOptions;
  readonly #digest: DigestServer;
  readonly #bindings = new Map<string, Binding[]>();
  readonly #now: () => number;

  constructor(options: RegistrarOptions) {
    super();
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#digest = options.digest ?? new DigestServer({ realm: options.realm, now: this.#now });
  }

  /** Live bindings of an AOR, highest q first. */
  lookup(aorOrUri: string | Uri): Binding[] {
    const aor = typeof aorOrUri === 'string' ? aorOrUri.toLowerCase() : aorOf(aorOrUri).toLowerCase();
    const now = this.#now();
    const live = (this.#bindings.get(aor) ?? []).filter((b) => b.expiresAt > now);
    return live.sort((a, b) => b.q - a.q);
  }

  /**
   * Puts bindings read from a durable copy back in memory (at start), with
   * no events and nothing persisted; expired ones are skipped, and one of
   * the same AOR and contact is replaced.
   */
  restore(bindings: readonly Binding[]): void {
    const now = this.#now();
    for (const binding of bindings) {
      if (binding.expiresAt <= now) continue;
      const aor = binding.aor.toLowerCase();
      const key = serializeUri(binding.contact);
      const list = (this.#bindings.get(aor) ?? []).filter((b) => serializeUri(b.contact) !== key);
      list.push({ ...binding, aor });
      this.#bindings.set(aor, list);
    }
  }

  /** Every live AOR (for operations and tests). */
  aors(): string[] {
    return [...this.#bindings.keys()].filter((aor) => this.lookup(aor).length > 0);
  }

  /** Handles a REGISTER; returns the final response to send. */
  async handle(request: SipRequest, source: NetAddress, transport: TransportProtocol): Promise<SipResponse> {
    const to = request.to.uri;
    // RFC 3261 §10.3 step 5: the To header must be a valid sip/sips AOR (RFC 4475 §3.3.4).
    if (!isSipUri(to)) return createResponse(request, 400, { reason: 'Bad Request (To is not a SIP AOR)' });
    if (this.#options.domains && !this.#options.domains.includes(to.host)) return createResponse(request, 404, { reason: 'Not Found (domain not served)' });
    const aor = aorOf(to).toLowerCase();

    // Step 4: authenticate.
    const requireAuth = this.#options.credentials && (this.#options.requireAuth?.(aor) ?? true);
    if (requireAuth) {
      const verdict = await this.#digest.verify(request, this.#options.credentials!);
      if (!verdict.ok) {
        if (verdict.reason !== 'missing' && !verdict.stale) this.#options.authFailed?.(source);
        return createResponse(request, 401, { headers: this.#digest.challenge(verdict.stale).map((v) => ['WWW-Authenticate', v] as const) });
      }
      const allowed = this.#options.mayRegister?.(verdict.username, aor) ?? (to.user !== undefined && unescapeUriPart(to.user) === verdict.username);
      if (!allowed) return createResponse(request, 403, { reason: 'Forbidden (user may not register this AOR)' });
    }

    const contacts = request.contacts;
    const now = this.#now();
    const defaultExpires = request.expires ?? this.#options.defaultExpires ?? 3600;
    const minExpires = this.#options.minExpires ?? 60;
    const maxExpires = this.#options.maxExpires ?? 7200;
    let list = (this.#bindings.get(aor) ?? []).filter((b) => b.expiresAt > now);

    if (contacts === '*') {
      // Step 6: '*' only with Expires: 0, else 400.
      if (request.expires !== 0) return createResponse(request, 400, { reason: 'Bad Request (wildcard Contact needs Expires: 0)' });
      for (const binding of list) if (binding.callId === request.callId && request.cseq.seq <= binding.cseq) return createResponse(request, 500, { headers: [['Retry-After', '1']] });
      this.#bindings.delete(aor);
      await this.#options.persist?.([{ kind: 'cleared', aor }]);
      for (const binding of list) this.emit('unregistered', binding);
      return this.#ok(request, []);
    }

    for (const contact of contacts) {
      const param = contact.params.get('expires');
      const expires = param != null ? Number(param) : defaultExpires;
      // Step 7: too brief a registration is refused with 423 (never for removals).
      if (expires > 0 && expires < minExpires) return createResponse(request, 423, { headers: [['Min-Expires', String(minExpires)]] });
    }

    const changes: Array<Extract<BindingChange, { binding: Binding }>> = [];
    for (const contact of contacts) {
      const param = contact.params.get('expires');
      const expires = Math.min(param != null ? Number(param) : defaultExpires, maxExpires);
      const key = serializeUri(contact.uri);
      const existing = list.find((b) => serializeUri(b.contact) === key);
      if (existing && existing.callId === request.callId && request.cseq.seq <= existing.cseq) {
        // Step 7: an older or repeated CSeq from the same Call-ID is out of order.
        return createResponse(request, 500, { reason: 'Server Internal Error (out-of-order REGISTER)', headers: [['Retry-After', '1']] });
      }
      list = list.filter((b) => b !== existing);
      if (expires === 0) {
        if (existing) changes.push({ kind: 'unregistered', binding: existing });
        continue;
      }
      const q = Number(contact.params.get('q') ?? '1');
      const binding: Binding = {
        aor,
        contact: contact.uri,
        target: this.#natTarget(contact.uri, source, transport),
        source,
        transport,
        callId: request.callId,
        cseq: request.cseq.seq,
        expiresAt: now + expires * 1000,
        q: Number.isFinite(q) ? q : 1,
      };
      list.push(binding);
      changes.push({ kind: 'registered', binding });
    }
    if (list.length > 0) this.#bindings.set(aor, list);
    else this.#bindings.delete(aor);
    if (changes.length > 0) await this.#options.persist?.(changes);
    for (const change of changes) this.emit(change.kind, change.binding);
    return this.#ok(request, list);
  }

  /**
   * When the contact is a private address, or differs from where the
   * REGISTER came from, requests go to the source address (the NAT binding)
   * with the contact's user part kept. Over TLS they always go back over the
   * phone's own connection (its flow, RFC 5626 §5 / RFC 5923 style): a phone
   * has no certificate to accept a new TLS connection with, and the target
   * names the source address and port that the TLS transport keys its
   * connection by.
   */
  #natTarget(contact: Uri, source: NetAddress, transport: TransportProtocol): Uri {
    if (!isSipUri(contact)) return contact;
    const port = contact.port ?? (contact.scheme === 'sips' ? 5061 : 5060);
    if (!isPrivate(contact.host) && contact.host === source.address && port === source.port) return contact;
    if (transport !== 'tls' && isPrivate(source.address) && contact.host === source.address) return contact;
    const target = cloneUri(contact);
    target.host = source.address.includes(':') ? `[${source.address}]` : source.address;
    target.port = source.port;
    if (transport === 'udp' || target.scheme === 'sips') target.params.delete('transport');
    else target.params.set('transport', transport);
    return target;
  }

  /** Step 8: 200 OK listing every current binding with its remaining expiry. */
  #ok(request: SipRequest, list: Binding[]): SipResponse {
    const now = this.#now();
    const headers: Array<[string, string]> = list.map((b) => [
      'Contact',
      `${serializeNameAddr({ displayName: undefined, uri: b.contact, params: new Map() })};expires=${Math.max(0, Math.round((b.expiresAt - now) / 1000))}`,
    ]);
    headers.push(['Date', new Date(now).toUTCString()]);
    return createResponse(request, 200, { headers });
  }
}
