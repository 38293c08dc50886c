import { isSipUri, isTelUri, unescapeUriPart, type Uri } from '../sip/message/uri.js';
import { normaliseDialledNumber } from '../shared/phone-number.js';
import { workspaceOfSipDomain } from '../shared/sip-domain.js';
import type { Store } from '../store/store.js';

/**
 * What a softphone asked for, as a destination of the platform (SPEC §13):
 * an E.164 number (`+2547…`, `07…`, `2547…`, `7…` all become `+2547…`), or
 * a `sip:user@host` address. A user of the workspace's own domain whose
 * name looks like a number (an extension `12345678`) stays a user.
 * Answers undefined for a URI that names no one (`sip:host` alone, other schemes).
 */
export async function dialledTarget(store: Store, sipDomain: string, uri: Uri): Promise<string | undefined> {
  if (isTelUri(uri)) return normaliseDialledNumber(uri.number);
  if (!isSipUri(uri) || uri.user === undefined) return undefined;
  const user = unescapeUriPart(uri.user);
  const host = uri.host.toLowerCase();
  const workspaceId = workspaceOfSipDomain(host, sipDomain);
  const number = normaliseDialledNumber(user);
  if (number && !(workspaceId && (await store.sipCredentials.find(workspaceId, user)))) return number;
  return `sip:${user}@${host}`;
}
