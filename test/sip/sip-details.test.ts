/**
 * The SIP details carriers and phones rely on (SPEC §13), each against a raw
 * UDP peer that shows what goes on the wire: digest challenges to requests
 * inside a dialog, RFC 4028 session timers, RFC 3262 reliable provisionals.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  createResponse,
  DigestServer,
  serializeMessage,
  SipUserAgent,
  type SipMessage,
  type SipRequest,
  type SipSession,
  type SipSessionEvents,
} from '../../src/sip/index.js';
import { FAST_TIMERS, SDP_ANSWER, SDP_OFFER, UdpPeer, once } from './helpers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function agent(options: ConstructorParameters<typeof SipUserAgent>[0] = {}): Promise<SipUserAgent> {
  const ua = new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], timers: FAST_TIMERS, closeTimeoutMs: 500, ...options });
  await ua.start();
  cleanups.push(() => ua.close());
  return ua;
}

async function peer(): Promise<UdpPeer> {
  const p = new UdpPeer();
  await p.bind();
  cleanups.push(() => p.close());
  return p;
}

const requests = (received: SipMessage[], method: string): SipRequest[] =>
  received.filter((m): m is SipRequest => m.kind === 'request' && m.method === method);
const responses = (received: SipMessage[], status: number, method: string) =>
  received.filter((m) => m.kind === 'response' && m.status === status && m.cseq.method === method);

/** A raw INVITE from `from` to the agent, with extra headers. */
function rawInvite(ua: SipUserAgent, from: UdpPeer, callId: string, extra: string[]): string {
  const port = ua.localAddress().port;
  return [
    `INVITE sip:bob@127.0.0.1:${port} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${from.port};branch=z9hG4bK-${callId};rport`, 'Max-Forwards: 70',
    `To: <sip:bob@127.0.0.1:${port}>`, 'From: <sip:carrier@127.0.0.1>;tag=c1', `Call-ID: ${callId}`, 'CSeq: 1 INVITE',
    `Contact: <sip:carrier@127.0.0.1:${from.port}>`, ...extra, 'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(SDP_OFFER)}`, '', SDP_OFFER,
  ].join('\r\n');
}

/** A raw request in the dialog the agent's 2xx `ok` created. */
function rawInDialog(ua: SipUserAgent, from: UdpPeer, ok: SipMessage, method: string, cseq: number, extra: string[] = []): string {
  const port = ua.localAddress().port;
  return [
    `${method} sip:bob@127.0.0.1:${port} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${from.port};branch=z9hG4bK-${method}-${cseq}-${ok.callId};rport`, 'Max-Forwards: 70',
    `To: ${ok.headers.get('To')}`, 'From: <sip:carrier@127.0.0.1>;tag=c1', `Call-ID: ${ok.callId}`, `CSeq: ${cseq} ${method}`, ...extra, 'Content-Length: 0', '', '',
  ].join('\r\n');
}

function answerWith(p: UdpPeer, ua: SipUserAgent, request: SipMessage, status: number, extra: Array<[string, string]> = [], body?: string): void {
  p.send(serializeMessage(createResponse(request as SipRequest, status, { toTag: 'p1', headers: [['Contact', `<sip:peer@127.0.0.1:${p.port}>`], ...extra], ...(body ? { body } : {}) })), ua.localAddress().port);
}

