import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SipRequest, type SipMessage } from '../../src/sip/message/message.js';
import { WsTransport } from '../../src/sip/transport/ws-transport.js';
import type { NetAddress } from '../../src/sip/transport/transport.js';
import { until } from '../helpers/until.js';

const OPTIONS = [
  'OPTIONS sip:ws-test.sip.local SIP/2.0',
  'Via: SIP/2.0/WS abc.invalid;branch=z9hG4bK776asdhds',
  'Max-Forwards: 70',
  'To: <sip:ws-test.sip.local>',
  'From: <sip:agent@ws-test.sip.local>;tag=1928301774',
  'Call-ID: a84b4c76e66710@abc.invalid',
  'CSeq: 1 OPTIONS',
  'Content-Length: 0',
  '', '',
].join('\r\n');

describe('WsTransport: SIP over WebSocket (RFC 7118) on an HTTP server', () => {
  let http: Server | undefined;
  let transport: WsTransport | undefined;
  afterEach(async () => {
    await transport?.close();
    http?.closeAllConnections();
    await new Promise((r) => (http ? http.close(r) : r(undefined)));
  });

  async function start(): Promise<string> {
    http = createServer((_req, res) => res.end());
    await new Promise<void>((r) => http!.listen(0, '127.0.0.1', () => r()));
    transport = new WsTransport();
    await transport.listen();
    transport.attach(http);
    return `ws://127.0.0.1:${transport.local.port}/v1/sip/ws`;
  }

  it('takes one SIP message per WebSocket message and answers over the same connection', async () => {
    const url = await start();
    const received: Array<{ message: SipMessage; remote: NetAddress }> = [];
    transport!.on('message', (message, context) => received.push({ message, remote: context.remote }));
    const client = new WebSocket(url, 'sip');
    const replies: string[] = [];
    client.on('message', (data) => replies.push(String(data)));
    await new Promise((r) => client.once('open', r));
    expect(client.protocol).toBe('sip');
    client.send(OPTIONS);
    const [first] = await until(async () => (received.length > 0 ? received : undefined));
    expect(first!.message).toBeInstanceOf(SipRequest);
    expect((first!.message as SipRequest).method).toBe('OPTIONS');
    await transport!.send(Buffer.from('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n'), first!.remote);
    await until(async () => replies[0]);
    expect(replies[0]).toMatch(/^SIP\/2\.0 200 OK/);
    client.close();
    await until(async () => transport!.connectionCount === 0);
    // RFC 7118 §5: without the browser's connection it cannot be reached.
    await expect(transport!.send(Buffer.from('OPTIONS sip:x SIP/2.0\r\n\r\n'), first!.remote)).rejects.toThrow(/no WebSocket connection/);
  });

  it('refuses a handshake without the sip subprotocol, and leaves other paths alone', async () => {
    const url = await start();
    const refused = new WebSocket(url, 'chat');
    const error = await new Promise<Error>((r) => refused.once('error', r));
    expect(error.message).toMatch(/400/);
    const elsewhere = new WebSocket(url.replace('/v1/sip/ws', '/v1/other'), 'sip');
    await new Promise<unknown>((r) => elsewhere.once('error', r));
    expect(transport!.connectionCount).toBe(0);
  });

  it('reports an unparsable message as invalid and keeps the connection', async () => {
    const url = await start();
    const invalid: string[] = [];
    transport!.on('invalid', (e) => invalid.push(e.code));
    const client = new WebSocket(url, 'sip');
    await new Promise((r) => client.once('open', r));
    client.send('HELLO\r\n\r\n');
    await until(async () => invalid.length > 0);
    expect(transport!.connectionCount).toBe(1);
    client.close();
  });
});
