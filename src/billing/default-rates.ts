import type { Rate } from '../store/repos/rate-repo.js';

/**
 * Rates shipped with a new installation, in KES cents per minute. Kenyan
 * mobile numbers are rated by operator prefix (Safaricom, Airtel, Telkom),
 * landlines by area code; everything is editable with PUT /v1/admin/rates.
 */
const outbound = (description: string, cents: number, prefixes: string[]): Rate[] =>
  prefixes.map((prefix) => ({ category: 'outbound', prefix, description, ratePerMinuteCents: cents }));

export const defaultRates: Rate[] = [
  ...outbound('Kenya mobile - Safaricom', 350, [
    '+25470', '+25471', '+25472', '+25474', '+254757', '+254758', '+254759', '+254768', '+254769', '+25479',
    '+254110', '+254111', '+254112', '+254113', '+254114', '+254115',
  ]),
  ...outbound('Kenya mobile - Airtel', 300, ['+25473', '+254750', '+254751', '+254752', '+254753', '+254754', '+254755', '+254756', '+254762', '+25478', '+254100', '+254101', '+254102']),
  ...outbound('Kenya mobile - Telkom', 300, ['+25477']),
  ...outbound('Kenya landline - Nairobi', 200, ['+25420']),
  ...outbound('Kenya landline - regional', 250, ['+2544', '+2545', '+2546']),
  ...outbound('Kenya toll-free', 0, ['+254800']),
  ...outbound('Kenya - other', 400, ['+254']),
  ...outbound('International - default', 2500, ['+']),
  { category: 'inbound', prefix: '', description: 'Inbound call', ratePerMinuteCents: 50 },
  { category: 'inbound', prefix: '+254800', description: 'Inbound call to a toll-free number', ratePerMinuteCents: 200 },
  { category: 'sip', prefix: '', description: 'SIP (softphone, PBX or SIP URI)', ratePerMinuteCents: 20 },
  { category: 'recording', prefix: '', description: 'Call recording', ratePerMinuteCents: 25 },
];
