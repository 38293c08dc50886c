import type { DialTarget } from '../legs/call-leg.js';
import type { NumberFormat, Trunk } from '../store/repos/trunk-repo.js';
import { hostPart, trunkUri } from './trunk-uri.js';

/**
 * An E.164 number as a trunk wants it (SPEC §13): `e164` keeps `+254712…`,
 * `international` drops the `+` (`254712…`), `national` writes the trunk's
 * own country's numbers with the trunk 0 (`0712…`); a number of another
 * country stays `international` there, since it has no national form.
 */
export function formatNumber(e164: string, format: NumberFormat, countryCode: string): string {
  if (!e164.startsWith('+') || format === 'e164') return e164;
  const digits = e164.slice(1);
  if (format === 'national' && digits.startsWith(countryCode)) return `0${digits.slice(countryCode.length)}`;
  return digits;
}

/** The Request-URI (and To) of a call to `destination` over `trunk`: formatted, tech prefix first. */
export function trunkRequestUri(destination: string, trunk: Trunk): string {
  // `#` (some carriers' tech prefixes) is not allowed bare in a SIP URI user part (RFC 3261 §25.1).
  const user = `${trunk.techPrefix ?? ''}${formatNumber(destination, trunk.numberFormat, trunk.countryCode)}`.replace(/#/g, '%23');
  return trunkUri(trunk, user);
}

/** Where an outbound leg goes, as the router answers it (see `Route` in destination-router.ts). */
export interface PresentableRoute {
  uri: string;
  forks?: string[];
  to?: string;
  auth?: DialTarget['auth'];
  headers?: Array<[string, string]>;
  trunk?: Trunk;
}

/**
 * The INVITE target of a leg over its routes, first route first and the
 * others as failover alternates: the From is the caller ID at the trunk's
 * `from_domain` (else our SIP host), with P-Asserted-Identity (RFC 3325 §9.1)
 * for trunks that want it.
 */
export function dialTargetOf(routes: readonly PresentableRoute[], callerId: string, ourHost: string, headers: Array<[string, string]>): DialTarget {
  const [first, ...rest] = routes.map((route): DialTarget => {
    const trunk = route.trunk;
    const from = /^sips?:/i.test(callerId) ? callerId : `sip:${callerId}@${hostPart(trunk?.fromDomain ?? ourHost)}`;
    return {
      uri: route.uri, from, ...(route.forks ? { forks: route.forks } : {}), ...(route.to ? { to: route.to } : {}), ...(route.auth ? { auth: route.auth } : {}),
      headers: [...headers, ...(route.headers ?? []), ...(trunk?.sendPai ? [['P-Asserted-Identity', `<${from}>`] as [string, string]] : [])],
      ...(trunk ? { label: trunk.name, answerTimeoutMs: trunk.answerTimeout * 1000 } : {}),
    };
  });
  if (!first) throw new Error('dialTargetOf needs a route');
  return rest.length > 0 ? { ...first, alternates: rest } : first;
}
