import { randomBytes } from 'node:crypto';
import { createResponse } from '../sip/ua/message-factory.js';
import { isSipUri, parseUri, type Uri } from '../sip/message/uri.js';
import type { SipRequest, SipResponse } from '../sip/message/message.js';
import type { NetAddress, TransportProtocol } from '../sip/transport/transport.js';
import { DigestServer } from '../sip/ua/digest.js';
import { Registrar, type Binding } from '../sip/ua/registrar.js';
import { workspaceOfSipDomain } from '../shared/sip-domain.js';
import type { Store } from '../store/store.js';

/**
 * The registrar of every workspace: a REGISTER for user@<workspace domain>
 * is challenged in that domain's realm and checked against that workspace's
 * SIP credentials, so usernames are per workspace. One Registrar per domain
 * holds the bindings.
 */
export class WorkspaceRegistrar extends Registrar {
  readonly #byDomain = new Map<string, Registrar>();
  readonly #secret = randomBytes(32);

  constructor(private readonly store: Store, private readonly parentDomain: string) {
    super({ realm: parentDomain });
  }

  #registrarFor(domain: string): Registrar | undefined {
    const workspaceId = workspaceOfSipDomain(domain, this.parentDomain);
    if (!workspaceId) return undefined;
    let registrar = this.#byDomain.get(domain);
    if (!registrar) {
      registrar = new Registrar({
        realm: domain, domains: [domain],
        // MD5 only: common softphones (baresip/libre) fail on any challenge they cannot answer,
        // even next to an MD5 one, and SIPp answers only the first. Every RFC 8760 client speaks MD5 too.
        digest: new DigestServer({ realm: domain, secret: this.#secret, algorithms: ['MD5'] }),
        credentials: async (username) => (await this.store.sipCredentials.find(workspaceId, username))?.password,
      });
      registrar.on('registered', (b) => this.emit('registered', b));
      registrar.on('unregistered', (b) => this.emit('unregistered', b));
      this.#byDomain.set(domain, registrar);
    }
    return registrar;
  }

  override async handle(request: SipRequest, source: NetAddress, transport: TransportProtocol): Promise<SipResponse> {
    const to = request.to.uri;
    if (!isSipUri(to)) return createResponse(request, 400, { reason: 'Bad Request (To is not a SIP AOR)' });
    const registrar = this.#registrarFor(to.host.toLowerCase());
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
