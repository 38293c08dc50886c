/**
 * SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966) plus any other absolute
 * URI kept opaque (RFC 3261 §25.1 absoluteURI) so that an unknown scheme can
 * be parsed and answered 416 instead of 400 (RFC 4475 §3.3.2).
 */
import { SipParseError } from './parse-error.js';
import type { Params } from './grammar.js';

export interface SipUri {
  readonly scheme: 'sip' | 'sips';
  /** User part as on the wire (escapes kept); use `unescapeUriPart` to compare. */
  user: string | undefined;
  password: string | undefined;
  /** Host name, IPv4 address, or IPv6 reference with brackets (`[::1]`). */
  host: string;
  port: number | undefined;
  /** URI parameters, lower-cased names (RFC 3261 §19.1.4: compared case-insensitively). */
  params: Params;
  /** Header components `?name=value&...` in wire form. */
  headers: Array<[string, string]>;
}

export interface TelUri {
  readonly scheme: 'tel';
  number: string;
  params: Params;
}

export interface OtherUri {
  readonly scheme: string;
  /** Everything after `scheme:`. */
  opaque: string;
}

export type Uri = SipUri | TelUri | OtherUri;

export function isSipUri(uri: Uri): uri is SipUri {
  return uri.scheme === 'sip' || uri.scheme === 'sips';
}

export function isTelUri(uri: Uri): uri is TelUri {
  return uri.scheme === 'tel';
}

