import { afterEach, describe, expect, it } from 'vitest';
import {
  DigestServer,
  isSipUri,
  mediaDirection,
  parseDatagram,
  parseSdp,
  serializeMessage,
  SipRequestError,
  SipUserAgent,
  type IncomingCall,
  type IncomingCallEvents,
  type OutgoingCallEvents,
  type SipSessionEvents,
  type SipUserAgentEvents,
  type SipSession,
  type TransportProtocol,
} from '../../src/sip/index.js';
import { makeTestCert } from '../helpers/test-cert.js';
import { FAST_TIMERS, SDP_ANSWER, SDP_OFFER, UdpPeer, once, sleep } from './helpers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function agent(protocol: TransportProtocol = 'udp', options: ConstructorParameters<typeof SipUserAgent>[0] = {}): Promise<SipUserAgent> {
  const ua = new SipUserAgent({ listen: [{ protocol, host: '127.0.0.1', port: 0 }], timers: FAST_TIMERS, closeTimeoutMs: 500, ...options });
  await ua.start();
  cleanups.push(() => ua.close());
  return ua;
}

function target(ua: SipUserAgent, protocol: TransportProtocol = 'udp'): string {
  const { host, port } = ua.localAddress(protocol);
  return `sip:bob@${host}:${port}${protocol === 'tcp' ? ';transport=tcp' : ''}`;
}

/** Alice calls Bob; Bob rings then answers. Returns both sessions once Bob has the ACK. */
async function connectedCall(protocol: TransportProtocol = 'udp'): Promise<{ alice: SipUserAgent; bob: SipUserAgent; a: SipSession; b: SipSession }> {
  const alice = await agent(protocol);
  const bob = await agent(protocol);
  const bobSession = new Promise<SipSession>((resolve) => {
    bob.on('invite', (call) => {
      call.ring();
      const session = call.answer(SDP_ANSWER);
      session.once('established', () => resolve(session));
    });
  });
  const a = await alice.invite(target(bob, protocol), { sdp: SDP_OFFER, from: 'sip:alice@example.com' }).wait();
  const b = await bobSession;
  return { alice, bob, a, b };
}

