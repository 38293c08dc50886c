import { BlockList, isIP } from 'node:net';
import type { Store } from '../store/store.js';
import type { Trunk } from '../store/repos/trunk-repo.js';

/**
 * Which trunk an INVITE comes from (SPEC §11, §13): the first trunk (by
 * name) whose `inbound_addresses` hold the source address, else the
 * registered trunk whose registrar is at that address (`registeredAt`).
 * The address lists are rebuilt only when the cached trunk list changes.
 */
export class InboundTrunks {
  #built: { trunks: readonly Trunk[]; lists: Array<{ trunk: Trunk; list: BlockList }> } | undefined;

  constructor(
    private readonly store: Store,
    private readonly registeredAt: (address: string) => Trunk | undefined = () => undefined,
  ) {}

  async match(address: string): Promise<Trunk | undefined> {
    const trunks = await this.store.trunks.listCached();
    const lists = this.#built?.trunks === trunks ? this.#built.lists : this.#build(trunks);
    const bare = address.replace(/^::ffff:/, '');
    const type = isIP(bare) === 6 ? 'ipv6' : 'ipv4';
    return lists.find(({ list }) => list.check(bare, type))?.trunk ?? this.registeredAt(bare);
  }

  #build(trunks: readonly Trunk[]): Array<{ trunk: Trunk; list: BlockList }> {
    const lists = trunks.map((trunk) => {
      const list = new BlockList();
      for (const entry of trunk.inboundAddresses) {
        const [net, bits] = entry.split('/');
        const type = isIP(net!) === 6 ? 'ipv6' : 'ipv4';
        if (bits === undefined) list.addAddress(net!, type);
        else list.addSubnet(net!, Number(bits), type);
      }
      return { trunk, list };
    });
    this.#built = { trunks, lists };
    return lists;
  }
}