describe('401/407 to requests inside a dialog (RFC 3261 §22.2)', () => {
  it('answers a challenged INFO and BYE once with the credentials of the INVITE, same dialog, new CSeqs', async () => {
    const alice = await agent();
    const carrier = await peer();
    const digest = new DigestServer({ realm: 'carrier.test', algorithms: ['MD5'] });
    const lookup = async (user: string): Promise<string | undefined> => (user === 'acct' ? 'trunkpw' : undefined);
    const call = alice.invite(`sip:+254700@127.0.0.1:${carrier.port}`, { sdp: SDP_OFFER, auth: { username: 'acct', password: 'trunkpw' } });
    await carrier.waitFor((r) => requests(r, 'INVITE').length === 1);
    answerWith(carrier, alice, requests(carrier.received, 'INVITE')[0]!, 200, [], SDP_ANSWER);
    const session = await call.wait();

    // INFO gets 401: retried with Authorization.
    const info = session.info('Signal=5\r\nDuration=160\r\n', 'application/dtmf-relay');
    await carrier.waitFor((r) => requests(r, 'INFO').length === 1);
    const firstInfo = requests(carrier.received, 'INFO')[0]!;
    carrier.send(serializeMessage(createResponse(firstInfo, 401, { headers: digest.challenge().map((v) => ['WWW-Authenticate', v] as [string, string]) })), alice.localAddress().port);
    await carrier.waitFor((r) => requests(r, 'INFO').length === 2);
    const retriedInfo = requests(carrier.received, 'INFO')[1]!;
    expect((await digest.verify(retriedInfo, lookup, 'Authorization')).ok).toBe(true);
    expect(retriedInfo.cseq.seq).toBe(firstInfo.cseq.seq + 1);
    carrier.send(serializeMessage(createResponse(retriedInfo, 200)), alice.localAddress().port);
    expect((await info).status).toBe(200);

    // BYE gets 407: retried with Proxy-Authorization, same Call-ID and tags, next CSeq.
    const bye = session.bye();
    await carrier.waitFor((r) => requests(r, 'BYE').length === 1);
    const firstBye = requests(carrier.received, 'BYE')[0]!;
    expect(firstBye.cseq.seq).toBeGreaterThan(retriedInfo.cseq.seq);
    carrier.send(serializeMessage(createResponse(firstBye, 407, { headers: digest.challenge().map((v) => ['Proxy-Authenticate', v] as [string, string]) })), alice.localAddress().port);
    await carrier.waitFor((r) => requests(r, 'BYE').length === 2);
    const retriedBye = requests(carrier.received, 'BYE')[1]!;
    expect((await digest.verify(retriedBye, lookup, 'Proxy-Authorization')).ok).toBe(true);
    expect(retriedBye.cseq.seq).toBe(firstBye.cseq.seq + 1);
    expect([retriedBye.callId, retriedBye.fromTag, retriedBye.toTag]).toEqual([firstBye.callId, firstBye.fromTag, 'p1']);
    carrier.send(serializeMessage(createResponse(retriedBye, 200)), alice.localAddress().port);
    await bye;
    expect(session.state).toBe('ended');
  });
});

