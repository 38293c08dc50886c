/**
 * The platform behind a real NAT (SPEC §13). Network namespaces make a
 * private network with the platform on 10.77.0.2, a router that masquerades
 * it to 198.51.100.1 and forwards SIP and the RTP range back in, and a
 * carrier (SIPp) outside on 198.51.100.2 that never sees the private network.
 * The real binary runs in the platform namespace with `--external-address`
 * = the router's outside address. The carrier calls in and presses 2 (RFC
 * 4733); the IVR dials out through the trunk to a second SIPp on the
 * carrier, which answers, echoes RTP and hangs up. Asserted from the
 * carrier's side: Via, Contact and SDP carry the external address and never
 * the private one, ACK and BYE get through to the platform, RTP flows both
 * ways through the NAT, and both calls end `completed`.
 *
 * Needs root, `ip netns` and iptables; skipped otherwise.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath } from '../helpers/cli-process.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { natNetworkUnavailable, startNatNetwork, type NatNetwork } from '../helpers/nat-network.js';
import { until } from '../helpers/until.js';

const scenario = (name: string): string => fileURLToPath(new URL(`./scenarios/${name}`, import.meta.url));
const unavailable = natNetworkUnavailable();
const SIP_PORT = 5060;
const RTP = { min: 20000, max: 20999 };
const ADMIN_KEY = 'nat-test-admin-key-0123456789';
const API_KEY = 'nat-test-api-key-0123456789ab';

/** The messages SIPp received, from its `-trace_msg` file. */
function receivedMessages(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/\r/g, '');
  return [...text.matchAll(/message received \[\d+\] bytes :\n\n([\s\S]*?)(?=\n-{20,}|$)/g)].map((m) => m[1]!.trim());
}

