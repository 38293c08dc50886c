/**
 * SPEC §13 "Abuse" on the stream transports, over real sockets: at most 100
 * connections per source (a flood from 127.0.0.2 leaves 127.0.0.1 served),
 * a header that does not arrive in time closes its connection, and SIP over
 * TLS carries requests both ways with the certificate checked.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SipUserAgent } from '../../src/sip/index.js';
import type { TcpTransport } from '../../src/sip/transport/tcp-transport.js';
import { TlsTransport } from '../../src/sip/transport/tls-transport.js';
import { makeTestCert, type TestCert } from '../helpers/test-cert.js';
import { until } from '../helpers/until.js';

const options = (callId: string, transport: string): string => [
  'OPTIONS sip:ping@127.0.0.1 SIP/2.0',
  `Via: SIP/2.0/${transport} 127.0.0.1:5999;branch=z9hG4bK-${callId}`,
  'Max-Forwards: 70', 'To: <sip:ping@127.0.0.1>', 'From: <sip:probe@127.0.0.1>;tag=1', `Call-ID: ${callId}`, 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', '',
].join('\r\n');

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function open(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves with everything read once the socket closes, or once `until` matches. */
function read(socket: Socket, match?: RegExp): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString();
      if (match?.test(text)) resolve(text);
    });
    socket.on('close', () => resolve(text));
  });
}

describe('tCP connection limits (SPEC §13)', () => {
  it('closes the 101st connection from one source at once, and another source is still served', async () => {
    const ua = new SipUserAgent({ listen: [{ protocol: 'tcp', host: '127.0.0.1', port: 0 }] });
    await ua.start();
    cleanups.push(() => ua.close());
    const transport = ua.transports[0] as TcpTransport;
    const port = transport.local.port;
    const flood: Socket[] = [];
    cleanups.push(() => flood.forEach((s) => s.destroy()));
    const closed = new Set<Socket>();
    // 1,000 idle connections from a second loopback address.
    for (let i = 0; i < 1000; i++) {
      const socket = await open(port, '127.0.0.2');
      socket.on('close', () => closed.add(socket)).on('error', () => undefined);
      flood.push(socket);
    }
    await until(async () => closed.size === 900, 20_000);
    expect(flood.slice(0, 100).every((s) => !closed.has(s))).toBe(true);
    expect(transport.connectionCount).toBe(100);

    const caller = await open(port);
    cleanups.push(() => caller.destroy());
    const answer = read(caller, /SIP\/2\.0 200/);
    caller.write(options('other-source', 'TCP'));
    expect(await answer).toMatch(/^SIP\/2\.0 200 /);
  }, 60_000);

  it('closes a connection whose header does not come within the deadline, but lets a finished one idle', async () => {
    const ua = new SipUserAgent({ listen: [{ protocol: 'tcp', host: '127.0.0.1', port: 0 }], streamLimits: { headerTimeoutMs: 1000 } });
    await ua.start();
    cleanups.push(() => ua.close());
    const port = ua.transports[0]!.local.port;

    const slow = await open(port);
    cleanups.push(() => slow.destroy());
    const slowClosed = new Promise<number>((resolve) => slow.once('close', () => resolve(Date.now())));
    const started = Date.now();
    slow.write(options('half', 'TCP').slice(0, 60)); // half a header, then nothing

    const silent = await open(port);
    cleanups.push(() => silent.destroy());
    const silentClosed = new Promise<void>((resolve) => silent.once('close', () => resolve()));

    const idle = await open(port);
    cleanups.push(() => idle.destroy());
    let idleClosed = false;
    idle.once('close', () => (idleClosed = true));
    const answered = read(idle, /SIP\/2\.0 200/);
    idle.write(options('complete', 'TCP'));
    await answered;

    expect(await slowClosed - started).toBeGreaterThanOrEqual(900);
    await silentClosed;
    // Well past the deadline, the connection that sent a whole message is still open (phones keep such flows).
    await new Promise((r) => setTimeout(r, 1500));
    expect(idleClosed).toBe(false);
  }, 30_000);
});

describe('tLS transport', () => {
  let cert: TestCert;
  beforeAll(() => {
    cert = makeTestCert();
  });
  afterAll(() => cert.remove());

  it('answers a request over TLS, and verifies the certificate of a peer it connects to', async () => {
    const ua = new SipUserAgent({ listen: [{ protocol: 'tls', host: '127.0.0.1', port: 0 }], tls: { cert: cert.cert, key: cert.key } });
    await ua.start();
    cleanups.push(() => ua.close());
    const port = ua.localAddress('tls').port;

    const socket = tlsConnect({ host: '127.0.0.1', port, ca: cert.cert });
    cleanups.push(() => socket.destroy());
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    const answer = read(socket as unknown as Socket, /SIP\/2\.0 200/);
    socket.write(options('over-tls', 'TLS'));
    expect(await answer).toMatch(/^SIP\/2\.0 200 [^]*Via: SIP\/2\.0\/TLS 127\.0\.0\.1:5999;branch=z9hG4bK-over-tls/);

    // Our side as a client: trusted with the CA, refused without it (a self-signed cert is no system CA's).
    const trusting = new SipUserAgent({ listen: [{ protocol: 'tls', host: '127.0.0.1', port: 0 }], tls: { cert: cert.cert, key: cert.key, ca: cert.cert } });
    await trusting.start();
    cleanups.push(() => trusting.close());
    const ok = await trusting.request('OPTIONS', `sip:ping@127.0.0.1:${port};transport=tls`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('Via')).toMatch(/^SIP\/2\.0\/TLS /);
    const sips = await trusting.request('OPTIONS', `sips:ping@127.0.0.1:${port}`);
    expect(sips.status).toBe(200);

    const strict = new TlsTransport({ host: '127.0.0.1', port: 0, cert: cert.cert, key: cert.key });
    await strict.listen();
    cleanups.push(() => strict.close());
    await expect(strict.send(Buffer.from(options('untrusted', 'TLS')), { address: '127.0.0.1', port })).rejects.toThrow(/self[- ]signed/i);
  }, 30_000);

  it('never sends a sips: or transport=tls request over a plain transport', async () => {
    const ua = new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }] });
    await ua.start();
    cleanups.push(() => ua.close());
    expect(() => ua.request('OPTIONS', 'sips:ping@127.0.0.1:5061')).toThrow(/no TLS transport/);
  });
});
