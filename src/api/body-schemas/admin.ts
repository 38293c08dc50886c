import { errorMessageKeyword } from '../route-schemas.js';
import { aliased, amount, body, nullableText, object, oneOfValues, requiredText, schema, text, type Infer } from './body-schema.js';

/**
 * Bodies of the operator's routes (`/v1/admin/...`, trunks in trunks.ts).
 * Amounts, E.164 numbers and rate prefixes are parsed by the routes.
 */

export const createWorkspaceBody = body({ name: requiredText('Workspace name (at most 200 characters)', { maxLength: 200 }) }, ['name']);
export type CreateWorkspaceBody = Infer<typeof createWorkspaceBody>;

const creditMessage = 'amount must be a positive amount of KES such as "500.00"';
export const creditBody = body({
  amount: amount('Positive amount; KES, two decimals', creditMessage),
  reference: text('Your reference (payment id)', { maxLength: 200 }),
}, ['amount']);
export type CreditBody = Infer<typeof creditBody>;

const numberKinds = ['mobile', 'landline', 'tollfree'] as const;
const numbersMessage = 'numbers must be a non-empty array of E.164 numbers (at most 10000)';
export const inventoryBody = body({
  numbers: schema({
    type: 'array', minItems: 1, maxItems: 10_000, description: 'E.164 numbers, or `{number, type}` objects',
    items: {
      type: ['string', 'object'], [errorMessageKeyword]: '{name} is not an E.164 number',
      properties: {
        number: { type: 'string', description: 'E.164', [errorMessageKeyword]: '{name} is not an E.164 number' },
        type: oneOfValues(numberKinds, 'Kind'),
      },
    },
    [errorMessageKeyword]: numbersMessage,
  }),
  ...aliased('type', ['kind'], oneOfValues(numberKinds, 'Kind of the numbers given as strings', { default: 'mobile' })),
}, ['numbers']);
export type InventoryBody = Infer<typeof inventoryBody>;

const rateCategories = ['outbound', 'inbound', 'sip', 'recording'] as const;
const rateMessage = '{name} must be an amount like "3.50"';
const rate = object({
  category: oneOfValues(rateCategories, 'Rate category', { default: 'outbound' }),
  prefix: nullableText('E.164 prefix for outbound/inbound; empty for sip and recording'),
  description: nullableText('Label (at most 200 characters are kept)'),
  ...aliased('rate_per_minute', ['ratePerMinute'], amount('Per minute, charged per second; KES, two decimals', rateMessage)),
  // GET /v1/admin/rates shows it: a table read, edited and sent back is taken as it is.
  currency: oneOfValues(['KES'], 'Always `KES`', { message: '{name} must be KES' }),
}, [], {
  // One of the two spellings must be there.
  anyOf: [{ required: ['rate_per_minute'] }, { required: ['ratePerMinute'] }],
});

/** The whole rate table; a bare array is taken too (the route wraps it, see `wrapBareRates`). */
export const ratesBody = body({
  rates: schema({
    type: 'array', maxItems: 10_000, items: rate, description: 'The new table',
    [errorMessageKeyword]: { maxItems: '{name} has too many items', _: 'send an array of rates (or {"rates":[…]})' },
  }),
}, ['rates'], { [errorMessageKeyword]: { type: 'send an array of rates (or {"rates":[…]})' } });
export type RatesBody = Infer<typeof ratesBody>;
