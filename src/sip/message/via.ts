/**
 * Via header values (RFC 3261 §20.42, §18.2.1) with the RFC 3581 `rport`
 * parameter.
 */
import { Scanner, serializeParams, type Params } from './grammar.js';
import { isValidHost } from './uri.js';

export interface Via {
  /** `SIP/2.0` normally. */
  protocol: string;
  /** Upper-cased transport token (`UDP`, `TCP`, `TLS`, `WS`, or an unknown token). */
  transport: string;
  host: string;
  port: number | undefined;
  params: Params;
}

/** RFC 3261 §8.1.1.7: branches of RFC 3261 elements start with this magic cookie. */
export const MAGIC_COOKIE = 'z9hG4bK';

export function parseVia(text: string): Via {
  const s = new Scanner(text, 'Via');
  s.skipWs();
  const name = s.token();
  s.expect('/');
  const version = s.token();
  s.expect('/');
  const transport = s.token().toUpperCase();
  s.skipWs();
  const hostStart = s.pos;
  let host: string;
  if (s.peek() === '[') {
    host = s.while(/[0-9A-Fa-f:.[\]]/);
  } else {
    host = s.while(/[A-Za-z0-9\-.]/);
  }
  if (!host || !isValidHost(host)) s.fail(`bad sent-by host at offset ${hostStart}`);
  let port: number | undefined;
  if (s.accept(':')) {
    const digits = s.while(/\d/);
    if (!digits || Number(digits) > 65535) s.fail('bad sent-by port');
    port = Number(digits);
  }
  const params = s.params();
  s.end();
  const branch = params.get('branch');
  if (params.has('branch') && !branch) s.fail('empty branch');
  const ttl = params.get('ttl');
  if (ttl !== undefined && (ttl === null || !/^\d{1,3}$/.test(ttl) || Number(ttl) > 255)) s.fail('bad ttl');
  const rport = params.get('rport');
  if (rport !== undefined && rport !== null && (!/^\d{1,5}$/.test(rport) || Number(rport) > 65535)) s.fail('bad rport');
  return { protocol: `${name.toUpperCase()}/${version}`, transport, host: host.toLowerCase(), port, params };
}

export function serializeVia(via: Via): string {
  return `${via.protocol}/${via.transport} ${via.host}${via.port === undefined ? '' : `:${via.port}`}${serializeParams(via.params)}`;
}

export function viaBranch(via: Via): string | undefined {
  return via.params.get('branch') ?? undefined;
}

/** Branch carries the RFC 3261 magic cookie and something after it (RFC 4475 §3.2.1). */
export function isRfc3261Branch(branch: string | undefined): branch is string {
  return branch !== undefined && branch.startsWith(MAGIC_COOKIE) && branch.length > MAGIC_COOKIE.length;
}