const firstLine = (message: string): string => message.split('\n')[0]!;
const header = (message: string, name: string): string | undefined =>
  message.split('\n\n')[0]!.split('\n').find((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`))?.slice(name.length + 1).trim();

describe.skipIf(unavailable !== undefined)(`a platform behind NAT (${unavailable ?? 'network namespaces with a masquerading router'})`, () => {
  let net: NatNetwork;
  let app: HttpReceiver;
  let dataDir: string;
  let logs: string;
  let platformOutput = '';
  let baseUrl: string;

  const api = async (method: string, url: string, body?: unknown, key = API_KEY): Promise<{ status: number; json: any }> => {
    const res = await fetch(`${baseUrl}${url}`, {
      method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: await res.json() };
  };

  const sipp = (args: string[]): Promise<{ code: number | null; output: string }> => new Promise((resolve) => {
    const child = net.spawn(net.namespaces.carrier, 'sipp', [...args, '-nostdin', '-timeout', '50s', '-timeout_error'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code) => resolve({ code, output: output.slice(-3000) }));
  });

  beforeAll(async () => {
    net = await startNatNetwork({ sipPort: SIP_PORT, rtpPorts: RTP });
    app = await HttpReceiver.start(0, net.testSide);
    app.respond = (req) => req.url === '/ivr'
      ? { status: 200, body: JSON.stringify([{ getDigits: { numDigits: 1, timeout: 10, action: `${app.url}/route`, nested: [{ say: { text: 'Press 2 for support.' } }] } }]) }
      : { status: 200, body: JSON.stringify([{ dial: { number: '+254720009999' } }]) };
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'sautikit-nat-'));
    logs = mkdtempSync(path.join(os.tmpdir(), 'sautikit-nat-sipp-'));
    const platform = net.spawn(net.namespaces.platform, process.execPath, [
      binPath, 'start', '--host', '0.0.0.0', '--http-port', '8080', '--sip-port', String(SIP_PORT), '--rtp-ports', `${RTP.min}-${RTP.max}`,
      '--external-address', net.external, '--data', dataDir, '--log-level', 'warn',
    ], { env: { ...process.env, SAUTIKIT_ADMIN_KEY: ADMIN_KEY, SAUTIKIT_API_KEY: API_KEY }, stdio: ['ignore', 'pipe', 'pipe'] });
    platform.stdout!.on('data', (d: Buffer) => (platformOutput += d.toString()));
    platform.stderr!.on('data', (d: Buffer) => (platformOutput += d.toString()));
    baseUrl = `http://${net.platformFromTest}:8080`;
    await until(async () => {
      if (platform.exitCode !== null) throw new Error(`sautikit exited with ${platform.exitCode}:\n${platformOutput}`);
      return (await fetch(`${baseUrl}/healthz`).catch(() => undefined))?.status === 200;
    }, 30_000);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await net?.close();
    for (const dir of [dataDir, logs]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('carries the external address in Via, Contact and SDP, gets ACK, BYE and RTP through the NAT both ways, and completes both calls', async () => {
    const trunk = await api('POST', '/v1/admin/trunks', {
      name: 'carrier-outside', host: net.carrier, port: SIP_PORT, transport: 'udp', prefixes: ['+2547200'], inbound_addresses: [net.carrier],
      // SIPp's uas scenario takes an OPTIONS ping for an unexpected call: no pings to it.
      options_ping: 0,
    }, ADMIN_KEY);
    expect(trunk.status, JSON.stringify(trunk.json)).toBe(201);
    const number = await api('POST', '/v1/numbers', { prefix: '+25470', routing_url: `${app.url}/ivr` });
    expect(number.status, JSON.stringify(number.json)).toBe(201);

    const callerMedia = 16000;
    const calleeMedia = 16100;
    // RTP arriving at the carrier from the NAT's outside address, and at the platform from the carrier.
    net.countPackets(net.namespaces.carrier, 'rtp-to-caller', ['-p', 'udp', '-s', net.external, '--dport', String(callerMedia)]);
    net.countPackets(net.namespaces.carrier, 'rtp-to-callee', ['-p', 'udp', '-s', net.external, '--dport', String(calleeMedia)]);
    net.countPackets(net.namespaces.platform, 'rtp-from-carrier', ['-p', 'udp', '-s', net.carrier, '--dport', `${RTP.min}:${RTP.max}`]);

    const calleeLog = path.join(logs, 'callee.log');
    const callerLog = path.join(logs, 'caller.log');
    const callee = sipp(['-sf', scenario('nat-carrier-answer.xml'), '-i', net.carrier, '-p', String(SIP_PORT), '-mp', String(calleeMedia), '-rtp_echo',
      '-m', '1', '-trace_msg', '-message_file', calleeLog]);
    await new Promise((r) => setTimeout(r, 500));
    const caller = await sipp(['-sf', scenario('nat-carrier-call.xml'), '-s', (number.json.number as string).slice(1), '-i', net.carrier, '-p', '5070',
      '-mp', String(callerMedia), '-m', '1', '-trace_msg', '-message_file', callerLog, `${net.external}:${SIP_PORT}`]);
    const answered = await callee;
    expect(caller.code, `${caller.output}\n${platformOutput}`).toBe(0);
    expect(answered.code, `${answered.output}\n${platformOutput}`).toBe(0);

    // The carrier never sees the private network.
    const toCaller = receivedMessages(callerLog);
    const toCallee = receivedMessages(calleeLog);
    for (const message of [...toCaller, ...toCallee]) expect(message).not.toContain(net.platform.split('.').slice(0, 3).join('.') + '.');

    // Inbound: the 200 names the external address as Contact and media address; the platform's BYE has it in its Via.
    const ok = toCaller.find((m) => firstLine(m).startsWith('SIP/2.0 200') && header(m, 'CSeq')?.endsWith('INVITE'))!;
    expect(ok, toCaller.map(firstLine).join(' | ')).toBeDefined();
    expect(header(ok, 'Contact')).toContain(`@${net.external}:${SIP_PORT}`);
    expect(ok).toMatch(new RegExp(`^o=.* IN IP4 ${net.external.replace(/\./g, '\\.')}$`, 'm'));
    expect(ok).toMatch(new RegExp(`^c=IN IP4 ${net.external.replace(/\./g, '\\.')}$`, 'm'));
    const bye = toCaller.find((m) => firstLine(m).startsWith('BYE '))!;
    expect(header(bye, 'Via')).toMatch(new RegExp(`^SIP/2.0/UDP ${net.external.replace(/\./g, '\\.')}:${SIP_PORT};.*\\brport\\b`));

    // Outbound through the trunk: the INVITE's Via, Contact and SDP carry the external address.
    const invite = toCallee.find((m) => firstLine(m).startsWith('INVITE '))!;
    expect(invite, toCallee.map(firstLine).join(' | ')).toBeDefined();
    expect(header(invite, 'Via')).toMatch(new RegExp(`^SIP/2.0/UDP ${net.external.replace(/\./g, '\\.')}:${SIP_PORT};.*\\brport\\b`));
    expect(header(invite, 'Contact')).toContain(`@${net.external}:${SIP_PORT}`);
    expect(invite).toMatch(new RegExp(`^c=IN IP4 ${net.external.replace(/\./g, '\\.')}$`, 'm'));
    expect(toCallee.some((m) => firstLine(m).startsWith('ACK '))).toBe(true);

    // RTP both ways through the NAT: the digit the caller pressed reached the IVR, the echo reached the platform,
    // and the platform's audio reached both of the carrier's media ports from the external address.
    expect(app.requests.find((r) => r.url === '/route')?.json).toMatchObject({ Digits: '2', Direction: 'inbound' });
    expect(net.packets(net.namespaces.platform, 'rtp-from-carrier')).toBeGreaterThan(50);
    expect(net.packets(net.namespaces.carrier, 'rtp-to-caller')).toBeGreaterThan(50);
    expect(net.packets(net.namespaces.carrier, 'rtp-to-callee')).toBeGreaterThan(50);

    // ACK and BYE reached the platform: the caller's call was not ended for a missing ACK, the dialled leg by the carrier's BYE.
    const parent = app.requests.find((r) => r.url === '/ivr')!.json.CallId as string;
    const call = await until(async () => {
      const c = (await api('GET', `/v1/calls/${parent}`)).json;
      return c.price !== null ? c : undefined;
    });
    expect(call).toMatchObject({ direction: 'inbound', status: 'completed', hangup_cause: 'normal_clearing' });
    const leg = await until(async () => {
      const [child] = (await api('GET', `/v1/calls?parent_call_id=${parent}`)).json;
      return child && child.price !== null ? child : undefined;
    });
    expect(leg).toMatchObject({ to: '+254720009999', status: 'completed', hangup_cause: 'normal_clearing' });
  }, 90_000);
});
