import { isSipUri, isTelUri, unescapeUriPart, type Uri } from '../sip/message/uri.js';

/** The user part of a sip: URI or the number of a tel: URI, unescaped; what routing compares. */
export function userOf(uri: Uri): string | undefined {
  if (isSipUri(uri)) return uri.user === undefined ? undefined : unescapeUriPart(uri.user);
  if (isTelUri(uri)) return uri.number;
  return undefined;
}