describe('rFC 4028 session timers', () => {
  it('answers 422 with our Min-SE to a Session-Expires below it', async () => {
    const bob = await agent({ minSessionExpires: 2 });
    bob.on('invite', (call) => call.answer(SDP_ANSWER));
    const carrier = await peer();
    carrier.send(rawInvite(bob, carrier, 'se-small', ['Supported: timer', 'Session-Expires: 1']), bob.localAddress().port);
    await carrier.waitFor((r) => responses(r, 422, 'INVITE').length === 1);
    expect(responses(carrier.received, 422, 'INVITE')[0]!.headers.get('Min-SE')).toBe('2');
  });

  it('as refresher (refresher=uas asked), refreshes with UPDATE when the peer allows it, each time the peer answers', async () => {
    const bob = await agent({ minSessionExpires: 2 });
    const session = new Promise<SipSession>((resolve) => bob.on('invite', (call) => resolve(call.answer(SDP_ANSWER))));
    const carrier = await peer();
    carrier.send(rawInvite(bob, carrier, 'se-uas', ['Supported: timer', 'Session-Expires: 2;refresher=uas', 'Allow: INVITE, ACK, BYE, CANCEL, UPDATE']), bob.localAddress().port);
    await carrier.waitFor((r) => responses(r, 200, 'INVITE').length >= 1);
    const ok = responses(carrier.received, 200, 'INVITE')[0]!;
    expect(ok.headers.get('Session-Expires')).toBe('2;refresher=uas');
    expect(ok.headers.getAll('Require')).toContain('timer');
    carrier.send(rawInDialog(bob, carrier, ok, 'ACK', 1), bob.localAddress().port);
    expect((await session).sessionTimer).toMatchObject({ interval: 2, local: true });
    await carrier.waitFor((r) => requests(r, 'UPDATE').length === 1, 5000);
    const update = requests(carrier.received, 'UPDATE')[0]!;
    expect(update.headers.get('Session-Expires')).toBe('2;refresher=uac');
    expect(update.body.length).toBe(0);
    answerWith(carrier, bob, update, 200, [['Session-Expires', '2;refresher=uac']]);
    // The 200 re-armed the timer: another refresh follows, and no BYE.
    await carrier.waitFor((r) => requests(r, 'UPDATE').length === 2, 5000);
    expect(requests(carrier.received, 'BYE')).toHaveLength(0);
  });

  it('refreshes with re-INVITE (same SDP) when the peer does not allow UPDATE', async () => {
    const bob = await agent({ minSessionExpires: 2 });
    bob.on('invite', (call) => call.answer(SDP_ANSWER));
    const carrier = await peer();
    carrier.send(rawInvite(bob, carrier, 'se-reinvite', ['Supported: timer', 'Session-Expires: 2;refresher=uas', 'Allow: INVITE, ACK, BYE, CANCEL']), bob.localAddress().port);
    await carrier.waitFor((r) => responses(r, 200, 'INVITE').length >= 1);
    const ok = responses(carrier.received, 200, 'INVITE')[0]!;
    carrier.send(rawInDialog(bob, carrier, ok, 'ACK', 1), bob.localAddress().port);
    await carrier.waitFor((r) => requests(r, 'INVITE').length === 1, 5000);
    const reinvite = requests(carrier.received, 'INVITE')[0]!;
    expect(reinvite.bodyText).toBe(SDP_ANSWER);
    expect(reinvite.headers.get('Session-Expires')).toBe('2;refresher=uac');
  });

  it('when the peer is the refresher: its UPDATE without SDP gets 200 and re-arms; without another refresh, BYE and `expired`', async () => {
    const bob = await agent({ minSessionExpires: 2 });
    const sessionP = new Promise<SipSession>((resolve) => bob.on('invite', (call) => resolve(call.answer(SDP_ANSWER))));
    const carrier = await peer();
    carrier.send(rawInvite(bob, carrier, 'se-uac', ['Supported: timer', 'Session-Expires: 3;refresher=uac']), bob.localAddress().port);
    await carrier.waitFor((r) => responses(r, 200, 'INVITE').length >= 1);
    const ok = responses(carrier.received, 200, 'INVITE')[0]!;
    expect(ok.headers.get('Session-Expires')).toBe('3;refresher=uac');
    carrier.send(rawInDialog(bob, carrier, ok, 'ACK', 1), bob.localAddress().port);
    const session = await sessionP;
    const expired = once<SipSessionEvents, 'expired'>(session, 'expired');
    carrier.send(rawInDialog(bob, carrier, ok, 'UPDATE', 2, ['Supported: timer', 'Session-Expires: 3;refresher=uac']), bob.localAddress().port);
    await carrier.waitFor((r) => responses(r, 200, 'UPDATE').length === 1);
    expect(responses(carrier.received, 200, 'UPDATE')[0]!.headers.get('Session-Expires')).toBe('3;refresher=uac');
    expect(requests(carrier.received, 'BYE')).toHaveLength(0);
    await expired;
    await carrier.waitFor((r) => requests(r, 'BYE').length >= 1, 5000);
    // The refresher never refreshed again: the BYE comes from us, with no refresh sent by the non-refresher.
    expect(requests(carrier.received, 'UPDATE')).toHaveLength(0);
  });

  it('an INVITE without Session-Expires runs no timer and gets no Require: timer', async () => {
    const bob = await agent({ minSessionExpires: 2 });
    bob.on('invite', (call) => call.answer(SDP_ANSWER));
    const carrier = await peer();
    carrier.send(rawInvite(bob, carrier, 'se-none', ['Supported: timer, 100rel']), bob.localAddress().port);
    await carrier.waitFor((r) => responses(r, 200, 'INVITE').length >= 1);
    const ok = responses(carrier.received, 200, 'INVITE')[0]!;
    expect(ok.headers.get('Session-Expires')).toBeUndefined();
    expect(ok.headers.getAll('Require')).toEqual([]);
  });
});