const SCHEME_RE = /^[A-Za-z][A-Za-z0-9+\-.]*$/;
// RFC 3261 §25.1 user = 1*( unreserved / escaped / user-unreserved )
const USER_RE = /^(?:[A-Za-z0-9\-_.!~*'()&=+$,;?/]|%[0-9A-Fa-f]{2})+$/;
const PASSWORD_RE = /^(?:[A-Za-z0-9\-_.!~*'()&=+$,]|%[0-9A-Fa-f]{2})*$/;
const HOSTNAME_RE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.?$/;
const IPV4_RE = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const IPV6REF_RE = /^\[[0-9A-Fa-f:.]+\]$/;
// paramchar = param-unreserved / unreserved / escaped
const PARAMCHARS_RE = /^(?:[A-Za-z0-9\-_.!~*'()[\]/:&+$]|%[0-9A-Fa-f]{2})+$/;
const HCHARS_RE = /^(?:[A-Za-z0-9\-_.!~*'()[\]/?:+$]|%[0-9A-Fa-f]{2})*$/;
// Opaque parts of other schemes: no whitespace, no brackets, no controls.
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be refused
const OPAQUE_RE = /^[^\s<>"\x00-\x1f\x7f]+$/;

function bad(text: string, detail: string): never {
  throw new SipParseError('bad-uri', `invalid URI '${text.slice(0, 80)}': ${detail}`);
}

/** Validates a host (hostname / IPv4address / IPv6reference). */
export function isValidHost(host: string): boolean {
  if (IPV4_RE.test(host)) return host.split('.').every((o) => Number(o) <= 255);
  if (IPV6REF_RE.test(host)) return true;
  return HOSTNAME_RE.test(host);
}

function parseUriParams(text: string, whole: string): Params {
  const params: Params = new Map();
  if (text === '') return params;
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? null : part.slice(eq + 1);
    if (!PARAMCHARS_RE.test(name)) bad(whole, `bad parameter name '${name}'`);
    if (value !== null && !PARAMCHARS_RE.test(value)) bad(whole, `bad value for parameter '${name}'`);
    if (params.has(name)) bad(whole, `duplicate parameter '${name}'`);
    params.set(name, value);
  }
  return params;
}

function parseSipUri(scheme: 'sip' | 'sips', rest: string, whole: string): SipUri {
  let userinfo: string | undefined;
  let hostpart = rest;
  // '@' never appears unescaped outside userinfo (params and headers exclude it).
  const at = rest.indexOf('@');
  if (at >= 0) {
    userinfo = rest.slice(0, at);
    hostpart = rest.slice(at + 1);
  }
  let user: string | undefined;
  let password: string | undefined;
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    user = colon < 0 ? userinfo : userinfo.slice(0, colon);
    password = colon < 0 ? undefined : userinfo.slice(colon + 1);
    if (!USER_RE.test(user)) bad(whole, 'bad user part');
    if (password !== undefined && !PASSWORD_RE.test(password)) bad(whole, 'bad password');
  }
  let headersText = '';
  const q = hostpart.indexOf('?');
  if (q >= 0) {
    headersText = hostpart.slice(q + 1);
    hostpart = hostpart.slice(0, q);
  }
  const semi = hostpart.indexOf(';');
  const paramsText = semi < 0 ? '' : hostpart.slice(semi + 1);
  if (semi >= 0) hostpart = hostpart.slice(0, semi);
  let host = hostpart;
  let port: number | undefined;
  const portMatch = /^(.*?):(\d+)$/.exec(hostpart);
  if (portMatch && !hostpart.endsWith(']')) {
    host = portMatch[1]!;
    port = Number(portMatch[2]);
    if (port > 65535) bad(whole, 'port out of range');
  }
  if (!isValidHost(host)) bad(whole, 'bad host');
  const headers: Array<[string, string]> = [];
  if (q >= 0) {
    for (const h of headersText.split('&')) {
      const eq = h.indexOf('=');
      if (eq <= 0) bad(whole, 'bad header component');
      const name = h.slice(0, eq);
      const value = h.slice(eq + 1);
      if (!HCHARS_RE.test(name) || !HCHARS_RE.test(value)) bad(whole, 'bad header component');
      headers.push([name, value]);
    }
  }
  return { scheme, user, password, host: host.toLowerCase(), port, params: parseUriParams(paramsText, whole), headers };
}

/** Parses an absolute URI. Throws `SipParseError('bad-uri')`. */
export function parseUri(text: string): Uri {
  const colon = text.indexOf(':');
  if (colon <= 0) bad(text, 'no scheme');
  const scheme = text.slice(0, colon).toLowerCase();
  if (!SCHEME_RE.test(scheme)) bad(text, 'bad scheme');
  const rest = text.slice(colon + 1);
  if (/[\s<>"]/.test(rest) || rest === '') bad(text, 'whitespace or brackets inside the URI');
  if (scheme === 'sip' || scheme === 'sips') return parseSipUri(scheme, rest, text);
  if (scheme === 'tel') {
    const [number = '', ...params] = rest.split(';');
    if (!/^[0-9A-Fa-f*#+\-.()pw]+$/.test(number)) bad(text, 'bad telephone number');
    return { scheme, number, params: parseUriParams(params.join(';'), text) };
  }
  if (!OPAQUE_RE.test(rest)) bad(text, 'bad characters');
  return { scheme, opaque: rest };
}

export function serializeUri(uri: Uri): string {
  if (isSipUri(uri)) {
    let out = `${uri.scheme}:`;
    if (uri.user !== undefined) out += uri.password !== undefined ? `${uri.user}:${uri.password}@` : `${uri.user}@`;
    out += uri.host;
    if (uri.port !== undefined) out += `:${uri.port}`;
    for (const [name, value] of uri.params) out += value === null ? `;${name}` : `;${name}=${value}`;
    if (uri.headers.length > 0) out += `?${uri.headers.map(([n, v]) => `${n}=${v}`).join('&')}`;
    return out;
  }
  if (isTelUri(uri)) {
    let out = `tel:${uri.number}`;
    for (const [name, value] of uri.params) out += value === null ? `;${name}` : `;${name}=${value}`;
    return out;
  }
  return `${uri.scheme}:${(uri as OtherUri).opaque}`;
}

/** Decodes %HH escapes (RFC 3261 §19.1.4: escaped and unescaped forms are equivalent). */
export function unescapeUriPart(value: string): string {
  return value.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** A copy that can be mutated without touching the original. */
export function cloneUri<T extends Uri>(uri: T): T {
  if (isSipUri(uri)) return { ...uri, params: new Map(uri.params), headers: uri.headers.map(([n, v]) => [n, v]) } as T;
  if (isTelUri(uri)) return { ...uri, params: new Map(uri.params) } as T;
  return { ...uri };
}

/** Address-of-record form used as a registrar key: `sip:user@host` (RFC 3261 §10.3 step 5). */
export function aorOf(uri: Uri): string {
  if (isSipUri(uri)) {
    const user = uri.user === undefined ? '' : `${unescapeUriPart(uri.user)}@`;
    return `${uri.scheme}:${user}${uri.host}`;
  }
  return serializeUri(uri).toLowerCase();
}
