import { parseE164, parseSipTarget } from './phone-number.js';

/**
 * Destination authorisation (SPEC §10): a destination may be called only when
 * it matches one of the workspace's `allowed_destinations`:
 * - an E.164 prefix (`+254`, `+25471`); `+` alone allows every number;
 * - a SIP pattern: `sip:example.com` or `sip:*@example.com` (any user at that
 *   host), `sip:*.example.com` (its subdomains too), `sip:agent@example.com`
 *   (that user only), `sip:*` (any SIP destination);
 * - `*` allows everything.
 */
export function isDestinationAllowed(destination: string, allowed: readonly string[]): boolean {
  if (allowed.includes('*')) return true;
  const number = parseE164(destination);
  if (number && !/^sips?:/i.test(destination)) {
    return allowed.some((p) => p.startsWith('+') && number.startsWith(p));
  }
  const sip = parseSipTarget(destination);
  if (!sip) return false;
  return allowed.some((pattern) => sipPatternMatches(pattern, sip.user, sip.host));
}

function sipPatternMatches(pattern: string, user: string | undefined, host: string): boolean {
  const m = /^sips?:(.*)$/i.exec(pattern.trim());
  if (!m) return false;
  const body = m[1]!.toLowerCase();
  if (body === '*') return true;
  const at = body.lastIndexOf('@');
  const patternUser = at >= 0 ? body.slice(0, at) : '*';
  const patternHost = at >= 0 ? body.slice(at + 1) : body;
  if (patternUser !== '*' && patternUser !== (user ?? '').toLowerCase()) return false;
  if (patternHost.startsWith('*.')) return host === patternHost.slice(2) || host.endsWith(patternHost.slice(1));
  return host === patternHost;
}

/** Whether a string is a valid allow-list entry. */
export function isValidDestinationPattern(pattern: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('+')) return /^\+\d{0,15}$/.test(pattern);
  return /^sips?:(\*|([A-Za-z0-9._~*-]+@)?(\*\.)?[A-Za-z0-9.-]+)$/i.test(pattern);
}
