import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { TrunkRegistration } from '../../src/engine/trunk-registration.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/log.js';
import { SipUserAgent } from '../../src/sip/ua/sip-user-agent.js';
import { trunkDefaults, type Trunk } from '../../src/store/repos/trunk-repo.js';
import { until } from '../helpers/until.js';
import { FAST_TIMERS } from '../sip/helpers.js';

/** A registrar on a raw UDP socket that answers each REGISTER as `answer` says, and keeps what it got. */
async function scriptedRegistrar(answer: (request: string, index: number) => { status: string; headers?: string[] }): Promise<{ socket: Socket; port: number; got: Array<{ text: string; at: number }> }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const got: Array<{ text: string; at: number }> = [];
  socket.on('message', (buf, rinfo) => {
    const text = buf.toString();
    if (!text.startsWith('REGISTER ')) return;
    got.push({ text, at: Date.now() });
    const header = (name: string): string => new RegExp(`^${name}: *(.*)$`, 'im').exec(text)![1]!.trim();
    const { status, headers = [] } = answer(text, got.length - 1);
    const response = [
      `SIP/2.0 ${status}`, `Via: ${header('Via')}`, `From: ${header('From')}`, `To: ${header('To')};tag=reg`, `Call-ID: ${header('Call-ID')}`,
      `CSeq: ${header('CSeq')}`, ...headers, 'Content-Length: 0', '', '',
    ].join('\r\n');
    socket.send(response, rinfo.port, rinfo.address);
  });
  return { socket, port: socket.address().port, got };
}

const trunkAt = (port: number, overrides: Partial<Trunk> = {}): Trunk => ({
  ...trunkDefaults, id: 'trk_test', name: 'test', host: '127.0.0.1', port, transport: 'udp', username: 'acme', password: 'pw', prefixes: [],
  inboundAddresses: [], register: true, createdAt: '', updatedAt: '', ...overrides,
});

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe('TrunkRegistration (RFC 3261 §10)', () => {
  async function ua(): Promise<SipUserAgent> {
    const agent = new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], publicHost: '127.0.0.1', timers: FAST_TIMERS });
    await agent.start();
    cleanups.push(() => agent.close());
    return agent;
  }

  it('asks again with Min-Expires after 423, keeps the lifetime the 200 grants for its own contact, and un-registers on stop()', async () => {
    const agent = await ua();
    const contact = `<sip:acme@127.0.0.1:${agent.localAddress('udp').port}>`;
    const registrar = await scriptedRegistrar((text, i) => {
      if (i === 0) return { status: '423 Interval Too Brief', headers: ['Min-Expires: 1800'] };
      // Another device's binding first: the trunk's own is found by its Contact URI.
      return { status: '200 OK', headers: [`Contact: <sip:other@192.0.2.9:5060>;expires=3000`, `Contact: ${contact};expires=${/^Expires: *0\b/im.test(text) ? 0 : 900}`] };
    });
    cleanups.push(() => registrar.socket.close());
    const registration = new TrunkRegistration(trunkAt(registrar.port, { registerExpires: 600 }), agent, { retryMinMs: 60_000, retryMaxMs: 60_000 }, systemClock, silentLogger);
    const before = Date.now();
    registration.start();
    await until(async () => (registration.view.status === 'registered' ? true : undefined));
    expect(registrar.got.map((r) => /^Expires: *(\d+)/im.exec(r.text)![1])).toEqual(['600', '1800']);
    const left = Date.parse(registration.view.expires_at!) - before;
    expect(left).toBeGreaterThanOrEqual(900_000);
    expect(left).toBeLessThan(901_000 + (Date.now() - before));
    expect(registration.live).toBe(true);
    // The same registration: one Call-ID, CSeq going up (§10.2.4).
    const callIds = registrar.got.map((r) => /^Call-ID: *(\S+)/im.exec(r.text)![1]);
    expect(new Set(callIds).size).toBe(1);
    await registration.stop();
    expect(registrar.got.at(-1)!.text).toMatch(/^Expires: *0\r?$/im);
    expect(registration.live).toBe(false);
  });

  it('a refused REGISTER is failed with the reason, retried after a back-off that doubles, and registered when the registrar relents', async () => {
    const agent = await ua();
    const registrar = await scriptedRegistrar((_text, i) => (i < 3 ? { status: '403 Forbidden' } : { status: '200 OK', headers: ['Expires: 120'] }));
    cleanups.push(() => registrar.socket.close());
    const registration = new TrunkRegistration(trunkAt(registrar.port), agent, { retryMinMs: 1000, retryMaxMs: 1500 }, systemClock, silentLogger);
    cleanups.push(() => registration.stop());
    registration.start();
    await until(async () => (registration.view.status === 'failed' ? true : undefined));
    expect(registration.view).toEqual({ status: 'failed', expires_at: null, last_error: '403 Forbidden' });
    await until(async () => (registration.view.status === 'registered' ? true : undefined), 10_000);
    expect(registration.view.last_error).toBeNull();
    const gaps = registrar.got.slice(1).map((r, i) => r.at - registrar.got[i]!.at);
    // 1 s, then 2 s capped at 1.5 s: timers never fire early, so these are lower bounds.
    expect(gaps[0]).toBeGreaterThanOrEqual(990);
    expect(gaps[1]).toBeGreaterThanOrEqual(1490);
    expect(gaps[2]).toBeGreaterThanOrEqual(1490);
  });
});
