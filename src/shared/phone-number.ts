/**
 * E.164 numbers at the boundary: `+` then 8 to 15 digits, the first not 0.
 * Users paste numbers with spaces, dashes or without the `+`; those are
 * normalised, anything else is refused.
 */
export function parseE164(input: string): string | undefined {
  const compact = input.trim().replace(/[\s\-().]/g, '');
  const withPlus = compact.startsWith('+') ? compact : /^\d+$/.test(compact) ? `+${compact}` : compact;
  return /^\+[1-9]\d{7,14}$/.test(withPlus) ? withPlus : undefined;
}

/**
 * A number as carriers and phones send it in an INVITE, in E.164 (SPEC §13):
 * `+254712…` as is, `00254712…` (international prefix), `254712…` (country
 * code without `+`), `0712…` (national, with the trunk 0) and `712…` (the
 * national number alone, at most 9 digits in Kenya's plan) all become
 * `+254712…` for `countryCode` 254. Anything else is refused.
 */
export function normaliseDialledNumber(input: string, countryCode = '254'): string | undefined {
  const compact = input.trim().replace(/[\s\-().]/g, '');
  if (compact.startsWith('+')) return parseE164(compact);
  if (!/^\d+$/.test(compact)) return undefined;
  if (compact.startsWith('00')) return parseE164(compact.slice(2));
  if (compact.startsWith('0')) return parseE164(`${countryCode}${compact.slice(1)}`);
  if (compact.startsWith(countryCode) && compact.length > countryCode.length + 7) return parseE164(compact);
  if (compact.length <= 9) return parseE164(`${countryCode}${compact}`);
  return parseE164(compact);
}

/** A prefix of an E.164 number: `+` then 0 to 15 digits. */
export function parseE164Prefix(input: string): string | undefined {
  const compact = input.trim().replace(/[\s-]/g, '');
  const withPlus = compact.startsWith('+') ? compact : /^\d+$/.test(compact) ? `+${compact}` : compact;
  return /^\+\d{0,15}$/.test(withPlus) ? withPlus : undefined;
}

/** `sip:` or `sips:` URIs as dial targets: `sip:user@host[:port][;params]`. */
export function parseSipTarget(input: string): { uri: string; user: string | undefined; host: string } | undefined {
  const m = /^(sips?):(?:([^@\s;]+)@)?([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?(;[^\s]*)?$/.exec(input.trim());
  if (!m) return undefined;
  return { uri: input.trim(), user: m[2], host: m[3]!.toLowerCase() };
}