describe('sipUserAgent calls', () => {
  it.each(['udp', 'tcp'] as const)('sets up a call with SDP offer/answer and ends it with BYE (%s)', async (protocol) => {
    const alice = await agent(protocol);
    const bob = await agent(protocol);
    const incoming = once<SipUserAgentEvents, 'invite'>(bob, 'invite');
    const call = alice.invite(target(bob, protocol), { sdp: SDP_OFFER, from: '"Alice" <sip:alice@example.com>', headers: [['X-Tenant', 'acme']] });
    const provisional = once<OutgoingCallEvents, 'provisional'>(call, 'provisional');
    const [inc] = await incoming;
    expect(inc.from.displayName).toBe('Alice');
    expect(inc.request.headers.get('X-Tenant')).toBe('acme');
    expect(inc.sdp).toBe(SDP_OFFER);
    inc.ring();
    expect((await provisional)[0].status).toBe(180);
    const b = inc.answer(SDP_ANSWER);
    const a = await call.wait();
    await once<SipSessionEvents, 'established'>(b, 'established');
    expect(a.remoteSdp).toBe(SDP_ANSWER);
    expect(b.remoteSdp).toBe(SDP_OFFER);
    expect(a.callId).toBe(b.callId);
    const ended = once<SipSessionEvents, 'ended'>(b, 'ended');
    await a.bye();
    expect((await ended)[0].by).toBe('remote');
    expect(a.state).toBe('ended');
    expect(alice.sessions.size).toBe(0);
    expect(bob.sessions.size).toBe(0);
  });

  it('reports a rejection as failed with the status', async () => {
    const alice = await agent();
    const bob = await agent();
    bob.on('invite', (call) => call.reject(486));
    const call = alice.invite(target(bob), { sdp: SDP_OFFER });
    const [failure] = await once<OutgoingCallEvents, 'failed'>(call, 'failed');
    expect(failure).toMatchObject({ status: 486, cancelled: false });
    await expect(call.wait()).rejects.toBeInstanceOf(SipRequestError);
  });

  it('answers 480 when nobody handles incoming calls', async () => {
    const alice = await agent();
    const bob = await agent();
    await expect(alice.invite(target(bob), { sdp: SDP_OFFER }).wait()).rejects.toMatchObject({ status: 480 });
  });

  it('cancels a ringing call when the signal aborts', async () => {
    const alice = await agent();
    const bob = await agent();
    const controller = new AbortController();
    const ringing = new Promise<IncomingCall>((resolve) =>
      bob.on('invite', (call) => {
        call.ring();
        resolve(call);
      }),
    );
    const call = alice.invite(target(bob), { sdp: SDP_OFFER, signal: controller.signal });
    call.on('provisional', () => controller.abort());
    const inc = await ringing;
    await once<IncomingCallEvents, 'cancelled'>(inc, 'cancelled');
    expect(inc.signal.aborted).toBe(true);
    const [failure] = await once<OutgoingCallEvents, 'failed'>(call, 'failed');
    expect(failure).toMatchObject({ status: 487, cancelled: true });
  });

  it('renegotiates with re-INVITE: hold answered recvonly by default, then unhold', async () => {
    const { a, b } = await connectedCall();
    const updated = once<SipSessionEvents, 'updated'>(b, 'updated');
    const held = await a.hold();
    await updated;
    expect(mediaDirection(parseSdp(held.sdp!))).toBe('recvonly');
    expect(mediaDirection(parseSdp(b.remoteSdp!))).toBe('sendonly');
    const resumed = await a.hold(false);
    expect(mediaDirection(parseSdp(resumed.sdp!))).toBe('sendrecv');
  });

  it('lets the owner answer or refuse a re-INVITE', async () => {
    const { a, b } = await connectedCall();
    b.once('reinvite', (reinvite) => reinvite.reject(488));
    await expect(a.reinvite(SDP_OFFER)).rejects.toMatchObject({ status: 488 });
    b.once('reinvite', (reinvite) => reinvite.accept(SDP_ANSWER.replace('40002', '41000')));
    const answer = await a.reinvite(SDP_OFFER.replace('40000', '42000'));
    expect(answer.sdp).toContain('m=audio 41000');
    expect(a.state).toBe('established');
  });

  it('keeps a SIPS Contact on every in-dialog request and answer of a dialog begun with a sips: URI (RFC 3261 §12.1.1)', async () => {
    const cert = makeTestCert();
    cleanups.push(() => cert.remove());
    const tls = { cert: cert.cert, key: cert.key, ca: cert.cert };
    const alice = await agent('tls', { tls });
    const bob = await agent('tls', { tls });
    const bobSession = new Promise<SipSession>((resolve) => bob.on('invite', (call) => {
      const session = call.answer(SDP_ANSWER);
      session.once('established', () => resolve(session));
    }));
    const a = await alice.invite(`sips:bob@127.0.0.1:${bob.localAddress('tls').port}`, { sdp: SDP_OFFER, from: 'sips:alice@example.com' }).wait();
    const b = await bobSession;
    // Bob answers a re-INVITE: the 200's Contact is still sips:.
    const acked = once<SipSessionEvents, 'updated'>(b, 'updated');
    const answered = await a.reinvite(SDP_OFFER.replace('40000', '42000'));
    expect(answered.response.headers.get('Contact')).toMatch(/^<sips:/);
    await acked;
    // Bob sends one: its Contact is sips: too.
    const received = once<SipSessionEvents, 'reinvite'>(a, 'reinvite');
    const sent = b.reinvite(SDP_ANSWER.replace('40002', '41000'));
    const [reinvite] = await received;
    expect(reinvite.request.headers.get('Contact')).toMatch(/^<sips:/);
    reinvite.accept(SDP_OFFER);
    await sent;
  });

  it('delivers DTMF sent with SIP INFO', async () => {
    const { a, b } = await connectedCall();
    const info = once<SipSessionEvents, 'info'>(b, 'info');
    const response = await a.info('Signal=5\r\nDuration=160\r\n', 'application/dtmf-relay');
    expect(response.status).toBe(200);
    expect((await info)[0].dtmf).toEqual({ signal: '5', durationMs: 160 });
  });

  it('ends the call on both sides when the caller agent closes', async () => {
    const { alice, b } = await connectedCall('tcp');
    const ended = once<SipSessionEvents, 'ended'>(b, 'ended');
    await Promise.all([alice.close(), alice.close()]);
    expect((await ended)[0].by).toBe('remote');
  });

  it('fails pending outgoing calls when the agent closes', async () => {
    const alice = await agent();
    const silent = new UdpPeer();
    await silent.bind();
    cleanups.push(() => silent.close());
    const call = alice.invite(`sip:nobody@127.0.0.1:${silent.port}`, { sdp: SDP_OFFER });
    await silent.waitFor((r) => r.length > 0);
    await alice.close();
    await expect(call.wait()).rejects.toMatchObject({ status: 487 });
    expect(call.state).toBe('failed');
  });

  it('a draining agent answers OPTIONS 503 with Retry-After (a load balancer takes it out) while its calls go on to the BYE', async () => {
    const { alice, bob, a, b } = await connectedCall();
    expect(await alice.probe(target(bob), { timeoutMs: 2000 })).toEqual({ answered: true, status: 200 });
    bob.drain();
    const probed = await alice.request('OPTIONS', target(bob), { headers: [] });
    expect(probed.status).toBe(503);
    expect(probed.headers.get('Retry-After')).toBe('30');
    const ended = once<SipSessionEvents, 'ended'>(b, 'ended');
    await a.bye();
    expect((await ended)[0].by).toBe('remote');
  });

  it('answers 481 to a BYE for an unknown dialog', async () => {
    const { alice, bob, a } = await connectedCall();
    await a.bye();
    // A second BYE in the (now gone) dialog must be refused.
    const response = await alice.request('BYE', target(bob), { headers: [] });
    expect(response.status).toBe(481);
  });
});

