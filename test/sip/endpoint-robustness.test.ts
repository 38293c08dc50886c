import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SipUserAgent } from '../../src/sip/index.js';
import { FAST_TIMERS, UdpPeer, looseResponse, udpExchange } from './helpers.js';

const seed = readFileSync('/work/shared/corpus/rfc4475/wsinv.dat');
const OPTIONS = (port: number, callId: string): Buffer =>
  Buffer.from(
    [
      `OPTIONS sip:ua@127.0.0.1:${port} SIP/2.0`,
      'Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK' + callId,
      'Max-Forwards: 70',
      'To: <sip:ua@127.0.0.1>',
      'From: <sip:probe@127.0.0.1>;tag=p',
      `Call-ID: ${callId}`,
      'CSeq: 1 OPTIONS',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );

/** Random datagrams: raw bytes, truncations and byte mutations of a corpus message. */
const garbage = fc.oneof(
  fc.uint8Array({ maxLength: 1500 }).map((b) => Buffer.from(b)),
  fc.nat({ max: seed.length }).map((cut) => seed.subarray(0, cut)),
  fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }).map((edits) => {
    const copy = Buffer.from(seed);
    for (const [at, byte] of edits) copy[at % copy.length] = byte;
    return copy;
  }),
);

describe('endpoint robustness', () => {
  let ua: SipUserAgent;
  let udpPort: number;
  let tcpPort: number;

  beforeAll(async () => {
    ua = new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }, { protocol: 'tcp', host: '127.0.0.1', port: 0 }], timers: FAST_TIMERS });
    ua.on('invite', (call) => call.reject(486));
    await ua.start();
    udpPort = ua.localAddress('udp').port;
    tcpPort = ua.localAddress('tcp').port;
  });

  afterAll(() => ua.close());

  it('drops or answers random and truncated datagrams, and keeps serving', async () => {
    const peer = new UdpPeer();
    await peer.bind();
    const raw: Buffer[] = [];
    peer.socket.on('message', (m) => raw.push(m));
    const samples = fc.sample(garbage, { numRuns: 400, seed: 4475 });
    for (const datagram of samples) if (datagram.length > 0) peer.send(datagram, udpPort);
    const probe = await udpExchange(udpPort, OPTIONS(udpPort, 'after-udp-fuzz'), { untilFinal: true });
    expect(probe.responses.at(-1)?.status).toBe(200);
    peer.close();
    // Every answer to garbage is a well-formed response with a status the stack may send to bad input.
    for (const message of raw) {
      const response = looseResponse(message);
      expect(response, message.toString('latin1').slice(0, 80)).toBeDefined();
    }
  });

  it('survives random bytes on TCP connections, and keeps serving', async () => {
    const samples = fc.sample(garbage, { numRuns: 60, seed: 3261 });
    await Promise.all(
      samples.map(
        (bytes) =>
          new Promise<void>((resolve) => {
            const socket = connect({ port: tcpPort, host: '127.0.0.1' }, () => {
              socket.end(bytes);
            });
            socket.on('error', () => resolve());
            socket.on('close', () => resolve());
            socket.resume();
            setTimeout(() => socket.destroy(), 500).unref();
          }),
      ),
    );
    const probe = await udpExchange(udpPort, OPTIONS(udpPort, 'after-tcp-fuzz'), { untilFinal: true });
    expect(probe.responses.at(-1)?.status).toBe(200);
  });
});
