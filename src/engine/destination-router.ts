import type { DigestCredentials } from '../sip/ua/digest.js';
import { serializeUri } from '../sip/message/uri.js';
import type { Registrar } from '../sip/ua/registrar.js';
import { isDestinationAllowed } from '../shared/destination-policy.js';
import { parseE164, parseSipTarget } from '../shared/phone-number.js';
import { workspaceOfSipDomain } from '../shared/sip-domain.js';
import type { Store } from '../store/store.js';
import type { Trunk } from '../store/repos/trunk-repo.js';
import { trunkRequestUri } from './trunk-presentation.js';

/** Where an outbound leg's INVITE goes. */
export interface Route {
  uri: string;
  /** More URIs rung at the same time (a user's other registered devices); the first to answer wins. */
  forks?: string[];
  /** The To header when it differs from the Request-URI (a registered contact is reached at its contact, addressed to its AOR). */
  to?: string;
  auth?: DigestCredentials;
  /** Headers the INVITE carries on this route (an own-number hop's token). */
  headers?: Array<[string, string]>;
  via: 'trunk' | 'sandbox' | 'sip' | 'softphone' | 'own-number';
  /** The trunk of a `via: 'trunk'` route: how it wants numbers and the caller presented. */
  trunk?: Trunk;
}

/**
 * Outbound routing (SPEC §11, §13): E.164 numbers go to the trunks whose
 * prefixes match — longest prefix first, then `priority`, then name — the
 * later ones as failover; or to the sandbox carrier when no trunk matches and
 * the sandbox runs; `sip:` URIs of a workspace's own domain go to every device
 * registered there (one leg, its INVITE forked); other `sip:` URIs straight to their host.
 */
export class DestinationRouter {
  constructor(
    private readonly store: Store,
    private readonly sandbox: () => { host: string; port: number } | undefined,
    private readonly registrar: Registrar,
    private readonly sipDomain: string,
    /** Whether a trunk stopped answering OPTIONS (skipped while another trunk matches). Default: none is. */
    private readonly trunkDown: (trunkId: string) => boolean = () => false,
  ) {}

  /** A destination may be called: it matches the allow-list, or it is one of the workspace's own softphones. */
  allowed(workspaceId: string, destination: string, allowList: readonly string[]): boolean {
    const sip = parseSipTarget(destination);
    if (sip && workspaceOfSipDomain(sip.host, this.sipDomain) === workspaceId) return true;
    return isDestinationAllowed(destination, allowList);
  }

  /**
   * Whether the workspace may present `callerId` (SPEC §13): a number it has
   * claimed, or a `sip:` URI of its own SIP domain. Never another's number.
   */
  async callerIdAllowed(workspaceId: string, callerId: string): Promise<boolean> {
    const sip = /^sips?:/i.test(callerId) ? parseSipTarget(callerId) : undefined;
    if (sip) return workspaceOfSipDomain(sip.host, this.sipDomain) === workspaceId;
    const number = parseE164(callerId);
    return number !== undefined && (await this.store.numbers.get(workspaceId, number)) !== undefined;
  }

  /** The first route of `routes()`: where the leg's INVITE goes first. */
  async route(workspaceId: string, destination: string): Promise<Route | undefined> {
    return (await this.routes(workspaceId, destination))[0];
  }

  /**
   * Every route to `destination`, in the order to try them: one for a SIP
   * URI, the sandbox or a softphone; for an E.164 number every trunk with a
   * matching prefix. Trunks that are `down` (OPTIONS unanswered) are left
   * out while another trunk matches; when all are down they are all tried,
   * in order, as a last resort (a carrier may drop OPTIONS and still take calls).
   */
  async routes(workspaceId: string, destination: string): Promise<Route[]> {
    const single = this.#single(workspaceId, destination);
    if (single !== 'e164') return single ? [single] : [];
    const matches: Array<{ trunk: Trunk; length: number }> = [];
    for (const trunk of await this.store.trunks.list()) {
      const length = Math.max(-1, ...trunk.prefixes.filter((p) => destination.startsWith(p)).map((p) => p.length));
      if (length >= 0) matches.push({ trunk, length });
    }
    matches.sort((a, b) => b.length - a.length || a.trunk.priority - b.trunk.priority || (a.trunk.name < b.trunk.name ? -1 : a.trunk.name > b.trunk.name ? 1 : 0));
    const up = matches.filter((m) => !this.trunkDown(m.trunk.id));
    const chosen = up.length > 0 ? up : matches;
    if (chosen.length > 0) {
      return chosen.map(({ trunk: t }) => {
        const username = t.authUsername ?? t.username;
        return {
          uri: trunkRequestUri(destination, t),
          ...(username && t.password ? { auth: { username, password: t.password, ...(t.realm ? { realm: t.realm } : {}) } } : {}),
          via: 'trunk' as const, trunk: t,
        };
      });
    }
    const sandbox = this.sandbox();
    return sandbox ? [{ uri: `sip:${destination}@${sandbox.host}:${sandbox.port}`, via: 'sandbox' }] : [];
  }

  /** The one route of a SIP URI destination; `'e164'` for a number (trunks or the sandbox). */
  #single(workspaceId: string, destination: string): Route | undefined | 'e164' {
    const sip = /^sips?:/i.test(destination) ? parseSipTarget(destination) : undefined;
    if (sip) {
      const owner = workspaceOfSipDomain(sip.host, this.sipDomain);
      if (owner === undefined) return { uri: destination, via: 'sip' };
      // Another workspace's softphones are not reachable from here.
      if (owner !== workspaceId) return undefined;
      // Every live device of the user rings (SPEC §13); one INVITE per binding, the same contact only once.
      const targets = [...new Set(this.registrar.lookup(`sip:${sip.user ?? ''}@${sip.host}`).map((b) => serializeUri(b.target)))];
      const [first, ...forks] = targets;
      if (first === undefined) return undefined;
      return { uri: first, ...(forks.length > 0 ? { forks } : {}), to: `sip:${sip.user ?? ''}@${sip.host}`, via: 'softphone' };
    }
    if (/^sips?:/i.test(destination)) return undefined;
    return 'e164';
  }
}
