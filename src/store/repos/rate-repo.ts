import type { Db, RatesTable } from '../db.js';
import { newId } from '../../shared/ids.js';
import type { ReadCache } from '../read-cache.js';
import { runInTransaction } from './run-in-transaction.js';

export type RateCategory = RatesTable['category'];

export interface Rate {
  category: RateCategory;
  prefix: string;
  description: string;
  ratePerMinuteCents: number;
}

export class RateRepo {
  constructor(private readonly db: Db, private readonly cache: ReadCache) {}

  async list(): Promise<Rate[]> {
    const rows = await this.db.selectFrom('rates').selectAll().orderBy('category', 'asc').orderBy('prefix', 'asc').execute();
    return rows.map(toRate);
  }

  async count(): Promise<number> {
    const row = await this.db.selectFrom('rates').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Replaces the whole rate table (the admin `PUT /v1/admin/rates`). */
  async replaceAll(rates: Rate[], now: Date): Promise<void> {
    this.cache.drop('rates:');
    await runInTransaction(this.db, async (tx) => {
      await tx.deleteFrom('rates').execute();
      for (const rate of rates) {
        await tx.insertInto('rates').values({
          id: newId('rate'), category: rate.category, prefix: rate.prefix, description: rate.description,
          rate_cents_per_minute: rate.ratePerMinuteCents, updated_at: now.toISOString(),
        }).execute();
      }
    });
    this.cache.drop('rates:');
  }

  /** Every rate of the category whose prefix starts `destination`, longest first. */
  async candidates(category: RateCategory, destination: string): Promise<Rate[]> {
    const rows = await this.cache.get(this.db, `rates:${category}`, async () =>
      (await this.db.selectFrom('rates').selectAll().where('category', '=', category).execute()).map(toRate));
    return rows.filter((r) => destination.startsWith(r.prefix)).sort((a, b) => b.prefix.length - a.prefix.length);
  }
}

function toRate(row: RatesTable): Rate {
  return { category: row.category, prefix: row.prefix, description: row.description, ratePerMinuteCents: Number(row.rate_cents_per_minute) };
}
