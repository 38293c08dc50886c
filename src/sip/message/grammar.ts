/**
 * Lexical helpers for RFC 3261 §25 (augmented BNF): tokens, quoted strings,
 * generic parameters and comma-separated lists. Header values reach these
 * functions already unfolded (every CRLF + WSP replaced by one SP).
 */
import { SipParseError } from './parse-error.js';

/** RFC 3261 §25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" ) */
export const TOKEN_RE = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
const TOKEN_CHAR_RE = /[A-Za-z0-9\-.!%*_+`'~]/;

export function isToken(value: string): boolean {
  return TOKEN_RE.test(value);
}

export function isTokenChar(ch: string | undefined): boolean {
  return ch !== undefined && TOKEN_CHAR_RE.test(ch);
}

export function isWsp(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t';
}

/** Parameters keyed by lower-cased name (names are case-insensitive, §7.3.1); `null` = no value. */
export type Params = Map<string, string | null>;

/**
 * A cursor over one header value. Methods throw a typed 400 error naming
 * `what` when the input does not match.
 */
export class Scanner {
  pos = 0;
  constructor(
    readonly text: string,
    readonly what: string,
  ) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string | undefined {
    return this.text[this.pos];
  }

  fail(detail: string): never {
    throw new SipParseError('bad-header', `${this.what}: ${detail}`);
  }

  skipWs(): void {
    while (isWsp(this.text[this.pos])) this.pos++;
  }

  /** SWS around a separator: `;`, `=`, `/`, `:` (RFC 3261 §25.1 SEMI, EQUAL, SLASH, COLON). */
  accept(ch: string): boolean {
    const save = this.pos;
    this.skipWs();
    if (this.text[this.pos] === ch) {
      this.pos++;
      this.skipWs();
      return true;
    }
    this.pos = save;
    return false;
  }

  expect(ch: string): void {
    if (!this.accept(ch)) this.fail(`expected '${ch}' at offset ${this.pos}`);
  }

  token(): string {
    const start = this.pos;
    while (isTokenChar(this.text[this.pos])) this.pos++;
    if (start === this.pos) this.fail(`expected a token at offset ${start}`);
    return this.text.slice(start, this.pos);
  }

  /** Reads a chars matching `re` (one at a time); may be empty. */
  while(re: RegExp): string {
    const start = this.pos;
    while (this.pos < this.text.length && re.test(this.text[this.pos]!)) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /** RFC 3261 §25.1 quoted-string; returns the unescaped content. */
  quotedString(): string {
    if (this.text[this.pos] !== '"') this.fail(`expected '"' at offset ${this.pos}`);
    this.pos++;
    let out = '';
    while (true) {
      const ch = this.text[this.pos];
      if (ch === undefined) this.fail('unterminated quoted string');
      this.pos++;
      if (ch === '"') return out;
      if (ch === '\\') {
        const next = this.text[this.pos];
        // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
        if (next === undefined || next === '\r' || next === '\n') this.fail('bad escape in quoted string');
        out += next;
        this.pos++;
        continue;
      }
      out += ch;
    }
  }

  /**
   * *( SEMI generic-param ), generic-param = token [ EQUAL gen-value ],
   * gen-value = token / host / quoted-string. Quoted values keep their quotes
   * so that re-serialising is lossless.
   */
  params(stopAt = ''): Params {
    const params: Params = new Map();
    while (this.accept(';')) {
      const name = this.token().toLowerCase();
      let value: string | null = null;
      if (this.accept('=')) {
        if (this.peek() === '"') {
          const start = this.pos;
          this.quotedString();
          value = this.text.slice(start, this.pos);
        } else if (this.peek() === '[') {
          value = this.while(/[0-9A-Fa-f:.[\]]/);
        } else {
          value = this.token();
        }
      }
      if (params.has(name)) this.fail(`duplicate parameter '${name}'`);
      params.set(name, value);
      if (stopAt && this.text[this.pos] !== undefined && stopAt.includes(this.text[this.pos]!)) break;
    }
    return params;
  }

  end(): void {
    this.skipWs();
    if (!this.done) this.fail(`unexpected '${this.text.slice(this.pos, this.pos + 10)}' at offset ${this.pos}`);
  }
}

export function serializeParams(params: Params): string {
  let out = '';
  for (const [name, value] of params) out += value === null ? `;${name}` : `;${name}=${value}`;
  return out;
}

/**
 * Splits a header value at commas that are outside quoted strings and angle
 * brackets (RFC 3261 §7.3.1). Empty elements are an error: RFC 4475 §3.1.2.1.
 */
export function splitList(value: string, what: string): string[] {
  const parts: string[] = [];
  let inQuote = false;
  let inAngle = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (inQuote) {
      if (ch === '\\') i++;
      else if (ch === '"') inQuote = false;
    } else if (ch === '"') inQuote = true;
    else if (ch === '<') inAngle = true;
    else if (ch === '>') inAngle = false;
    else if (ch === ',' && !inAngle) {
      parts.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  if (inQuote) throw new SipParseError('bad-header', `${what}: unterminated quoted string`);
  parts.push(value.slice(start).trim());
  if (parts.some((p) => p === '')) throw new SipParseError('bad-header', `${what}: empty list element`);
  return parts;
}

/** Quotes a display name or parameter value (RFC 3261 §25.1 quoted-pair for `"` and `\`). */
export function quote(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** Removes surrounding quotes and escapes from a parameter value kept in quoted form. */
export function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return value;
}
