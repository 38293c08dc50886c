import type { DigestCredentials } from '../sip/ua/digest.js';
import { parseSipTarget } from '../shared/phone-number.js';
import type { Store } from '../store/store.js';

/** Where an outbound leg's INVITE goes. */
export interface Route {
  uri: string;
  proxy?: string;
  auth?: DigestCredentials;
  via: 'trunk' | 'sandbox' | 'sip';
}

/**
 * Outbound routing (SPEC §11): E.164 numbers go to the trunk whose prefix
 * matches longest, or to the sandbox carrier when no trunk matches and the
 * sandbox runs; `sip:` URIs go straight to their host.
 */
export class DestinationRouter {
  constructor(private readonly store: Store, private readonly sandbox: () => { host: string; port: number } | undefined) {}

  async route(destination: string): Promise<Route | undefined> {
    if (/^sips?:/i.test(destination)) {
      return parseSipTarget(destination) ? { uri: destination, via: 'sip' } : undefined;
    }
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
        uri: `sip:${destination}@${t.host}:${t.port}${t.transport === 'tcp' ? ';transport=tcp' : ''}`,
        ...(t.username && t.password ? { auth: { username: t.username, password: t.password } } : {}),
        via: 'trunk',
      };
    }
    const sandbox = this.sandbox();
    return sandbox ? { uri: `sip:${destination}@${sandbox.host}:${sandbox.port}`, via: 'sandbox' } : undefined;
  }
}
