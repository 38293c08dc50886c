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

/**
 * What kind of leg a call is: inbound legs are rated as `inbound` by the
 * number called, except a call placed by a softphone (`from` a `sip:`
 * address, SPEC §13), which is a SIP leg; others by destination.
 */
export function categoryOfLeg(leg: { direction: 'inbound' | 'outbound'; to: string; from?: string }): RateCategory {
  if (leg.direction === 'inbound') return leg.from !== undefined && /^sips?:/i.test(leg.from) ? 'sip' : 'inbound';
  return categoryOfDestination(leg.to);
}

/** The rate a call leg is billed at (SPEC §10): the one rule for the funds check, the spend guard and the charge. */
export function rateOfLeg(rates: Pick<RateRepo, 'candidates'>, leg: { direction: 'inbound' | 'outbound'; to: string; from?: string }): Promise<RateQuote | undefined> {
  return lookupRate(rates, categoryOfLeg(leg), leg.to);
}
