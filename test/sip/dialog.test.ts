import { describe, expect, it } from 'vitest';
import { Dialog, newBranch, parseDatagram, serializeUri, type SipRequest, type SipResponse } from '../../src/sip/index.js';

const invite = parseDatagram(
  Buffer.from(
    [
      'INVITE sip:bob@biloxi.example.com SIP/2.0',
      'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8',
      'Max-Forwards: 70',
      'To: Bob <sip:bob@biloxi.example.com>',
      'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
      'Call-ID: a84b4c76e66710',
      'CSeq: 314159 INVITE',
      'Contact: <sip:alice@pc33.atlanta.example.com>',
      'Record-Route: <sip:p2.example.com;lr>, <sip:p1.example.com;lr>',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  ),
) as SipRequest;

function ok(recordRoute: string): SipResponse {
  return parseDatagram(
    Buffer.from(
      [
        'SIP/2.0 200 OK',
        'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8',
        'To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf',
        'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
        'Call-ID: a84b4c76e66710',
        'CSeq: 314159 INVITE',
        'Contact: <sip:bob@192.0.2.4>',
        `Record-Route: ${recordRoute}`,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    ),
  ) as SipResponse;
}

const via = { protocol: 'UDP', host: '192.0.2.1', port: 5060 };

describe('dialog', () => {
  it('builds the UAC dialog from a 2xx: reversed Record-Route, Contact as target (RFC 3261 §12.1.2)', () => {
    const dialog = Dialog.asUac(invite, ok('<sip:p2.example.com;lr>, <sip:p1.example.com;lr>'));
    expect(dialog.id).toEqual({ callId: 'a84b4c76e66710', localTag: '1928301774', remoteTag: 'a6c85cf' });
    expect(dialog.routeSet).toEqual(['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    const bye = dialog.createRequest('BYE', newBranch(), via);
    expect(serializeUri(bye.uri)).toBe('sip:bob@192.0.2.4');
    expect(bye.headers.getAll('Route')).toEqual(['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    expect(bye.cseq).toEqual({ seq: 314160, method: 'BYE' });
    expect(bye.toTag).toBe('a6c85cf');
    expect(bye.fromTag).toBe('1928301774');
  });

  it('builds the UAS dialog: Record-Route in order, remote CSeq remembered, lower CSeq refused (§12.1.1, §12.2.2)', () => {
    const dialog = Dialog.asUas(invite, 'uas-tag');
    expect(dialog.routeSet).toEqual(['<sip:p2.example.com;lr>', '<sip:p1.example.com;lr>']);
    expect(serializeUri(dialog.remoteTarget)).toBe('sip:alice@pc33.atlanta.example.com');
    expect(dialog.local.params.get('tag')).toBe('uas-tag');
    const older = parseDatagram(Buffer.from(invite.startLine + '\r\n' + invite.headers.entries().map(([n, v]) => `${n}: ${n === 'CSeq' ? '314158 INVITE' : v}`).join('\r\n') + '\r\n\r\n'));
    const newer = parseDatagram(Buffer.from(invite.startLine + '\r\n' + invite.headers.entries().map(([n, v]) => `${n}: ${n === 'CSeq' ? '314160 INVITE' : v}`).join('\r\n') + '\r\n\r\n'));
    expect(dialog.acceptRemoteCSeq(older as SipRequest)).toBe(false);
    expect(dialog.acceptRemoteCSeq(newer as SipRequest)).toBe(true);
    expect(dialog.remoteSeq).toBe(314160);
  });

  it('puts a strict router in the Request-URI and the remote target last in Route', () => {
    const dialog = Dialog.asUac(invite, ok('<sip:strict.example.com>'));
    const bye = dialog.createRequest('BYE', newBranch(), via);
    expect(serializeUri(bye.uri)).toBe('sip:strict.example.com');
    expect(bye.headers.getAll('Route')).toEqual(['<sip:bob@192.0.2.4>']);
  });

  it('refuses illegal state moves', () => {
    const dialog = Dialog.asUas(invite, 't', 'confirmed');
    dialog.transition('terminated');
    expect(() => dialog.transition('confirmed')).toThrow(/illegal transition/);
  });
});
