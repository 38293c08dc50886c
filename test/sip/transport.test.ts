import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { SipParseError} from '../../src/sip/index.js';
import { parseDatagram, TcpTransport, UdpTransport, type InboundContext, type SipMessage } from '../../src/sip/index.js';
import { UdpPeer, sleep } from './helpers.js';

const OPTIONS = (callId: string, body = ''): string =>
  [
    'OPTIONS sip:bob@127.0.0.1 SIP/2.0',
    'Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-t1',
    'Max-Forwards: 70',
    'To: <sip:bob@127.0.0.1>',
    'From: <sip:alice@127.0.0.1>;tag=1',
    `Call-ID: ${callId}`,
    'CSeq: 1 OPTIONS',
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function collect(transport: UdpTransport | TcpTransport): { messages: Array<[SipMessage, InboundContext]>; invalid: SipParseError[] } {
  const messages: Array<[SipMessage, InboundContext]> = [];
  const invalid: SipParseError[] = [];
  transport.on('message', (m, c) => messages.push([m, c]));
  transport.on('invalid', (e) => invalid.push(e));
  return { messages, invalid };
}

async function until(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe('udpTransport', () => {
  it('binds an ephemeral port, parses datagrams and reports the source', async () => {
    const transport = new UdpTransport({ host: '127.0.0.1', port: 0 });
    await transport.listen();
    cleanups.push(() => transport.close());
    expect(transport.local.port).toBeGreaterThan(0);
    const seen = collect(transport);
    const peer = new UdpPeer();
    await peer.bind();
    cleanups.push(() => peer.close());
    peer.send(OPTIONS('udp-1'), transport.local.port);
    peer.send('garbage\r\n\r\n', transport.local.port);
    peer.send('\r\n\r\n', transport.local.port); // keep-alive: ignored
    await until(() => seen.messages.length === 1 && seen.invalid.length === 1);
    expect(seen.messages[0]![0].callId).toBe('udp-1');
    expect(seen.messages[0]![1].remote).toEqual({ address: '127.0.0.1', port: peer.port });
    await transport.send(Buffer.from(OPTIONS('udp-2')), { address: '127.0.0.1', port: peer.port });
    await peer.waitFor((r) => r.some((m) => m.callId === 'udp-2'));
  });

  it('closes idempotently and refuses to send afterwards', async () => {
    const transport = new UdpTransport({ host: '127.0.0.1', port: 0 });
    await transport.listen();
    await Promise.all([transport.close(), transport.close()]);
    await expect(transport.send(Buffer.from('x'), { address: '127.0.0.1', port: 9 })).rejects.toThrow('closed');
  });
});

describe('tcpTransport', () => {
  async function server(options: ConstructorParameters<typeof TcpTransport>[0] = {}): Promise<TcpTransport> {
    const transport = new TcpTransport({ host: '127.0.0.1', port: 0, ...options });
    await transport.listen();
    cleanups.push(() => transport.close());
    return transport;
  }

  function client(port: number): Promise<{ socket: Socket; data: () => string }> {
    return new Promise((resolve) => {
      let text = '';
      const socket = connect({ port, host: '127.0.0.1' }, () => resolve({ socket, data: () => text }));
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('error', () => undefined);
      cleanups.push(() => socket.destroy());
    });
  }

  it('frames messages by Content-Length across chunks', async () => {
    const transport = await server();
    const seen = collect(transport);
    const { socket } = await client(transport.local.port);
    const stream = Buffer.from(OPTIONS('tcp-1', 'hello') + OPTIONS('tcp-2'));
    for (let i = 0; i < stream.length; i += 13) {
      socket.write(stream.subarray(i, i + 13));
      await sleep(1);
    }
    await until(() => seen.messages.length === 2);
    expect(seen.messages.map(([m]) => [m.callId, m.bodyText])).toEqual([['tcp-1', 'hello'], ['tcp-2', '']]);
  });

  it('answers over the connection the request came on (keyed by remote address)', async () => {
    const transport = await server();
    const seen = collect(transport);
    const { data } = await client(transport.local.port).then(async (c) => {
      c.socket.write(OPTIONS('tcp-3'));
      return c;
    });
    await until(() => seen.messages.length === 1);
    const remote = seen.messages[0]![1].remote;
    await transport.send(Buffer.from(OPTIONS('reply')), remote);
    await until(() => data().includes('Call-ID: reply'));
    expect(transport.connectionCount).toBe(1);
  });

  it('connects out to another transport and reuses the connection', async () => {
    const a = await server();
    const b = await server();
    const seen = collect(b);
    await a.send(Buffer.from(OPTIONS('out-1')), b.local);
    await a.send(Buffer.from(OPTIONS('out-2')), b.local);
    await until(() => seen.messages.length === 2);
    expect(a.connectionCount).toBe(1);
    expect(b.connectionCount).toBe(1);
  });

  it('closes a connection whose framing is lost, after reporting the error', async () => {
    const transport = await server();
    const seen = collect(transport);
    const { socket } = await client(transport.local.port);
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write(OPTIONS('x').replace('Content-Length: 0', 'Content-Length: -5'));
    await closed;
    expect(seen.invalid[0]?.framingLost).toBe(true);
  });

  it('closes idle connections', async () => {
    const transport = await server({ idleTimeoutMs: 100 });
    const { socket } = await client(transport.local.port);
    await new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await until(() => transport.connectionCount === 0);
  });

  it('rejects a send to a port where nobody listens', async () => {
    const transport = await server();
    const probe = await server();
    const port = probe.local.port;
    await probe.close();
    await expect(transport.send(Buffer.from(OPTIONS('nobody')), { address: '127.0.0.1', port })).rejects.toThrow();
  });

  it('parses a UDP-sized message the same way as the datagram parser', async () => {
    const transport = await server();
    const seen = collect(transport);
    const { socket } = await client(transport.local.port);
    socket.write(OPTIONS('same'));
    await until(() => seen.messages.length === 1);
    expect(seen.messages[0]![0].startLine).toBe(parseDatagram(Buffer.from(OPTIONS('same'))).startLine);
  });
});
