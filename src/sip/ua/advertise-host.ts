/**
 * Our address in a message, chosen for the peer it goes to (SPEC §13, see
 * `shared/advertised-host.ts`). Requests, ACKs and responses are built with
 * the default (external) host in our Via and Contact; when a message leaves
 * for a peer that must be given another address (a peer on loopback or a
 * local network, where the NAT's external address does not lead back), the
 * user agent rewrites that host here, once the next hop is known — which is
 * only after Route / Request-URI resolution, so this is the one place that
 * sees every request, ACK and response on its way out.
 */
import type { SipMessage } from '../message/message.js';
import { parseNameAddr, serializeNameAddr } from '../message/name-addr.js';
import { isSipUri } from '../message/uri.js';
import { parseVia, serializeVia } from '../message/via.js';

/**
 * Replaces `from` by `to` as the host of our top Via (requests only: a
 * response's Vias are the requester's) and of every Contact naming `from`.
 * Hosts are compared case-insensitively; anything else is left alone.
 */
export function advertiseHost(message: SipMessage, from: string, to: string): void {
  if (from.toLowerCase() === to.toLowerCase()) return;
  const wanted = from.toLowerCase();
  if (message.kind === 'request') {
    const vias = message.headers.getAll('Via');
    const top = vias[0];
    if (top !== undefined) {
      const via = parseVia(top);
      if (via.host === wanted) {
        via.host = to;
        message.headers.setAll('Via', [serializeVia(via), ...vias.slice(1)]);
      }
    }
  }
  const contacts = message.headers.getAll('Contact');
  if (contacts.length === 0) return;
  let changed = false;
  const rewritten = contacts.map((value) => {
    if (value.trim() === '*') return value;
    let contact;
    try {
      contact = parseNameAddr(value, 'Contact');
    } catch {
      return value; // several contacts in one value (a registrar's list): never ours
    }
    if (!isSipUri(contact.uri) || contact.uri.host.toLowerCase() !== wanted) return value;
    contact.uri.host = to;
    changed = true;
    return serializeNameAddr(contact);
  });
  if (changed) message.headers.setAll('Contact', rewritten);
}
