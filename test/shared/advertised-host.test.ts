import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { AdvertisedHost } from '../../src/shared/advertised-host.js';

/** A machine with loopback, a private LAN interface and a second one on another subnet. */
const interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = {
  lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' }],
  eth0: [{ address: '10.20.0.5', netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal: false, cidr: '10.20.0.5/24' }],
  eth1: [{ address: '192.168.7.9', netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:02', internal: false, cidr: '192.168.7.9/24' }],
};

describe('advertisedHost', () => {
  it('gives a carrier outside the NAT the external address and peers on this machine the local one', () => {
    const host = new AdvertisedHost({ bind: '0.0.0.0', external: '203.0.113.10', interfaces });
    expect(host.external).toBe('203.0.113.10');
    expect(host.forPeer('198.51.100.7')).toBe('203.0.113.10');
    // A private network outside is still outside: RFC 1918 is not "local" unless configured.
    expect(host.forPeer('10.20.0.77')).toBe('203.0.113.10');
    expect(host.forPeer('127.0.0.1')).toBe('127.0.0.1');
    expect(host.forPeer('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(host.forPeer('localhost')).toBe('127.0.0.1');
    // One of the machine's own addresses (the sandbox when bound to it) is this machine.
    expect(host.forPeer('192.168.7.9')).toBe('192.168.7.9');
    expect(host.forPeer('sip.carrier.example')).toBe('203.0.113.10');
  });

  it('gives peers in --local-networks the address of the interface facing them', () => {
    const host = new AdvertisedHost({ bind: '0.0.0.0', external: 'pbx.example.com', localNetworks: ['10.20.0.0/16', '172.16.0.0/12'], interfaces });
    expect(host.forPeer('10.20.0.77')).toBe('10.20.0.5');
    // In a local network but on no interface's subnet (routed): the first interface address.
    expect(host.forPeer('172.16.3.4')).toBe('10.20.0.5');
    expect(host.forPeer('8.8.8.8')).toBe('pbx.example.com');
    // SDP wants an IP: the name resolved at start, when given; the local choice is the same.
    const named = new AdvertisedHost({ bind: '0.0.0.0', external: 'pbx.example.com', externalMedia: '203.0.113.10', interfaces });
    expect(named.mediaForPeer('8.8.8.8')).toBe('203.0.113.10');
    expect(named.mediaForPeer('127.0.0.1')).toBe('127.0.0.1');
  });

  it('defaults to the bind address, or to the first non-loopback interface for a wildcard bind — never 127.0.0.1 unless bound there', () => {
    expect(new AdvertisedHost({ bind: '0.0.0.0', interfaces }).external).toBe('10.20.0.5');
    expect(new AdvertisedHost({ bind: '::', interfaces }).external).toBe('10.20.0.5');
    expect(new AdvertisedHost({ bind: '192.168.7.9', interfaces }).external).toBe('192.168.7.9');
    expect(new AdvertisedHost({ bind: '127.0.0.1', interfaces }).forPeer('198.51.100.7')).toBe('127.0.0.1');
    // Bound to a specific address, local peers get that address: it is the only one we listen on.
    expect(new AdvertisedHost({ bind: '192.168.7.9', external: '203.0.113.10', interfaces }).forPeer('127.0.0.1')).toBe('192.168.7.9');
  });
});
