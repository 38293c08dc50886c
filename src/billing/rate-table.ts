import type { RateCategory, Rate, RateRepo } from '../store/repos/rate-repo.js';

export interface RateQuote {
  category: RateCategory;
  prefix: string;
  description: string;
  ratePerMinuteCents: number;
}

/** What kind of leg a destination makes: `sip:` URIs are SIP legs, E.164 numbers outbound legs. */
export function categoryOfDestination(destination: string): RateCategory {
  return /^sips?:/i.test(destination) ? 'sip' : 'outbound';
}

/** The longest-prefix rate of the category for the destination (SIP and recording rates use the empty prefix). */
export async function lookupRate(rates: Pick<RateRepo, 'candidates'>, category: RateCategory, destination: string): Promise<RateQuote | undefined> {
  const key = category === 'sip' || category === 'recording' ? '' : destination;
  const best: Rate | undefined = (await rates.candidates(category, key))[0];
  return best ? { category, prefix: best.prefix, description: best.description, ratePerMinuteCents: best.ratePerMinuteCents } : undefined;
}
