import { randomBytes } from 'node:crypto';
import { isSipUri } from '../sip/message/uri.js';
import { DigestServer } from '../sip/ua/digest.js';
import type { IncomingCall } from '../sip/ua/incoming-call.js';
import { workspaceOfSipDomain } from '../shared/sip-domain.js';
import type { SipCredential } from '../store/repos/sip-credential-repo.js';
import type { Store } from '../store/store.js';

/** Who placed a softphone call, once its digest answer checked out. */
export interface SoftphoneCaller {
  workspaceId: string;
  /** The workspace's SIP domain, as in the Request-URI. */
  domain: string;
  credential: SipCredential;
  /** `sip:username@domain`. */
  aor: string;
}

export type SoftphoneAuthResult =
  | { ok: true; caller: SoftphoneCaller }
  /** The INVITE is answered with this (407 with its challenge, 403, 404) and goes no further. */
  | { ok: false; status: number; reason: string; headers: Array<readonly [string, string]> };

/**
 * Authenticates INVITEs that softphones send to their workspace's domain
 * (SPEC §13): 407 with a Proxy-Authenticate challenge in that domain's
 * realm, checked against THAT workspace's SIP credentials only, so a user
 * of one workspace can never call as another's. A domain of no existing
 * workspace is answered 404 before anything is made for it.
 */
export class SoftphoneAuthenticator {
  /** One digest server (realm) per workspace domain seen; the nonce secret is shared and lives with the process. */
  readonly #digests = new Map<string, DigestServer>();
  readonly #secret = randomBytes(32);

  constructor(private readonly store: Store, private readonly sipDomain: string, private readonly authFailed: (address: string) => void = () => undefined) {}

  /** Whether the INVITE is addressed to a workspace domain (`…@<workspace>.<sip-domain>`), whatever its source. */
  isForWorkspaceDomain(incoming: IncomingCall): boolean {
    const uri = incoming.request.uri;
    return isSipUri(uri) && uri.host.toLowerCase().endsWith(`.${this.sipDomain}`);
  }

  async authenticate(incoming: IncomingCall): Promise<SoftphoneAuthResult> {
    const refuse = (status: number, reason: string, headers: Array<readonly [string, string]> = []): SoftphoneAuthResult => ({ ok: false, status, reason, headers });
    const uri = incoming.request.uri;
    const domain = isSipUri(uri) ? uri.host.toLowerCase() : '';
    const workspaceId = workspaceOfSipDomain(domain, this.sipDomain);
    if (!workspaceId || !(await this.store.workspaces.get(workspaceId))) return refuse(404, 'Not Found (domain not served)');
    const digest = this.#digestFor(domain);
    let credential: SipCredential | undefined;
    const verdict = await digest.verify(incoming.request, async (username) => {
      credential = await this.store.sipCredentials.find(workspaceId, username);
      return credential?.password;
    }, 'Proxy-Authorization');
    if (verdict.ok && credential) return { ok: true, caller: { workspaceId, domain, credential, aor: `sip:${credential.username}@${domain}` } };
    // RFC 3261 §22.3: no (usable) credentials for this realm → 407 with a challenge; a wrong answer → 403, not another round.
    if (verdict.ok || verdict.reason === 'unknown-user' || verdict.reason === 'bad-response' || verdict.reason === 'replay') {
      this.authFailed(incoming.remote.address);
      return refuse(403, 'Forbidden');
    }
    return refuse(407, 'Proxy Authentication Required', digest.challenge(verdict.stale).map((value) => ['Proxy-Authenticate', value] as const));
  }

  #digestFor(domain: string): DigestServer {
    let digest = this.#digests.get(domain);
    if (!digest) {
      // MD5 only, as the registrar: baresip/libre fail on a challenge set they cannot fully answer.
      digest = new DigestServer({ realm: domain, secret: this.#secret, algorithms: ['MD5'] });
      this.#digests.set(domain, digest);
    }
    return digest;
  }
}