describe('uas 2xx retransmission (RFC 3261 §13.3.1.4)', () => {
  function invite(port: number, peerPort: number, branch: string): string {
    return [
      `INVITE sip:bob@127.0.0.1:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${peerPort};branch=${branch};rport`,
      'Max-Forwards: 70',
      `To: <sip:bob@127.0.0.1:${port}>`,
      'From: <sip:peer@127.0.0.1>;tag=p1',
      `Call-ID: retrans-${branch}`,
      'CSeq: 1 INVITE',
      `Contact: <sip:peer@127.0.0.1:${peerPort}>`,
      'Content-Type: application/sdp',
      `Content-Length: ${Buffer.byteLength(SDP_OFFER)}`,
      '',
      SDP_OFFER,
    ].join('\r\n');
  }

  it('takes an ACK for the 2xx that reuses the INVITE branch (RFC 2543 style)', async () => {
    const bob = await agent();
    const peer = new UdpPeer();
    await peer.bind();
    cleanups.push(() => peer.close());
    const sessionP = new Promise<SipSession>((resolve) => bob.on('invite', (call) => resolve(call.answer(SDP_ANSWER))));
    peer.send(invite(bob.localAddress().port, peer.port, 'z9hG4bKsame'), bob.localAddress().port);
    const session = await sessionP;
    await peer.waitFor((r) => r.some((m) => m.startLine.startsWith('SIP/2.0 200')));
    const ok = peer.received.find((m) => m.startLine.startsWith('SIP/2.0 200'))!;
    const established = once<SipSessionEvents, 'established'>(session, 'established');
    peer.send(
      [
        `ACK sip:bob@127.0.0.1:${bob.localAddress().port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKsame;rport`,
        'Max-Forwards: 70',
        `To: ${ok.headers.get('To')}`,
        'From: <sip:peer@127.0.0.1>;tag=p1',
        'Call-ID: retrans-z9hG4bKsame',
        'CSeq: 1 ACK',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
      bob.localAddress().port,
    );
    await established;
    expect(session.state).toBe('established');
  });

  it('holds a BYE asked for before the ACK until the ACK arrives (RFC 3261 §15)', async () => {
    const bob = await agent();
    const peer = new UdpPeer();
    await peer.bind();
    cleanups.push(() => peer.close());
    const sessionP = new Promise<SipSession>((resolve) => bob.on('invite', (call) => resolve(call.answer(SDP_ANSWER))));
    peer.send(invite(bob.localAddress().port, peer.port, 'z9hG4bKearly'), bob.localAddress().port);
    const session = await sessionP;
    const hungUp = session.bye();
    await peer.waitFor((r) => r.filter((m) => m.startLine.startsWith('SIP/2.0 200')).length >= 2);
    expect(peer.received.some((m) => m.startLine.startsWith('BYE'))).toBe(false);
    const ok = peer.received.find((m) => m.startLine.startsWith('SIP/2.0 200'))!;
    peer.send(
      [
        `ACK sip:bob@127.0.0.1:${bob.localAddress().port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKearlyack`,
        'Max-Forwards: 70',
        `To: ${ok.headers.get('To')}`,
        'From: <sip:peer@127.0.0.1>;tag=p1',
        'Call-ID: retrans-z9hG4bKearly',
        'CSeq: 1 ACK',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
      bob.localAddress().port,
    );
    await peer.waitFor((r) => r.some((m) => m.startLine.startsWith('BYE')));
    const bye = peer.received.find((m) => m.startLine.startsWith('BYE'))!;
    const { createResponse } = await import('../../src/sip/index.js');
    peer.send(serializeMessage(createResponse(bye as never, 200)), bob.localAddress().port);
    await hungUp;
    expect(session.state).toBe('ended');
  });

  it('retransmits the 2xx until the ACK arrives', async () => {
    const bob = await agent();
    const peer = new UdpPeer();
    await peer.bind();
    cleanups.push(() => peer.close());
    let session: SipSession | undefined;
    bob.on('invite', (call) => (session = call.answer(SDP_ANSWER)));
    peer.send(invite(bob.localAddress().port, peer.port, 'z9hG4bKr1'), bob.localAddress().port);
    await peer.waitFor((r) => r.filter((m) => m.startLine.startsWith('SIP/2.0 200')).length >= 3);
    const ok = peer.received.find((m) => m.startLine.startsWith('SIP/2.0 200'))!;
    const ack = [
      `ACK sip:bob@127.0.0.1:${bob.localAddress().port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKack1`,
      'Max-Forwards: 70',
      `To: ${ok.headers.get('To')}`,
      'From: <sip:peer@127.0.0.1>;tag=p1',
      'Call-ID: retrans-z9hG4bKr1',
      'CSeq: 1 ACK',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    const established = once<SipSessionEvents, 'established'>(session!, 'established');
    peer.send(ack, bob.localAddress().port);
    await established;
    const count = peer.received.length;
    await sleep(4 * FAST_TIMERS.t2);
    expect(peer.received.length).toBe(count);
    expect(session!.state).toBe('established');
  });

  it('sends BYE when no ACK comes within 64*T1', async () => {
    const bob = await agent('udp', { timers: { t1: 10, t2: 40, t4: 50 } });
    const peer = new UdpPeer();
    await peer.bind();
    cleanups.push(() => peer.close());
    const ended = new Promise<{ reason: string }>((resolve) => bob.on('invite', (call) => call.answer(SDP_ANSWER).once('ended', resolve)));
    peer.send(invite(bob.localAddress().port, peer.port, 'z9hG4bKr2'), bob.localAddress().port);
    await peer.waitFor((r) => r.some((m) => m.startLine.startsWith('BYE')), 64 * 10 + 3000);
    const bye = peer.received.find((m) => m.startLine.startsWith('BYE'))!;
    expect(bye.kind === 'request' && isSipUri(bye.uri) && bye.uri.user).toBe('peer');
    // Answer the BYE so the session ends.
    const ok = parseDatagram(serializeMessage(bye));
    const response = (await import('../../src/sip/index.js')).createResponse(ok as never, 200);
    peer.send(serializeMessage(response), bob.localAddress().port);
    expect((await ended).reason).toBe('ack-timeout');
  });
});

describe('invite authentication', () => {
  it('answers a 407 proxy challenge with Proxy-Authorization and a new CSeq (trunk style)', async () => {
    const digest = new DigestServer({ realm: 'trunk.test', algorithms: ['MD5'] });
    const bob = await agent('tcp', { inviteAuth: { digest, credentials: async (user) => (user === 'acct' ? 'trunkpw' : undefined), proxy: true } });
    const alice = await agent('tcp');
    const invites: Array<{ cseq: number; auth: string | undefined }> = [];
    bob.on('invite', (call) => {
      invites.push({ cseq: call.request.cseq.seq, auth: call.request.headers.get('Proxy-Authorization') });
      call.answer(SDP_ANSWER);
    });
    const call = alice.invite(target(bob, 'tcp'), { sdp: SDP_OFFER, auth: { username: 'acct', password: 'trunkpw' } });
    const session = await call.wait();
    expect(invites).toHaveLength(1);
    expect(invites[0]!.cseq).toBe(2);
    expect(invites[0]!.auth).toMatch(/^Digest username="acct", realm="trunk.test"/);
    expect(call.request.cseq.seq).toBe(2);
    await session.bye();
  });

  it('challenges INVITEs and accepts digest answers from the caller', async () => {
    const digest = new DigestServer({ realm: 'sautikit.test' });
    const bob = await agent('udp', { inviteAuth: { digest, credentials: async (user) => (user === 'alice' ? 'pw' : undefined) } });
    const alice = await agent();
    const users: Array<string | undefined> = [];
    bob.on('invite', (call) => {
      users.push(call.authenticatedUser);
      call.answer(SDP_ANSWER);
    });
    await expect(alice.invite(target(bob), { sdp: SDP_OFFER }).wait()).rejects.toMatchObject({ status: 401 });
    await expect(alice.invite(target(bob), { sdp: SDP_OFFER, auth: { username: 'alice', password: 'wrong' } }).wait()).rejects.toMatchObject({ status: 401 });
    const session = await alice.invite(target(bob), { sdp: SDP_OFFER, auth: { username: 'alice', password: 'pw' } }).wait();
    expect(session.state).toBe('established');
    expect(users).toEqual(['alice']);
  });
});

describe('dialog edge cases', () => {
  it('sends in-dialog requests to the source address when the Contact is private (NAT)', async () => {
    const bob = await agent();
    const peer = new UdpPeer();
    await peer.bind();
    cleanups.push(() => peer.close());
    const port = bob.localAddress().port;
    const sessionP = new Promise<SipSession>((resolve) => bob.on('invite', (call) => resolve(call.answer(SDP_ANSWER))));
    peer.send(
      [
        `INVITE sip:bob@127.0.0.1:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP 10.1.2.3:5060;branch=z9hG4bKnat1;rport`,
        'Max-Forwards: 70',
        `To: <sip:bob@127.0.0.1:${port}>`,
        'From: <sip:phone@10.1.2.3>;tag=n1',
        'Call-ID: nat-1',
        'CSeq: 1 INVITE',
        'Contact: <sip:phone@10.1.2.3:5060>',
        'Content-Type: application/sdp',
        `Content-Length: ${Buffer.byteLength(SDP_OFFER)}`,
        '',
        SDP_OFFER,
      ].join('\r\n'),
      port,
    );
    const session = await sessionP;
    await peer.waitFor((r) => r.some((m) => m.startLine.startsWith('SIP/2.0 200')));
    const ok = peer.received.find((m) => m.startLine.startsWith('SIP/2.0 200'))!;
    expect(ok.topVia.params.get('received')).toBe('127.0.0.1');
    expect(ok.topVia.params.get('rport')).toBe(String(peer.port));
    const established = once<SipSessionEvents, 'established'>(session, 'established');
    peer.send(
      [
        `ACK sip:bob@127.0.0.1:${port} SIP/2.0`,
        'Via: SIP/2.0/UDP 10.1.2.3:5060;branch=z9hG4bKnat1ack;rport',
        'Max-Forwards: 70',
        `To: ${ok.headers.get('To')}`,
        'From: <sip:phone@10.1.2.3>;tag=n1',
        'Call-ID: nat-1',
        'CSeq: 1 ACK',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
      port,
    );
    await established;
    void session.bye();
    await peer.waitFor((r) => r.some((m) => m.startLine.startsWith('BYE sip:phone@10.1.2.3:5060')));
  });

  it('re-sends the same ACK when the 2xx is retransmitted', async () => {
    const alice = await agent();
    const peer = new UdpPeer();
    await peer.bind();
    cleanups.push(() => peer.close());
    const call = alice.invite(`sip:peer@127.0.0.1:${peer.port}`, { sdp: SDP_OFFER });
    await peer.waitFor((r) => r.some((m) => m.startLine.startsWith('INVITE')));
    const invite = peer.received.find((m) => m.startLine.startsWith('INVITE'))!;
    const { createResponse } = await import('../../src/sip/index.js');
    const ok = serializeMessage(
      createResponse(invite as never, 200, { toTag: 'p9', body: SDP_ANSWER, headers: [['Contact', `<sip:peer@127.0.0.1:${peer.port}>`]] }),
    );
    peer.send(ok, alice.localAddress().port);
    await call.wait();
    peer.send(ok, alice.localAddress().port);
    await peer.waitFor((r) => r.filter((m) => m.startLine.startsWith('ACK')).length === 2);
    const acks = peer.received.filter((m) => m.startLine.startsWith('ACK'));
    expect(acks[0]!.cseq).toEqual({ seq: invite.cseq.seq, method: 'ACK' });
    expect(acks[1]!.topVia.params.get('branch')).toBe(acks[0]!.topVia.params.get('branch'));
  });
});

describe('behind NAT (SPEC §13)', () => {
  it('answers a request to its source ip:port, not to its Via, filling received and rport (RFC 3581 §4)', async () => {
    const bob = await agent();
    const peer = new UdpPeer();
    await peer.bind();
    cleanups.push(() => peer.close());
    // The Via names a port the peer does not send from (a NAT rewrote the source port).
    peer.send(
      [
        `OPTIONS sip:bob@127.0.0.1:${bob.localAddress().port} SIP/2.0`,
        'Via: SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bKrport1;rport',
        'Max-Forwards: 70',
        `To: <sip:bob@127.0.0.1>`,
        'From: <sip:phone@192.168.1.20>;tag=r1',
        'Call-ID: rport-1',
        'CSeq: 1 OPTIONS',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
      bob.localAddress().port,
    );
    await peer.waitFor((r) => r.some((m) => m.startLine.startsWith('SIP/2.0 200')));
    const ok = peer.received.find((m) => m.startLine.startsWith('SIP/2.0 200'))!;
    expect(ok.topVia.host).toBe('192.168.1.20');
    expect(ok.topVia.params.get('received')).toBe('127.0.0.1');
    expect(ok.topVia.params.get('rport')).toBe(String(peer.port));
  });

  it('puts ;rport in the Via of every request it sends: INVITE, ACK, BYE, OPTIONS, REGISTER', async () => {
    const alice = await agent();
    const peer = new UdpPeer();
    await peer.bind();
    cleanups.push(() => peer.close());
    const peerUri = `sip:peer@127.0.0.1:${peer.port}`;
    void alice.request('OPTIONS', peerUri);
    void alice.register({ registrar: peerUri, aor: 'sip:alice@example.com' }).catch(() => undefined);
    const call = alice.invite(peerUri, { sdp: SDP_OFFER });
    await peer.waitFor((r) => ['OPTIONS', 'REGISTER', 'INVITE'].every((method) => r.some((m) => m.startLine.startsWith(method))));
    const invite = peer.received.find((m) => m.startLine.startsWith('INVITE'))!;
    if (invite.kind !== 'request') throw new Error('unreachable');
    const { createResponse } = await import('../../src/sip/index.js');
    const ok = createResponse(invite, 200, { toTag: 'p1', body: SDP_ANSWER, headers: [['Contact', `<${peerUri}>`]] });
    peer.send(serializeMessage(ok), alice.localAddress().port);
    const session = await call.wait();
    void session.bye();
    await peer.waitFor((r) => ['ACK', 'BYE'].every((method) => r.some((m) => m.startLine.startsWith(method))));
    const requests = peer.received.filter((m) => !m.startLine.startsWith('SIP/2.0'));
    expect(requests.length).toBeGreaterThanOrEqual(5);
    for (const request of requests) expect(request.topVia.params.has('rport'), request.startLine).toBe(true);
  });

  it('writes the external address (a name) in Via and Contact, its IP in SDP, and the local address for a peer on this machine', async () => {
    const { AdvertisedHost } = await import('../../src/shared/advertised-host.js');
    const advertised = new AdvertisedHost({ bind: '0.0.0.0', external: 'voice.example.com', externalMedia: '203.0.113.10' });
    const bob = await agent('udp', { listen: [{ protocol: 'udp', host: '0.0.0.0', port: 0 }], advertisedHost: advertised });
    expect(bob.localAddress().host).toBe('voice.example.com');
    expect(bob.advertisedHostFor('198.51.100.7')).toBe('voice.example.com');
    expect(bob.advertisedHostFor('127.0.0.1')).toBe('127.0.0.1');
    // SDP gets an IP: the external name resolved at start.
    expect(bob.advertisedMediaAddressForTarget('sip:x@198.51.100.7:5080')).toBe('203.0.113.10');
    expect(bob.advertisedMediaAddressForTarget('sip:x@198.51.100.7', 'sip:127.0.0.1:5070')).toBe('127.0.0.1');
    const peer = new UdpPeer();
    await peer.bind();
    cleanups.push(() => peer.close());
    const answered = new Promise<SipSession>((resolve) => bob.on('invite', (c) => resolve(c.answer(SDP_ANSWER))));
    peer.send(
      [
        `INVITE sip:bob@127.0.0.1:${bob.localAddress().port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKadv1;rport`,
        'Max-Forwards: 70',
        'To: <sip:bob@127.0.0.1>',
        `From: <sip:phone@127.0.0.1:${peer.port}>;tag=a1`,
        'Call-ID: adv-1',
        'CSeq: 1 INVITE',
        `Contact: <sip:phone@127.0.0.1:${peer.port}>`,
        'Content-Type: application/sdp',
        `Content-Length: ${Buffer.byteLength(SDP_OFFER)}`,
        '',
        SDP_OFFER,
      ].join('\r\n'),
      bob.localAddress().port,
    );
    const session = await answered;
    await peer.waitFor((r) => r.some((m) => m.startLine.startsWith('SIP/2.0 200')));
    const ok = peer.received.find((m) => m.startLine.startsWith('SIP/2.0 200'))!;
    expect(ok.headers.get('Contact')).toContain(`@127.0.0.1:${bob.localAddress().port}`);
    void session.bye();
    await peer.waitFor((r) => r.some((m) => m.startLine.startsWith('BYE')));
    const bye = peer.received.find((m) => m.startLine.startsWith('BYE'))!;
    expect(bye.topVia.host).toBe('127.0.0.1');
  });
});
