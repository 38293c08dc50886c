import { addressList, listHas, type AddressList } from '../shared/address-list.js';
import type { Store } from '../store/store.js';
import type { Trunk } from '../store/repos/trunk-repo.js';

/**
 * Which trunk an INVITE comes from (SPEC §11, §13): the first trunk (by
 * name) whose `inbound_addresses` hold the source address, else the
 * registered trunk whose registrar is at that address (`registeredAt`).
 * The address lists are rebuilt only when the cached trunk list changes.
 */
export class InboundTrunks {
  #built: { trunks: readonly Trunk[]; lists: Array<{ trunk: Trunk; list: AddressList }> } | undefined;

  constructor(
    private readonly store: Store,
    private readonly registeredAt: (address: string) => Trunk | undefined = () => undefined,
  ) {}

  async match(address: string): Promise<Trunk | undefined> {
    const trunks = await this.store.trunks.listCached();
    const lists = this.#built?.trunks === trunks ? this.#built.lists : this.#build(trunks);
    return lists.find(({ list }) => listHas(list, address))?.trunk ?? this.registeredAt(address.replace(/^::ffff:/, ''));
  }

  #build(trunks: readonly Trunk[]): Array<{ trunk: Trunk; list: AddressList }> {
    const lists = trunks.map((trunk) => ({ trunk, list: addressList(trunk.inboundAddresses) }));
    this.#built = { trunks, lists };
    return lists;
  }
}
