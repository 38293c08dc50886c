/**
 * SPEC §13: the sandbox carrier is trusted by transport, address AND port.
 * An INVITE over TCP from the sandbox's own address and (UDP) port number is
 * someone else on that host, and is refused like any unknown source. The
 * header of the platform's hop to its own numbers (a blind transfer to one)
 * makes nobody a carrier either: without the run's token, from elsewhere, 403.
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/cli-process.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { ownNumberHopHeader } from '../../src/engine/own-number-hop.js';

describe('sandbox trust', () => {
  let api: TestApi;
  let app: HttpReceiver;

  beforeAll(async () => {
    api = await startTestApi('sqlite', { flags: { 'sip-port': String(await freePort()) } });
    app = await HttpReceiver.start();
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await api?.close();
  });

  it('refuses a TCP INVITE from the sandbox address and port number', async () => {
    const number: string = (await api.call('POST', '/v1/numbers', { body: { prefix: '+254', routing_url: `${app.url}/answer` } })).json().number;
    const sandbox = api.platform.sandbox!.address;
    const { port } = api.platform.sipAddress;
    const sdp = ['v=0', 'o=x 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0', ''].join('\r\n');
    const invite = [
      `INVITE sip:${number}@127.0.0.1:${port};transport=tcp SIP/2.0`, `Via: SIP/2.0/TCP 127.0.0.1:${sandbox.port};branch=z9hG4bK-spoof`, 'Max-Forwards: 70',
      `To: <sip:${number}@127.0.0.1>`, 'From: <sip:+254711000001@127.0.0.1>;tag=s1', 'Call-ID: spoofed-sandbox', 'CSeq: 1 INVITE',
      `Contact: <sip:x@127.0.0.1:${sandbox.port};transport=tcp>`, 'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp,
    ].join('\r\n');
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, localAddress: sandbox.host, localPort: sandbox.port }, () => socket.write(invite));
      let text = '';
      socket.on('data', (d: Buffer) => {
        text += d.toString();
        const final = /SIP\/2\.0 [2-6]\d\d [^\r]*/.exec(text);
        if (final) {
          socket.destroy();
          resolve(final[0]);
        }
      });
      socket.once('error', reject);
    });
    expect(answer).toBe('SIP/2.0 403 Forbidden');
    expect(app.requests).toHaveLength(0);
  });

  it('refuses a UDP INVITE that carries the own-number hop header with a guessed token', async () => {
    const number: string = (await api.call('POST', '/v1/numbers', { body: { prefix: '+254', routing_url: `${app.url}/answer` } })).json().number;
    const { port } = api.platform.sipAddress;
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const local = socket.address().port;
    const sdp = ['v=0', 'o=x 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0', ''].join('\r\n');
    const invite = [
      `INVITE sip:${number}@127.0.0.1:${port} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK-hop`, 'Max-Forwards: 70',
      `To: <sip:${number}@127.0.0.1>`, 'From: <sip:+254711000001@127.0.0.1>;tag=h1', 'Call-ID: guessed-hop', 'CSeq: 1 INVITE',
      `${ownNumberHopHeader}: ${'0'.repeat(32)}`, `Contact: <sip:x@127.0.0.1:${local}>`, 'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp,
    ].join('\r\n');
    const answer = await new Promise<string>((resolve) => {
      socket.on('message', (m: Buffer) => {
        const final = /^SIP\/2\.0 [2-6]\d\d [^\r]*/.exec(m.toString());
        if (final) resolve(final[0]);
      });
      socket.send(invite, port, '127.0.0.1');
    });
    socket.close();
    expect(answer).toBe('SIP/2.0 403 Forbidden');
    expect(app.requests).toHaveLength(0);
  });
});
