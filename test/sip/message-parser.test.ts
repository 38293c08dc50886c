import { describe, expect, it } from 'vitest';
import {
  isSipUri,
  parseDatagram,
  parseNameAddr,
  parseUri,
  parseVia,
  serializeMessage,
  serializeNameAddr,
  serializeUri,
  SipParseError,
  StreamFramer,
  type SipRequest,
} from '../../src/sip/index.js';

const OPTIONS = [
  'OPTIONS sip:bob@example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;rport',
  'Max-Forwards: 70',
  'To: <sip:bob@example.com>',
  'From: "Alice \\"A\\"" <sip:alice@example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.example.com',
  'CSeq: 63104 OPTIONS',
  'Contact: <sip:alice@pc33.example.com>, <sip:alice@192.0.2.4>;q=0.5',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

function parseError(data: string | Buffer): SipParseError {
  try {
    parseDatagram(Buffer.isBuffer(data) ? data : Buffer.from(data));
  } catch (error) {
    if (error instanceof SipParseError) return error;
    throw error;
  }
  throw new Error('parsed');
}

describe('sip uri', () => {
  it('parses user, password, host, port, parameters and headers', () => {
    const uri = parseUri('sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?subject=hi&priority=urgent');
    expect(uri).toMatchObject({ scheme: 'sips', user: 'alice', password: 'secret', host: '[2001:db8::1]', port: 5061 });
    expect(isSipUri(uri) && [...uri.params]).toEqual([['transport', 'tcp'], ['lr', null]]);
    expect(isSipUri(uri) && uri.headers).toEqual([['subject', 'hi'], ['priority', 'urgent']]);
    expect(serializeUri(uri)).toBe('sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?subject=hi&priority=urgent');
  });

  it('parses tel URIs and keeps unknown schemes opaque', () => {
    expect(parseUri('tel:+254-700-000000;phone-context=ke')).toMatchObject({ scheme: 'tel', number: '+254-700-000000' });
    expect(parseUri('urn:service:sos')).toEqual({ scheme: 'urn', opaque: 'service:sos' });
  });

  it('refuses whitespace, bad hosts and out-of-range ports', () => {
    expect(() => parseUri('sip:bob@exa mple.com')).toThrow(SipParseError);
    expect(() => parseUri('sip:bob@-bad-.com')).toThrow(SipParseError);
    expect(() => parseUri('sip:bob@example.com:70000')).toThrow(SipParseError);
    expect(() => parseUri('sip:bo%zz@example.com')).toThrow(SipParseError);
  });
});

describe('name-addr', () => {
  it('reads quoted display names with escapes, and header parameters outside the brackets', () => {
    const value = parseNameAddr('"Alice \\"A\\"" <sip:alice@example.com;transport=tcp>;tag=abc;expires=60', 'From');
    expect(value.displayName).toBe('Alice "A"');
    expect(value.params.get('tag')).toBe('abc');
    expect(isSipUri(value.uri) && value.uri.params.get('transport')).toBe('tcp');
    expect(serializeNameAddr(value)).toBe('"Alice \\"A\\"" <sip:alice@example.com;transport=tcp>;tag=abc;expires=60');
  });

  it('treats parameters of a bare addr-spec as header parameters (RFC 3261 §20.10)', () => {
    const value = parseNameAddr('sip:bob@example.com;tag=xyz', 'To');
    expect(value.params.get('tag')).toBe('xyz');
    expect(isSipUri(value.uri) && value.uri.params.size).toBe(0);
  });

  it('rejects an unterminated quote and a missing bracket', () => {
    expect(() => parseNameAddr('"Alice <sip:a@example.com>', 'From')).toThrow(SipParseError);
    expect(() => parseNameAddr('Alice <sip:a@example.com', 'From')).toThrow(SipParseError);
  });
});

describe('via', () => {
  it('parses sent-protocol, sent-by, received and rport', () => {
    const via = parseVia('SIP / 2.0 / tcp host.example.com:5070 ;branch=z9hG4bKabc;received=192.0.2.9;rport=4000');
    expect(via).toMatchObject({ protocol: 'SIP/2.0', transport: 'TCP', host: 'host.example.com', port: 5070 });
    expect(via.params.get('rport')).toBe('4000');
    expect(via.params.get('received')).toBe('192.0.2.9');
  });

  it('rejects an empty branch and a bad rport', () => {
    expect(() => parseVia('SIP/2.0/UDP h;branch=')).toThrow(SipParseError);
    expect(() => parseVia('SIP/2.0/UDP h;rport=99999')).toThrow(SipParseError);
  });
});

describe('message parser', () => {
  it('parses a request into typed headers', () => {
    const message = parseDatagram(Buffer.from(OPTIONS)) as SipRequest;
    expect(message.method).toBe('OPTIONS');
    expect(message.topVia.params.get('branch')).toBe('z9hG4bK776asdhds');
    expect(message.from.displayName).toBe('Alice "A"');
    expect(message.fromTag).toBe('1928301774');
    expect(message.cseq).toEqual({ seq: 63104, method: 'OPTIONS' });
    const contacts = message.contacts;
    expect(contacts !== '*' && contacts.map((c) => c.params.get('q') ?? null)).toEqual([null, '0.5']);
  });

  it('expands compact header names', () => {
    const compact = OPTIONS.replace('To:', 't:').replace('From:', 'f:').replace('Call-ID:', 'i:').replace('Via:', 'v:').replace('Contact:', 'm:').replace('Content-Length:', 'l:');
    const message = parseDatagram(Buffer.from(compact));
    expect(message.headers.get('To')).toBe('<sip:bob@example.com>');
    expect(message.callId).toBe('a84b4c76e66710@pc33.example.com');
    expect(serializeMessage(message).toString()).toContain('Call-ID: a84b4c76e66710@pc33.example.com\r\n');
  });

  it('serialises with a Content-Length computed from the body', () => {
    const message = parseDatagram(Buffer.from(OPTIONS));
    message.body = Buffer.from('hello');
    const text = serializeMessage(message).toString();
    expect(text).toMatch(/Content-Length: 5\r\n\r\nhello$/);
  });

  it('answers a missing mandatory header with a typed 400', () => {
    const error = parseError(OPTIONS.replace(/Call-ID:.*\r\n/, ''));
    expect(error).toMatchObject({ code: 'missing-header', status: 400 });
    expect(error.reasonPhrase).toBe('Bad Request (missing Call-ID header)');
    expect(error.partial?.headers.some(([n]) => n === 'Via')).toBe(true);
  });

  it('enforces the message, header count and header length limits', () => {
    const big = Buffer.concat([Buffer.from(OPTIONS.replace('\r\n\r\n', '\r\nX-Pad: ' + 'a'.repeat(70_000) + '\r\n\r\n'))]);
    expect(parseError(big)).toMatchObject({ code: 'too-large', status: 513 });
    expect(parseError(big).reasonPhrase).toBe('Message Too Large (message too large)');
    const many = OPTIONS.replace('Content-Length: 0', Array.from({ length: 300 }, (_, i) => `X-H${i}: v`).join('\r\n') + '\r\nContent-Length: 0');
    expect(parseError(many).code).toBe('too-many-headers');
    const long = OPTIONS.replace('Content-Length: 0', `X-Long: ${'b'.repeat(20_000)}\r\nContent-Length: 0`);
    expect(parseError(long).code).toBe('header-too-long');
  });

  it('rejects bytes that are not UTF-8 in the header section', () => {
    const bad = Buffer.concat([Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nSubject: '), Buffer.from([0xff, 0xfe]), Buffer.from('\r\n\r\n')]);
    expect(parseError(bad).code).toBe('bad-encoding');
  });
});

describe('stream framer', () => {
  it('reassembles messages split at any byte and several per chunk', () => {
    const one = Buffer.from(OPTIONS.replace('Content-Length: 0', 'Content-Length: 4') + 'abcd');
    const stream = Buffer.concat([Buffer.from('\r\n\r\n'), one, one, one]);
    for (const size of [1, 7, 64, stream.length]) {
      const framer = new StreamFramer();
      const out = [];
      for (let i = 0; i < stream.length; i += size) out.push(...framer.push(stream.subarray(i, i + size)));
      expect(out.map((item) => item.ok && item.message.bodyText)).toEqual(['abcd', 'abcd', 'abcd']);
    }
  });

  it('loses the framing on a negative Content-Length and refuses more input', () => {
    const framer = new StreamFramer();
    const items = framer.push(Buffer.from(OPTIONS.replace('Content-Length: 0', 'Content-Length: -1')));
    expect(items).toHaveLength(1);
    expect(items[0]!.ok).toBe(false);
    expect(framer.broken).toBe(true);
    expect(framer.push(Buffer.from(OPTIONS))).toEqual([]);
  });

  it('keeps going after a message whose headers are bad but whose framing is sound', () => {
    const framer = new StreamFramer();
    const items = framer.push(Buffer.from(OPTIONS.replace('CSeq: 63104 OPTIONS', 'CSeq: x') + OPTIONS));
    expect(items.map((i) => i.ok)).toEqual([false, true]);
    expect(framer.broken).toBe(false);
  });
});
