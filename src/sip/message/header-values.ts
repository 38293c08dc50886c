/**
 * Parsers for the scalar header values the stack relies on. Each throws a
 * typed `SipParseError` (400) naming the header.
 */
import { isToken, splitList, Scanner } from './grammar.js';
import { SipParseError } from './parse-error.js';

export interface CSeq {
  seq: number;
  method: string;
}

/** RFC 3261 §8.1.1.5: the sequence number MUST be expressible as a 32-bit unsigned integer (< 2**31 when chosen). */
const MAX_CSEQ = 2 ** 32 - 1;

function badHeader(name: string, detail: string): never {
  throw new SipParseError('bad-header', `${name}: ${detail}`);
}

export function parseCSeq(value: string): CSeq {
  const match = /^(\d{1,12})[ \t]+(\S+)$/.exec(value.trim());
  if (!match) badHeader('CSeq', 'expected "<number> <method>"');
  const seq = Number(match[1]);
  if (seq > MAX_CSEQ) badHeader('CSeq', 'sequence number out of range');
  if (!isToken(match[2]!)) badHeader('CSeq', 'bad method');
  return { seq, method: match[2]! };
}

/** delta-seconds and Max-Forwards style integers with an upper bound (RFC 4475 §3.1.2.4). */
export function parseBoundedInt(name: string, value: string, max: number): number {
  const text = value.trim();
  if (!/^\d{1,12}$/.test(text)) badHeader(name, 'expected a non-negative integer');
  const n = Number(text);
  if (n > max) badHeader(name, `value exceeds ${max}`);
  return n;
}

/** RFC 3261 §20.22: Max-Forwards is 0-255. */
export function parseMaxForwards(value: string): number {
  return parseBoundedInt('Max-Forwards', value, 255);
}

/** RFC 3261 §20.19, §25.1: delta-seconds is a 32-bit value. */
export function parseExpires(value: string): number {
  return parseBoundedInt('Expires', value, 2 ** 32 - 1);
}

/**
 * Content-Length: digits only. Negative, huge or non-numeric values lose the
 * framing of a stream (RFC 4475 §3.1.2.3).
 */
export function parseContentLength(value: string, max: number): number {
  const text = value.trim();
  if (!/^\d{1,10}$/.test(text) || Number(text) > max) {
    throw new SipParseError('bad-content-length', `Content-Length: invalid value '${text.slice(0, 20)}'`, { framingLost: true });
  }
  return Number(text);
}

/** RFC 3261 §20.17: SIP-date is rfc1123-date and MUST be in GMT (RFC 4475 §3.1.2.12). */
export function parseSipDate(value: string): Date {
  const match = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/.exec(value.trim());
  if (!match) badHeader('Date', 'expected an RFC 1123 date in GMT');
  const date = new Date(`${match[2]} ${match[3]} ${match[4]} ${match[5]}:${match[6]}:${match[7]} GMT`);
  if (Number.isNaN(date.getTime())) badHeader('Date', 'invalid date');
  return date;
}

/** Content-Type / Accept media range: `type/subtype *(;param)`, lower-cased type, params dropped. */
export function parseMediaType(name: string, value: string): string {
  const s = new Scanner(value, name);
  s.skipWs();
  const type = s.token();
  if (s.peek() !== '/') s.fail("expected '/'");
  s.pos++;
  const subtype = s.token();
  s.params();
  s.end();
  return `${type}/${subtype}`.toLowerCase();
}

/** Option tags (Require, Supported, Unsupported, Proxy-Require) from every value of the header. */
export function parseOptionTags(name: string, values: readonly string[]): string[] {
  const tags: string[] = [];
  for (const value of values) {
    if (value.trim() === '') continue;
    for (const tag of splitList(value, name)) {
      if (!isToken(tag)) badHeader(name, `bad option tag '${tag.slice(0, 30)}'`);
      tags.push(tag);
    }
  }
  return tags;
}
