import type { DigestCredentials } from '../sip/ua/digest.js';
import { serializeUri } from '../sip/message/uri.js';
import type { Registrar } from '../sip/ua/registrar.js';
import { isDestinationAllowed } from '../shared/destination-policy.js';
import { parseE164, parseSipTarget } from '../shared/phone-number.js';
import { workspaceOfSipDomain } from '../shared/sip-domain.js';
import type { Store } from '../store/store.js';

/** Where an outbound leg's INVITE goes. */
export interface Route {
  uri: string;
  /** More URIs rung at the same time (a user's other registered devices); the first to answer wins. */
  forks?: string[];
  /** The To header when it differs from the Request-URI (a registered contact is reached at its contact, addressed to its AOR). */
  to?: string;
  auth?: DigestCredentials;
  via: 'trunk' | 'sandbox' | 'sip' | 'softphone';
}

/**
 * Outbound routing (SPEC §11): E.164 numbers go to the trunk whose prefix
 * matches longest, or to the sandbox carrier when no trunk matches and the
 * sandbox runs; `sip:` URIs of a workspace's own domain go to every device
 * registered there (one leg, its INVITE forked); other `sip:` URIs straight to their host.
 */
export class DestinationRouter {
  constructor(
    private readonly store: Store,
    private readonly sandbox: () => { host: string; port: number } | undefined,
    private readonly registrar: Registrar,
    private readonly sipDomain: string,
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

  async route(workspaceId: string, destination: string): Promise<Route | undefined> {
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
    const trunks = await this.store.trunks.list();
    let best: { trunk: (typeof trunks)[number]; length: number } | undefined;
    for (const trunk of trunks) {
      for (const prefix of trunk.prefixes) {
        if (destination.startsWith(prefix) && (!best || prefix.length > best.length)) best = { trunk, length: prefix.length };
      }
    }
    if (best) {
      const t = best.trunk;
      return {
        uri: `sip:${destination}@${t.host}:${t.port}${t.transport === 'udp' ? '' : `;transport=${t.transport}`}`,
        ...(t.username && t.password ? { auth: { username: t.username, password: t.password } } : {}),
        via: 'trunk',
      };
    }
    const sandbox = this.sandbox();
    return sandbox ? { uri: `sip:${destination}@${sandbox.host}:${sandbox.port}`, via: 'sandbox' } : undefined;
  }
}
