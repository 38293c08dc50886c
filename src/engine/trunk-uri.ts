import { isIP } from 'node:net';
import type { Trunk } from '../store/repos/trunk-repo.js';

/** A host for a SIP URI: IPv6 literals in brackets. */
export function hostPart(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** `sip:[user@]host:port[;transport=tcp|tls]` of a trunk: where its REGISTERs, pings and calls go. */
export function trunkUri(trunk: Pick<Trunk, 'host' | 'port' | 'transport'>, user?: string): string {
  return `sip:${user !== undefined ? `${user}@` : ''}${hostPart(trunk.host)}:${trunk.port}${trunk.transport === 'udp' ? '' : `;transport=${trunk.transport}`}`;
}
