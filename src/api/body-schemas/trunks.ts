import { aliased, body, integer, nullableText, oneOfValues, requiredText, text, texts, type Infer } from './body-schema.js';

/**
 * Bodies of `/v1/admin/trunks`: POST needs a name and a host, PATCH changes
 * only the fields sent. Host names, prefixes and addresses are checked by
 * the route.
 */
const trunkFields = (create: boolean) => ({
  name: create ? requiredText('Unique name', { maxLength: 100 }) : text('Unique name', { maxLength: 100 }),
  host: create ? requiredText('Carrier SIP host name or IP address', { maxLength: 253 }) : text('Carrier SIP host name or IP address', { maxLength: 253 }),
  port: integer('SIP port', { min: 1, max: 65_535 }, create ? 5060 : undefined),
  transport: oneOfValues(['udp', 'tcp'], 'SIP transport', { ...(create ? { default: 'udp' } : {}), message: 'transport must be udp or tcp' }),
  username: nullableText('Digest user name (needs password)', { maxLength: 100 }),
  password: nullableText('Digest password; never shown again', { maxLength: 200 }),
  prefixes: texts('E.164 prefixes routed to this trunk (longest match wins)', { maxItems: 1000, ...(create ? { default: [] } : {}) }),
  ...aliased('inbound_addresses', ['inboundAddresses'], texts('IP addresses or CIDR ranges whose INVITEs are inbound calls', { maxItems: 1000, ...(create ? { default: [] } : {}) })),
});

export const createTrunkBody = body(trunkFields(true), ['name', 'host']);
export type CreateTrunkBody = Infer<typeof createTrunkBody>;

export const updateTrunkBody = body(trunkFields(false));
export type UpdateTrunkBody = Infer<typeof updateTrunkBody>;
