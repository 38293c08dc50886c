/**
 * name-addr / addr-spec with header parameters (RFC 3261 §20.10, §25.1):
 * the value of From, To, Contact, Route, Record-Route and Reply-To.
 */
import { Scanner, quote, serializeParams, isToken, type Params } from './grammar.js';
import { SipParseError } from './parse-error.js';
import { cloneUri, parseUri, serializeUri, type Uri } from './uri.js';

export interface NameAddr {
  /** Display name, unquoted and unescaped; `undefined` when absent. */
  displayName: string | undefined;
  uri: Uri;
  /** Header parameters (`;tag=`, `;expires=`, `;q=`...), outside the angle brackets. */
  params: Params;
}

/**
 * Parses `[display-name] <URI> *(;param)` or `addr-spec *(;param)`.
 * RFC 3261 §20.10: in the addr-spec form the URI cannot contain `,`, `?` or
 * `;` (they would be read as header syntax), so a `?` there is an error
 * (RFC 4475 §3.1.2.13).
 */
export function parseNameAddr(text: string, what: string): NameAddr {
  const s = new Scanner(text, what);
  s.skipWs();
  let displayName: string | undefined;
  let uriText: string;
  const first = s.peek();
  const hasAngle = text.includes('<');
  if (first === '"' || (hasAngle && first !== '<' && !/^[^<]*:/.test(text.slice(s.pos, text.indexOf('<'))))) {
    if (first === '"') {
      displayName = s.quotedString();
    } else {
      // display-name = *(token LWS): only tokens and whitespace before '<' (RFC 4475 §3.1.2.15).
      const start = s.pos;
      const words: string[] = [];
      while (s.peek() !== '<') {
        s.skipWs();
        if (s.peek() === '<') break;
        words.push(s.token());
      }
      if (words.length === 0) s.fail(`empty display name at offset ${start}`);
      displayName = words.join(' ');
    }
    s.skipWs();
  }
  if (s.peek() === '<') {
    s.pos++;
    const close = text.indexOf('>', s.pos);
    if (close < 0) s.fail("missing '>'");
    uriText = text.slice(s.pos, close);
    // LAQUOT / RAQUOT allow no whitespace inside the brackets (RFC 4475 §3.1.2.14).
    if (/\s/.test(uriText)) s.fail('whitespace inside <URI>');
    s.pos = close + 1;
  } else {
    if (displayName !== undefined) s.fail("expected '<' after display name");
    const start = s.pos;
    while (!s.done && s.peek() !== ';' && s.peek() !== ' ' && s.peek() !== '\t') s.pos++;
    uriText = text.slice(start, s.pos);
    if (uriText.includes('?') || uriText.includes(',')) s.fail("a URI with '?' or ',' must be enclosed in <>");
  }
  let uri: Uri;
  try {
    uri = parseUri(uriText);
  } catch (error) {
    if (error instanceof SipParseError) s.fail(error.message);
    throw error;
  }
  const params = s.params();
  s.end();
  return { displayName, uri, params };
}

export function serializeNameAddr(value: NameAddr): string {
  let out = '';
  if (value.displayName !== undefined && value.displayName !== '') {
    out += `${isDisplayTokens(value.displayName) ? value.displayName : quote(value.displayName)} `;
  }
  out += `<${serializeUri(value.uri)}>`;
  return out + serializeParams(value.params);
}

function isDisplayTokens(name: string): boolean {
  return name.split(' ').every((w) => isToken(w));
}

export function cloneNameAddr(value: NameAddr): NameAddr {
  return { displayName: value.displayName, uri: cloneUri(value.uri), params: new Map(value.params) };
}
