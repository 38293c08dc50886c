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

/** A list of addresses and ranges already checked with `isAddressOrCidr`. */
export function addressList(entries: Iterable<string>): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [net, bits] = entry.split('/');
    const type = isIP(net!) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(net!, type);
    else list.addSubnet(net!, Number(bits), type);
  }
  return list;
}

/** Whether `address` (an IP; an IPv4-mapped IPv6 address counts as its IPv4) is in `list`. */
export function listHas(list: BlockList, address: string): boolean {
  const bare = address.replace(/^\[(.*)\]$/, '$1').replace(/^::ffff:(?=\d+\.)/i, '');
  const family = isIP(bare);
  if (family === 0) return false;
  return list.check(bare, family === 6 ? 'ipv6' : 'ipv4');
}