describe('rFC 3262 reliable provisionals', () => {
  it('an INVITE with Require: 100rel gets a reliable 183 (retransmitted until PRACK), and the 2xx waits for its PRACK', async () => {
    const bob = await agent();
    bob.on('invite', (call) => {
      call.progress(SDP_ANSWER);
      call.answer(SDP_ANSWER);
    });
    const carrier = await peer();
    carrier.send(rawInvite(bob, carrier, 'rel-1', ['Require: 100rel', 'Supported: timer']), bob.localAddress().port);
    await carrier.waitFor((r) => responses(r, 183, 'INVITE').length >= 2);
    const progress = responses(carrier.received, 183, 'INVITE')[0]!;
    expect(progress.headers.getAll('Require')).toContain('100rel');
    const rseq = Number(progress.headers.get('RSeq'));
    expect(rseq).toBeGreaterThan(0);
    expect(responses(carrier.received, 200, 'INVITE')).toHaveLength(0);
    // A PRACK for another RSeq matches nothing: 481.
    carrier.send(rawInDialog(bob, carrier, progress, 'PRACK', 2, [`RAck: ${rseq + 7} 1 INVITE`]), bob.localAddress().port);
    await carrier.waitFor((r) => responses(r, 481, 'PRACK').length === 1);
    carrier.send(rawInDialog(bob, carrier, progress, 'PRACK', 3, [`RAck: ${rseq} 1 INVITE`]), bob.localAddress().port);
    await carrier.waitFor((r) => responses(r, 200, 'PRACK').length === 1 && responses(r, 200, 'INVITE').length >= 1);
  });

  it('an INVITE with Supported: 100rel only gets plain provisionals', async () => {
    const bob = await agent();
    bob.on('invite', (call) => call.ring());
    const carrier = await peer();
    carrier.send(rawInvite(bob, carrier, 'rel-2', ['Supported: 100rel']), bob.localAddress().port);
    await carrier.waitFor((r) => responses(r, 180, 'INVITE').length >= 1);
    expect(responses(carrier.received, 180, 'INVITE')[0]!.headers.get('RSeq')).toBeUndefined();
  });

  it('a reliable 183 from the far end gets one PRACK with RAck, and the dialog goes on above its CSeq', async () => {
    const alice = await agent();
    const carrier = await peer();
    const call = alice.invite(`sip:+254700@127.0.0.1:${carrier.port}`, { sdp: SDP_OFFER });
    await carrier.waitFor((r) => requests(r, 'INVITE').length === 1);
    const invite = requests(carrier.received, 'INVITE')[0]!;
    expect(invite.headers.getAll('Supported')).toEqual(expect.arrayContaining(['100rel', 'timer']));
    const provisionals: number[] = [];
    call.on('provisional', (p) => provisionals.push(p.status));
    const reliable: Array<[string, string]> = [['Require', '100rel'], ['RSeq', '41']];
    answerWith(carrier, alice, invite, 183, reliable, SDP_ANSWER);
    answerWith(carrier, alice, invite, 183, reliable, SDP_ANSWER); // a retransmission
    await carrier.waitFor((r) => requests(r, 'PRACK').length === 1);
    const prack = requests(carrier.received, 'PRACK')[0]!;
    expect(prack.headers.get('RAck')).toBe(`41 ${invite.cseq.seq} INVITE`);
    expect([prack.callId, prack.toTag]).toEqual([invite.callId, 'p1']);
    carrier.send(serializeMessage(createResponse(prack, 200)), alice.localAddress().port);
    answerWith(carrier, alice, invite, 200, [], SDP_ANSWER);
    const session = await call.wait();
    expect(provisionals).toEqual([183]);
    void session.bye();
    await carrier.waitFor((r) => requests(r, 'BYE').length === 1);
    expect(requests(carrier.received, 'BYE')[0]!.cseq.seq).toBeGreaterThan(prack.cseq.seq);
  });
});
