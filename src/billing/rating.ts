/**
 * Per-second rating (SPEC §10): a leg's billable seconds are its answered time
 * rounded up to a whole second, and its price is
 * ceil(duration_seconds × rate_per_minute / 60) in whole cents.
 */

/** Whole billable seconds between answer and end, rounded up; 0 when never answered. */
export function billableSeconds(answeredAt: Date | null, endedAt: Date): number {
  if (!answeredAt) return 0;
  const ms = endedAt.getTime() - answeredAt.getTime();
  return ms <= 0 ? 0 : Math.ceil(ms / 1000);
}

/** Price in cents of `seconds` at `ratePerMinuteCents`, rounded up to the cent. Integer maths only. */
export function priceCents(seconds: number, ratePerMinuteCents: number): number {
  if (!Number.isSafeInteger(seconds) || seconds < 0) throw new RangeError(`seconds must be a non-negative integer, got ${seconds}`);
  if (!Number.isSafeInteger(ratePerMinuteCents) || ratePerMinuteCents < 0) throw new RangeError(`rate must be non-negative integer cents, got ${ratePerMinuteCents}`);
  const product = seconds * ratePerMinuteCents;
  return Math.floor((product + 59) / 60);
}

/** Cents as the API's money string: 1250 → "12.50", -5 → "-0.05". */
export function formatCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** Parses a money amount ("12.50", "12", 12.5) into cents; undefined when it is not one. */
export function parseAmountToCents(value: unknown): number | undefined {
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : typeof value === 'string' ? value.trim() : '';
  const m = /^(-?)(\d{1,12})(?:\.(\d{1,2}))?$/.exec(text);
  if (!m) return undefined;
  const cents = Number(m[2]) * 100 + Number((m[3] ?? '0').padEnd(2, '0'));
  return m[1] === '-' ? -cents : cents;
}
