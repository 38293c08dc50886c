/**
 * IP addresses and CIDR ranges as operators write them (`203.0.113.7`,
 * `10.0.0.0/8`, `fd00::/8`): checked once at the boundary, then matched
 * through a `net.BlockList`.
 */
import { BlockList, isIP } from 'node:net';

/** True for an IPv4/IPv6 address, or one with a prefix length that fits its family. */
export function isAddressOrCidr(value: string): boolean {
  const [address, bits, extra] = value.split('/');
  if (extra !== undefined || !address) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/** Answers an `AddressList` keeps before it forgets them all (a scan from many sources cannot grow it without bound). */
const maxAnswers = 4096;

/**
 * A fixed list of addresses and ranges. `BlockList.check` builds a
 * `SocketAddress` on every call (about 3 µs), and a call asks about the same
 * one or two peers twenty times (every Via, Contact and SDP it builds, and
 * the trunk match): the list cannot change once built, so each answer is kept.
 */
export class AddressList {
  readonly #list = new BlockList();
  readonly #answers = new Map<string, boolean>();

  /** `entries` already checked with `isAddressOrCidr`. */
  constructor(entries: Iterable<string>) {
    for (const entry of entries) {
      const [net, bits] = entry.split('/');
      const type = isIP(net!) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.#list.addAddress(net!, type);
      else this.#list.addSubnet(net!, Number(bits), type);
    }
  }

  /** Whether `address` (an IP; an IPv4-mapped IPv6 address counts as its IPv4; anything else is not in it) is in the list. */
  has(address: string): boolean {
    let answer = this.#answers.get(address);
    if (answer === undefined) {
      const bare = address.replace(/^\[(.*)\]$/, '$1').replace(/^::ffff:(?=\d+\.)/i, '');
      const family = isIP(bare);
      answer = family !== 0 && this.#list.check(bare, family === 6 ? 'ipv6' : 'ipv4');
      if (this.#answers.size >= maxAnswers) this.#answers.clear();
      this.#answers.set(address, answer);
    }
    return answer;
  }
}

/** A list of addresses and ranges already checked with `isAddressOrCidr`. */
export function addressList(entries: Iterable<string>): AddressList {
  return new AddressList(entries);
}

/** Whether `address` (an IP; an IPv4-mapped IPv6 address counts as its IPv4) is in `list`. */
export function listHas(list: AddressList, address: string): boolean {
  return list.has(address);
}
