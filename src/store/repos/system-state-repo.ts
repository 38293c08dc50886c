import type { Db } from '../db.js';

/** Facts about this installation, e.g. whether first-start set-up ran. */
export class SystemStateRepo {
  constructor(private readonly db: Db) {}

  async get(key: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('system_state').select('value').where('key', '=', key).executeTakeFirst();
    return row?.value;
  }

  /**
   * The value under `key`, created from `make()` if absent. Insert-if-absent then
   * read: when several nodes start at once, all of them end up with the one value
   * that was written first (a shared secret every node derives keys from).
   */
  async getOrCreate(key: string, make: () => string): Promise<string> {
    await this.db.insertInto('system_state').values({ key, value: make() })
      .onConflict((oc) => oc.column('key').doNothing()).execute();
    const value = await this.get(key);
    if (value === undefined) throw new Error(`system_state ${key}: missing right after insert-if-absent`);
    return value;
  }

  async set(key: string, value: string): Promise<void> {
    await this.db.insertInto('system_state').values({ key, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
  }
}
