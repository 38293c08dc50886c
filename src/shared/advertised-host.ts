/**
 * Which of our addresses a peer is told to use (SPEC §13): the address in
 * Via, Contact and the SDP `o=`/`c=` lines of the messages that peer gets.
 *
 * Behind NAT the server has two addresses: the local one it binds, and the
 * external one the NAT maps to it (`--external-address`). A carrier out on
 * the Internet must be given the external one; a peer on this machine (the
 * sandbox carrier, a test's SIPp, a local proxy) the local one, because a
 * NAT rarely "hairpins" traffic from inside back in. So the choice is made
 * per peer: peers on this machine (loopback or one of its own addresses) and
 * in `--local-networks` get the local address, everybody else the external one.
 *
 * Without `--external-address` the external address is the bind address; for
 * a wildcard bind (`0.0.0.0`/`::`) the first non-loopback interface address.
 * 127.0.0.1 is only advertised to others when it is the bind address (or the
 * machine has no other interface at all).
 */
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { addressList, listHas, type AddressList } from './address-list.js';

export interface AdvertisedHostOptions {
  /** The bind address of SIP and RTP (`--host`). */
  bind: string;
  /** `--external-address`: an IP or a host name. Default: see the module comment. */
  external?: string | undefined;
  /**
   * The external address as an IP, for SDP `c=`/`o=` (many carriers refuse a
   * host name there): `external` resolved once at start. Default `external`.
   */
  externalMedia?: string | undefined;
  /** CIDR ranges (already validated) whose peers get the local address. Default loopback only. */
  localNetworks?: readonly string[] | undefined;
  /** The machine's interfaces (tests). Default `os.networkInterfaces()`. */
  interfaces?: NodeJS.Dict<NetworkInterfaceInfo[]>;
}

/** Loopback ranges: always local, whatever `--local-networks` adds. */
export const loopbackNetworks = ['127.0.0.0/8', '::1/128'] as const;

export function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

export class AdvertisedHost {
  /** What peers outside the local networks get (bare, no IPv6 brackets). */
  readonly external: string;
  /** The same for SDP: an IP address. */
  readonly externalMedia: string;
  readonly #bind: string;
  readonly #local;
  /** Non-loopback interfaces with their networks, to find the one facing a local peer. */
  readonly #interfaces: Array<{ info: NetworkInterfaceInfo; network: AddressList }>;

  constructor(options: AdvertisedHostOptions) {
    this.#bind = options.bind;
    this.#interfaces = Object.values(options.interfaces ?? networkInterfaces())
      .flatMap((list) => list ?? [])
      .filter((info) => !info.internal)
      .map((info) => ({ info, network: addressList([networkOf(info)]) }));
    // A peer at one of this machine's own addresses (the sandbox on a specific bind address) is local too.
    const own = this.#interfaces.map((entry) => entry.info.address.replace(/%.*$/, ''));
    this.#local = addressList([...loopbackNetworks, ...own, ...(options.localNetworks ?? [])]);
    this.external = options.external ?? (isWildcard(options.bind) ? this.#firstInterface() : options.bind);
    this.externalMedia = options.externalMedia ?? this.external;
  }

  /** The address to advertise to `peer` (an IP address or a host name, as the next hop is known) in SIP: Via, Contact. */
  forPeer(peer: string): string {
    const bare = bareAddress(peer);
    return this.#isLocal(bare) ? this.localFor(bare) : this.external;
  }

  /** The same choice for the SDP `c=`/`o=` lines that peer gets: always an IP address. */
  mediaForPeer(peer: string): string {
    const bare = bareAddress(peer);
    return this.#isLocal(bare) ? this.localFor(bare) : this.externalMedia;
  }

  #isLocal(bare: string): boolean {
    return bare.toLowerCase() === 'localhost' || listHas(this.#local, bare);
  }

  /** The local address a peer on a local network reaches us at: the bind address, or for a wildcard bind the interface facing it. */
  localFor(peer: string): string {
    if (!isWildcard(this.#bind)) return this.#bind;
    if (peer.toLowerCase() === 'localhost' || peer.startsWith('127.')) return '127.0.0.1';
    if (peer === '::1') return '::1';
    const facing = this.#interfaces.find((entry) => listHas(entry.network, peer));
    return facing?.info.address ?? this.#firstInterface();
  }

  #firstInterface(): string {
    return this.#interfaces.find((entry) => entry.info.family === 'IPv4')?.info.address ?? '127.0.0.1';
  }
}

function bareAddress(peer: string): string {
  return peer.replace(/^\[(.*)\]$/, '$1').replace(/^::ffff:(?=\d+\.)/i, '');
}

/** The interface's network as CIDR (`cidr` is null only on odd netmasks; then the address alone). */
function networkOf(info: NetworkInterfaceInfo): string {
  return info.cidr ?? `${info.address}/${info.family === 'IPv4' ? 32 : 128}`;
}
