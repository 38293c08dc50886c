import { afterEach, describe, expect, it } from 'vitest';
import {
  createResponse,
  newBranch,
  parseDatagram,
  serializeMessage,
  TcpTransport,
  TransactionLayer,
  UdpTransport,
  type InviteServerTransaction,
  type SipRequest,
  type SipResponse,
} from '../../src/sip/index.js';
import { UdpPeer, sleep } from './helpers.js';

const T = { t1: 20, t2: 80, t4: 100 };

function request(method: string, branch = newBranch(), extra = ''): SipRequest {
  return parseDatagram(
    Buffer.from(
      [
        `${method} sip:bob@127.0.0.1 SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:5999;branch=${branch}`,
        'Max-Forwards: 70',
        'To: <sip:bob@127.0.0.1>',
        'From: <sip:alice@127.0.0.1>;tag=a1',
        'Call-ID: tx-test',
        `CSeq: 7 ${method}`,
        extra,
        'Content-Length: 0',
        '',
        '',
      ]
        .filter((l, i, all) => l !== '' || i >= all.length - 2)
        .join('\r\n'),
    ),
  ) as SipRequest;
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function setup(): Promise<{ layer: TransactionLayer; transport: UdpTransport; peer: UdpPeer }> {
  const transport = new UdpTransport({ host: '127.0.0.1', port: 0 });
  await transport.listen();
  const layer = new TransactionLayer({ timers: T });
  transport.on('message', (message) => {
    if (message.kind === 'response') layer.matchClient(message)?.receiveResponse(message);
    else layer.matchServer(message)?.receiveRequest(message);
  });
  const peer = new UdpPeer();
  await peer.bind();
  cleanups.push(() => peer.close(), () => layer.close(), () => transport.close());
  return { layer, transport, peer };
}

const count = (messages: Array<{ startLine: string }>, start: string): number => messages.filter((m) => m.startLine.startsWith(start)).length;

describe('nonInviteClientTransaction', () => {
  it('retransmits over UDP until a final response, then absorbs retransmissions of it', async () => {
    const { layer, transport, peer } = await setup();
    const req = request('OPTIONS');
    const tx = layer.sendRequest(req, { transport, remote: { address: '127.0.0.1', port: peer.port } });
    const responses: SipResponse[] = [];
    tx.on('response', (r) => responses.push(r));
    await peer.waitFor((r) => count(r, 'OPTIONS') >= 3);
    const ok = serializeMessage(createResponse(req, 200, { toTag: 'b1' }));
    peer.send(ok, transport.local.port);
    peer.send(ok, transport.local.port);
    await new Promise<void>((resolve) => tx.once('terminated', resolve));
    expect(responses.map((r) => r.status)).toEqual([200]);
    const sent = count(peer.received, 'OPTIONS');
    await sleep(3 * T.t2);
    expect(count(peer.received, 'OPTIONS')).toBe(sent);
  });

  it('times out with Timer F when nobody answers', async () => {
    const { layer, transport, peer } = await setup();
    const tx = layer.sendRequest(request('OPTIONS'), { transport, remote: { address: '127.0.0.1', port: peer.port } });
    const started = Date.now();
    await new Promise<void>((resolve) => tx.once('timeout', resolve));
    expect(Date.now() - started).toBeGreaterThanOrEqual(64 * T.t1 - 5);
    expect(tx.state).toBe('terminated');
    expect(layer.size.clients).toBe(0);
  });

  it('does not retransmit over TCP', async () => {
    const server = new TcpTransport({ host: '127.0.0.1', port: 0 });
    const client = new TcpTransport({ host: '127.0.0.1', port: 0 });
    await server.listen();
    await client.listen();
    cleanups.push(() => server.close(), () => client.close());
    let received = 0;
    server.on('message', () => received++);
    const layer = new TransactionLayer({ timers: T });
    cleanups.push(() => layer.close());
    const tx = layer.sendRequest(request('OPTIONS'), { transport: client, remote: server.local });
    await new Promise<void>((resolve) => tx.once('timeout', resolve));
    expect(received).toBe(1);
  });
});

describe('inviteClientTransaction', () => {
  it('retransmits the INVITE with Timer A doubling, and ACKs a non-2xx in the transaction', async () => {
    const { layer, transport, peer } = await setup();
    const invite = request('INVITE');
    const tx = layer.sendRequest(invite, { transport, remote: { address: '127.0.0.1', port: peer.port } });
    const statuses: number[] = [];
    tx.on('response', (r) => statuses.push(r.status));
    await peer.waitFor((r) => count(r, 'INVITE') >= 3);
    const busy = serializeMessage(createResponse(invite, 486, { toTag: 'b2' }));
    peer.send(busy, transport.local.port);
    await peer.waitFor((r) => count(r, 'ACK') === 1);
    peer.send(busy, transport.local.port); // retransmitted final: ACK again, not passed up
    await peer.waitFor((r) => count(r, 'ACK') === 2);
    const ack = peer.received.find((m) => m.startLine.startsWith('ACK'))!;
    expect(ack.topVia.params.get('branch')).toBe(invite.topVia.params.get('branch'));
    expect(ack.toTag).toBe('b2');
    expect(ack.cseq).toEqual({ seq: 7, method: 'ACK' });
    expect(statuses).toEqual([486]);
    expect(tx.state).toBe('completed');
  });

  it('stops retransmitting on a provisional and passes 2xx retransmissions up in Accepted', async () => {
    const { layer, transport, peer } = await setup();
    const invite = request('INVITE');
    const tx = layer.sendRequest(invite, { transport, remote: { address: '127.0.0.1', port: peer.port } });
    const statuses: number[] = [];
    tx.on('response', (r) => statuses.push(r.status));
    await peer.waitFor((r) => count(r, 'INVITE') >= 1);
    peer.send(serializeMessage(createResponse(invite, 180, { toTag: 'c' })), transport.local.port);
    await sleep(20);
    const after = count(peer.received, 'INVITE');
    await sleep(4 * T.t1);
    expect(count(peer.received, 'INVITE')).toBe(after);
    const ok = serializeMessage(createResponse(invite, 200, { toTag: 'c' }));
    peer.send(ok, transport.local.port);
    peer.send(ok, transport.local.port);
    await sleep(50);
    expect(statuses).toEqual([180, 200, 200]);
    expect(tx.state).toBe('accepted');
    expect(count(peer.received, 'ACK')).toBe(0); // the 2xx ACK belongs to the UA core, not the transaction
  });
});

describe('inviteServerTransaction', () => {
  async function serverSetup(): Promise<{ layer: TransactionLayer; transport: UdpTransport; peer: UdpPeer; invite: SipRequest; tx: InviteServerTransaction }> {
    const ctx = await setup();
    const invite = request('INVITE');
    const tx = ctx.layer.createServer(invite, { transport: ctx.transport, remote: { address: '127.0.0.1', port: ctx.peer.port } }) as InviteServerTransaction;
    return { ...ctx, invite, tx };
  }

  it('retransmits the final response on a retransmitted INVITE', async () => {
    const { transport, peer, invite, tx } = await serverSetup();
    tx.respond(createResponse(invite, 100));
    peer.send(serializeMessage(invite), transport.local.port);
    await peer.waitFor((r) => count(r, 'SIP/2.0 100') === 2);
    tx.respond(createResponse(invite, 404, { toTag: 's1' }));
    tx.respond(createResponse(invite, 500, { toTag: 's1' })); // ignored: already final
    await peer.waitFor((r) => count(r, 'SIP/2.0 404') >= 1);
    const before = count(peer.received, 'SIP/2.0 404');
    peer.send(serializeMessage(invite), transport.local.port);
    await peer.waitFor((r) => count(r, 'SIP/2.0 404') > before);
    expect(count(peer.received, 'SIP/2.0 500')).toBe(0);
  });

  it('retransmits a non-2xx with Timer G until the ACK, then terminates after Timer I', async () => {
    const { transport, peer, invite, tx } = await serverSetup();
    tx.respond(createResponse(invite, 486, { toTag: 's2' }));
    await peer.waitFor((r) => count(r, 'SIP/2.0 486') >= 3);
    const ack = request('ACK', invite.topVia.params.get('branch')!, '');
    ack.headers.set('To', '<sip:bob@127.0.0.1>;tag=s2');
    peer.send(serializeMessage(ack), transport.local.port);
    await new Promise<void>((resolve) => tx.once('terminated', resolve));
    const total = count(peer.received, 'SIP/2.0 486');
    await sleep(3 * T.t2);
    expect(count(peer.received, 'SIP/2.0 486')).toBe(total);
  });

  it('gives up with Timer H when no ACK comes', async () => {
    const { invite, tx } = await serverSetup();
    tx.respond(createResponse(invite, 486, { toTag: 's3' }));
    await new Promise<void>((resolve) => tx.once('timeout', resolve));
    expect(tx.state).toBe('terminated');
  });

  it('moves to Accepted on a 2xx and absorbs INVITE retransmissions there', async () => {
    const { transport, peer, invite, tx } = await serverSetup();
    tx.respond(createResponse(invite, 200, { toTag: 's4' }));
    await peer.waitFor((r) => count(r, 'SIP/2.0 200') === 1);
    peer.send(serializeMessage(invite), transport.local.port);
    await sleep(60);
    expect(count(peer.received, 'SIP/2.0 200')).toBe(1);
    expect(tx.state).toBe('accepted');
  });
});

describe('nonInviteServerTransaction', () => {
  it('resends its final response to a retransmitted request and terminates after Timer J', async () => {
    const { layer, transport, peer } = await setup();
    const options = request('OPTIONS');
    const tx = layer.createServer(options, { transport, remote: { address: '127.0.0.1', port: peer.port } });
    tx.respond(createResponse(options, 200, { toTag: 'n1' }));
    peer.send(serializeMessage(options), transport.local.port);
    await peer.waitFor((r) => count(r, 'SIP/2.0 200') === 2);
    await new Promise<void>((resolve) => tx.once('terminated', resolve));
    expect(layer.size.servers).toBe(0);
  });
});

describe('transactionLayer matching', () => {
  it('matches by branch, sent-by and method; ACK of a non-2xx to its INVITE; CANCEL to the INVITE', () => {
    const layer = new TransactionLayer({ timers: T });
    cleanups.push(() => layer.close());
    const fake = { transport: new UdpTransport({ port: 0 }), remote: { address: '127.0.0.1', port: 1 } };
    cleanups.push(() => fake.transport.close());
    const invite = request('INVITE', 'z9hG4bKmatch1');
    const ist = layer.createServer(invite, fake);
    expect(layer.matchServer(request('INVITE', 'z9hG4bKmatch1'))).toBe(ist);
    expect(layer.matchServer(request('ACK', 'z9hG4bKmatch1'))).toBe(ist);
    expect(layer.matchCancelTarget(request('CANCEL', 'z9hG4bKmatch1'))).toBe(ist);
    expect(layer.matchServer(request('CANCEL', 'z9hG4bKmatch1'))).toBeUndefined();
    expect(layer.matchServer(request('INVITE', 'z9hG4bKother'))).toBeUndefined();
  });

  it('falls back to RFC 2543 matching for branches without the magic cookie', () => {
    const layer = new TransactionLayer({ timers: T });
    cleanups.push(() => layer.close());
    const fake = { transport: new UdpTransport({ port: 0 }), remote: { address: '127.0.0.1', port: 1 } };
    cleanups.push(() => fake.transport.close());
    const old = request('OPTIONS', 'z9hG4bK'); // RFC 4475 §3.2.1: cookie with nothing after it
    const tx = layer.createServer(old, fake);
    expect(layer.matchServer(request('OPTIONS', 'z9hG4bK'))).toBe(tx);
    const otherCall = request('OPTIONS', 'z9hG4bK');
    otherCall.headers.set('Call-ID', 'different');
    expect(layer.matchServer(otherCall)).toBeUndefined();
  });
});
