import { aliased, body, boolean, integer, nullableText, oneOfValues, requiredText, text, texts, type Infer } from './body-schema.js';

/** The fields of SPEC §13's carrier trunks; absent ones keep the stored value (or the repository's default). */
const carrierFields = {
  priority: integer('Order among trunks of one prefix: lower first, ties by name; the next is tried on 5xx, 408 or no answer within `answer_timeout`', { min: 0, max: 1000 }),
  ...aliased('answer_timeout', ['answerTimeout'], integer('Seconds the trunk has to answer an INVITE (any provisional, 100 Trying included) before the next trunk is tried, and an OPTIONS ping before it is `down` (default 5)', { min: 1, max: 30 })),
  register: boolean('Send REGISTER to `host` with digest (`username`, `password`), refreshed before expiry, retried with back-off (30 s doubling to 10 min); needs `username`'),
  ...aliased('auth_username', ['authUsername'], nullableText('Digest user name when it differs from `username` (the user registered)', { maxLength: 100 })),
  realm: nullableText('Only answer digest challenges of this realm; any realm when null', { maxLength: 253 }),
  // RFC 3261 §10.2.1.1 leaves the lifetime to the parties; below 60 s refreshes would flood a carrier, above a day no carrier grants.
  ...aliased('register_expires', ['registerExpires'], integer('Lifetime asked for in REGISTER, in seconds (the registrar may grant less; default 3600)', { min: 60, max: 86_400 })),
  ...aliased('options_ping', ['optionsPing'], integer('Seconds between OPTIONS pings; 0 = off (default 30). A trunk whose ping goes unanswered is `down` and skipped while another trunk matches', { min: 0, max: 3600 })),
  ...aliased('country_code', ['countryCode'], text('Country calling code for numbers this trunk sends without it (`0712…`, `712…` → `+254712…`; default 254)', { maxLength: 4 })),
  ...aliased('number_format', ['numberFormat'], oneOfValues(['e164', 'international', 'national'], 'Dialled number in the Request-URI and To: `e164` (`+254712…`), `international` (`254712…`), `national` (`0712…` for numbers of `country_code`)', { message: '{name} must be e164, international or national' })),
  ...aliased('tech_prefix', ['techPrefix'], nullableText('Digits put before the dialled number (digits, letters, `*`, `#`)', { maxLength: 32 })),
  ...aliased('from_domain', ['fromDomain'], nullableText('Host of the From URI towards this trunk; default our SIP address', { maxLength: 253 })),
  ...aliased('send_pai', ['sendPai'], boolean('Add P-Asserted-Identity with the caller ID (RFC 3325)')),
  srtp: oneOfValues(['off', 'optional', 'mandatory'], 'SRTP (SDES, AES_CM_128_HMAC_SHA1_80) on calls with this trunk: `off` (default), `optional` (keys offered in RTP/AVP, used when answered), `mandatory` (RTP/SAVP only). Keys travel only over `tls`', { message: 'srtp must be off, optional or mandatory' }),
};

/**
 * Bodies of `/v1/admin/trunks`: POST needs a name and a host, PATCH changes
 * only the fields sent. Host names, prefixes and addresses are checked by
 * the route.
 */
const trunkFields = (create: boolean) => ({
  name: create ? requiredText('Unique name', { maxLength: 100 }) : text('Unique name', { maxLength: 100 }),
  host: create ? requiredText('Carrier SIP host name or IP address', { maxLength: 253 }) : text('Carrier SIP host name or IP address', { maxLength: 253 }),
  port: integer('SIP port (default 5060, 5061 with `tls`)', { min: 1, max: 65_535 }),
  transport: oneOfValues(['udp', 'tcp', 'tls'], 'SIP transport; `tls` verifies the carrier\'s certificate against the system CAs and `--tls-ca`', { ...(create ? { default: 'udp' } : {}), message: 'transport must be udp, tcp or tls' }),
  username: nullableText('Digest user name (needs password)', { maxLength: 100 }),
  password: nullableText('Digest password; never shown again', { maxLength: 200 }),
  prefixes: texts('E.164 prefixes routed to this trunk (longest match wins)', { maxItems: 1000, ...(create ? { default: [] } : {}) }),
  ...aliased('inbound_addresses', ['inboundAddresses'], texts('IP addresses or CIDR ranges whose INVITEs are inbound calls', { maxItems: 1000, ...(create ? { default: [] } : {}) })),
  ...carrierFields,
});


export const createTrunkBody = body(trunkFields(true), ['name', 'host']);
export type CreateTrunkBody = Infer<typeof createTrunkBody>;

export const updateTrunkBody = body(trunkFields(false));
export type UpdateTrunkBody = Infer<typeof updateTrunkBody>;
