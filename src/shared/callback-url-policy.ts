import { BlockList, isIP } from 'node:net';
import { AppError, quoteInput } from './errors.js';

/**
 * Callback URL checks (SPEC §9): the platform must not be a proxy into its
 * own network. Applied when a URL is saved (syntax, allow-list, literal
 * addresses), and by the fetch policy (fetch-policy.ts) to every hop it
 * fetches, where the resolved address is checked at connect time too.
 */
export interface CallbackPolicy {
  /** Host names webhooks may go to; empty means any public host. */
  allowedCallbackHosts: readonly string[];
  /** Allow loopback, private and link-local addresses (local development). */
  allowPrivateCallbacks: boolean;
}

const nonPublic = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) nonPublic.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96], ['100::', 64],
] as const) nonPublic.addSubnet(net, prefix, 'ipv6');

/** Whether an IP address is loopback, private, link-local, multicast or otherwise not on the public internet. */
export function isNonPublicAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  if (family === 4) return nonPublic.check(bare, 'ipv4');
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
    if (mapped) return nonPublic.check(mapped[1]!, 'ipv4');
    return nonPublic.check(bare, 'ipv6');
  }
  return false;
}

function hostAllowed(host: string, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  return allowed.some((pattern) => {
    const p = pattern.toLowerCase();
    return p.startsWith('*.') ? host.endsWith(p.slice(1)) : host === p;
  });
}

/**
 * Checks a callback URL before it is stored or fetched. Throws
 * `callback_url_not_allowed` (or `validation_failed` when it is not a URL)
 * naming `field`. Answers the parsed URL.
 */
export function checkCallbackUrl(raw: string, policy: CallbackPolicy, field: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError('validation_failed', `${field} is not a valid URL`, field);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AppError('callback_url_not_allowed', `${field} must be an http(s) URL`, field);
  }
  if (url.username || url.password) {
    throw new AppError('callback_url_not_allowed', `${field} must not carry credentials`, field);
  }
  // `localhost.` is `localhost`: a trailing dot makes a name absolute, not another name.
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (!hostAllowed(host, policy.allowedCallbackHosts)) {
    throw new AppError('callback_url_not_allowed', `${field} host '${quoteInput(host)}' is not in allowed_callback_hosts`, field);
  }
  if (!policy.allowPrivateCallbacks && (isNonPublicAddress(host) || host === 'localhost' || host.endsWith('.localhost'))) {
    throw new AppError('callback_url_not_allowed', `${field} points at a private or loopback address; allow_private_callbacks is off`, field);
  }
  return url;
}
