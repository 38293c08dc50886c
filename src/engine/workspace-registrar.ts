import { randomBytes } from 'node:crypto';
import { createResponse } from '../sip/ua/message-factory.js';
import { isSipUri, parseUri, serializeUri, type Uri } from '../sip/message/uri.js';
import type { SipRequest, SipResponse } from '../sip/message/message.js';
import type { NetAddress, TransportProtocol } from '../sip/transport/transport.js';
import { DigestServer } from '../sip/ua/digest.js';
import { Registrar, type Binding, type BindingChange } from '../sip/ua/registrar.js';
import { silentLogger, type Logger } from '../shared/log.js';
import { workspaceOfSipDomain } from '../shared/sip-domain.js';
import type { SipRegistration } from '../store/repos/sip-registration-repo.js';
import type { Store } from '../store/store.js';

export interface WorkspaceRegistrarOptions {
  /** Time source. Default `Date.now`. */
  now?: () => number;
  logger?: Logger;
  /** How often expired rows are swept from the store, at most (on a write). Default 600 000 ms. */
  sweepIntervalMs?: number;
  /** Told of each failed digest attempt, with its source (SPEC §13: `SourceBans.failed`). */
  authFailed?: (source: NetAddress) => void;
}

function toRegistration(workspaceId: string, b: Binding): SipRegistration {
  return {
    aor: b.aor, contact: serializeUri(b.contact), workspaceId, target: serializeUri(b.target), sourceAddress: b.source.address,
    sourcePort: b.source.port, transport: b.transport, callId: b.callId, cseq: b.cseq, expiresAt: new Date(b.expiresAt), q: b.q,
  };
}

function toBinding(r: SipRegistration): Binding {
  return {
    aor: r.aor, contact: parseUri(r.contact), target: parseUri(r.target), source: { address: r.sourceAddress, port: r.sourcePort },
    transport: r.transport, callId: r.callId, cseq: r.cseq, expiresAt: r.expiresAt.getTime(), q: r.q,
  };
}

/**
 * The registrar of every workspace: a REGISTER for user@<workspace domain>
 * is challenged in that domain's realm and checked against that workspace's
 * SIP credentials, so usernames are per workspace. One Registrar per domain
 * holds the bindings in memory (every lookup reads them there); the store
 * keeps the durable copy (SPEC §13): each REGISTER's changes are written,
 * in order, before its 200 goes out, and `load()` puts the live ones back
 * at start, so agents are reachable after a restart without registering
 * again.
 */
export class WorkspaceRegistrar extends Registrar {
  readonly #byDomain = new Map<string, Registrar>();
  readonly #secret = randomBytes(32);
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #sweepIntervalMs: number;
  readonly #authFailed: ((source: NetAddress) => void) | undefined;
  /** Writes go one after the other, so a refresh never lands before the insert it refreshes. */
  #writes: Promise<unknown> = Promise.resolve();
  #sweptAt = 0;

  constructor(private readonly store: Store, private readonly parentDomain: string, options: WorkspaceRegistrarOptions = {}) {
    super({ realm: parentDomain });
    this.#now = options.now ?? Date.now;
    this.#log = options.logger ?? silentLogger;
    this.#sweepIntervalMs = options.sweepIntervalMs ?? 600_000;
    this.#authFailed = options.authFailed;
  }

  /** Reads the live bindings from the store into memory and sweeps the expired ones; answers how many were restored. */
  async load(): Promise<number> {
    const now = new Date(this.#now());
    const swept = await this.store.sipRegistrations.deleteExpired(now);
    this.#sweptAt = now.getTime();
    const rows = await this.store.sipRegistrations.listLive(now);
    const byDomain = new Map<string, Binding[]>();
    for (const row of rows) {
      const aor = parseUri(row.aor);
      if (isSipUri(aor)) byDomain.set(aor.host, [...(byDomain.get(aor.host) ?? []), toBinding(row)]);
    }
    for (const [domain, bindings] of byDomain) {
      const workspaceId = workspaceOfSipDomain(domain, this.parentDomain);
      if (workspaceId) (this.#byDomain.get(domain) ?? this.#create(domain, workspaceId)).restore(bindings);
    }
    this.#log.info({ restored: rows.length, swept }, 'softphone registrations loaded');
    return rows.length;
  }

  /** Writes one REGISTER's changes after those before it. */
  #persist(workspaceId: string, changes: readonly BindingChange[]): Promise<void> {
    const write = this.#writes.catch(() => undefined).then(async () => {
      const now = new Date(this.#now());
      for (const change of changes) {
        if (change.kind === 'registered') await this.store.sipRegistrations.save(toRegistration(workspaceId, change.binding), now);
        else if (change.kind === 'unregistered') await this.store.sipRegistrations.remove(change.binding.aor, serializeUri(change.binding.contact));
        else await this.store.sipRegistrations.removeAll(change.aor);
      }
      if (now.getTime() - this.#sweptAt >= this.#sweepIntervalMs) {
        this.#sweptAt = now.getTime();
        await this.store.sipRegistrations.deleteExpired(now);
      }
    });
    this.#writes = write;
    return write;
  }

  /**
   * The registrar of a workspace's domain. SPEC §13: a domain that names no
   * workspace allocates nothing — no registrar, no digest state, no map
   * entry — so REGISTERs to made-up domains cannot grow the heap; it is
   * answered 404 and forgotten. One registrar per existing workspace is kept.
   */
  async #registrarFor(domain: string): Promise<Registrar | undefined> {
    const known = this.#byDomain.get(domain);
    if (known) return known;
    const workspaceId = workspaceOfSipDomain(domain, this.parentDomain);
    if (!workspaceId || !(await this.store.workspaces.get(workspaceId))) return undefined;
    return this.#byDomain.get(domain) ?? this.#create(domain, workspaceId);
  }

  #create(domain: string, workspaceId: string): Registrar {
    const registrar = new Registrar({
      realm: domain, domains: [domain],
      // MD5 only: common softphones (baresip/libre) fail on any challenge they cannot answer,
      // even next to an MD5 one, and SIPp answers only the first. Every RFC 8760 client speaks MD5 too.
      digest: new DigestServer({ realm: domain, secret: this.#secret, algorithms: ['MD5'] }),
      credentials: async (username) => (await this.store.sipCredentials.find(workspaceId, username))?.password,
      persist: (changes) => this.#persist(workspaceId, changes),
      now: this.#now,
      ...(this.#authFailed ? { authFailed: this.#authFailed } : {}),
    });
    registrar.on('registered', (b) => this.emit('registered', b));
    registrar.on('unregistered', (b) => this.emit('unregistered', b));
    this.#byDomain.set(domain, registrar);
    return registrar;
  }

  override async handle(request: SipRequest, source: NetAddress, transport: TransportProtocol): Promise<SipResponse> {
    const to = request.to.uri;
    if (!isSipUri(to)) return createResponse(request, 400, { reason: 'Bad Request (To is not a SIP AOR)' });
    const registrar = await this.#registrarFor(to.host.toLowerCase());
    if (!registrar) return createResponse(request, 404, { reason: 'Not Found (domain not served)' });
    return registrar.handle(request, source, transport);
  }

  override lookup(aorOrUri: string | Uri): Binding[] {
    const uri = typeof aorOrUri === 'string' ? parseUri(aorOrUri) : aorOrUri;
    if (!isSipUri(uri)) return [];
    return this.#byDomain.get(uri.host.toLowerCase())?.lookup(uri) ?? [];
  }

  override aors(): string[] {
    return [...this.#byDomain.values()].flatMap((r) => r.aors());
  }
}
