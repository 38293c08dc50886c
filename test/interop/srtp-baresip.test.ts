/**
 * SRTP with a real softphone (SPEC §13, issue 17): baresip registers over
 * TLS with `mediaenc=srtp-mand` (RTP/SAVP with SDES, its srtp module), calls
 * a number and is called through a `dial`, and the audio crosses both ways
 * encrypted: the platform's recording holds baresip's 440 Hz sine (so the
 * platform decrypted it), and baresip's played-out audio holds the 1000 Hz
 * tone we sent (so baresip decrypted ours). Then SIPp, over plain UDP with
 * --sdes-over-insecure-transport in a platform of its own, offers RTP/SAVP
 * with only AES_256_CM_HMAC_SHA1_80 and gets 488.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../src/media/sources/wav.js';
import { freePort } from '../helpers/cli-process.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { makeTestCert, type TestCert } from '../helpers/test-cert.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';
import { toneWav } from '../helpers/wav.js';
import { toneAmplitude } from '../media/helpers.js';
import { BaresipAgent } from './baresip-agent.js';

/** The strength of `hz` in a WAV (any rate, channels mixed down). */
function strengthIn(wav: Buffer, hz: number): number {
  const { pcm, sampleRate } = decodeWav(wav);
  // Skip the first second (call set-up, silence), measure the next two.
  const part = pcm.subarray(Math.min(pcm.length, sampleRate), Math.min(pcm.length, sampleRate * 3));
  return toneAmplitude(part, hz, sampleRate);
}

describe('SRTP with baresip over TLS', () => {
  let api: TestApi;
  let app: HttpReceiver;
  let cert: TestCert;
  let agent: BaresipAgent | undefined;
  let credential: { aor: string; username: string };

  beforeAll(async () => {
    cert = makeTestCert();
    api = await startTestApi('sqlite', { flags: { 'sip-tls-port': String(await freePort()), 'tls-cert': cert.certFile, 'tls-key': cert.keyFile } });
    app = await HttpReceiver.start();
    credential = (await api.call('POST', '/v1/sip/credentials', { body: { username: 'srtpagent', password: 'srtp-agent-pass-1' } })).json();
    agent = await BaresipAgent.start({
      aor: credential.aor, password: 'srtp-agent-pass-1', proxy: api.platform.sipTlsAddress!, answer: 'auto', tls: { cafile: cert.certFile }, mediaenc: 'srtp-mand', dumpAudio: true,
    });
    await until(async () => (await api.call('GET', '/v1/sip/credentials')).json().find((c: { username: string }) => c.username === 'srtpagent')?.registered === true, 20_000)
      .catch((error: unknown) => { throw new Error(`baresip did not register over TLS: ${String(error)}\n${agent?.output.slice(-3000)}`); });
  }, 60_000);
  afterAll(async () => {
    await agent?.close();
    await app?.close();
    await api?.close();
    cert?.remove();
  });

  /** The recording of the first of `callIds` that has one. */
  const recordingOf = (...callIds: string[]): Promise<Buffer> => until(async () => {
    for (const id of callIds) {
      const res = await api.call('GET', `/v1/calls/${id}/recording`);
      if (res.statusCode === 200) return res.rawPayload;
    }
    return undefined;
  }, 30_000);
  /**
   * What baresip played out of the call that starts after `before` of its audio dumps (sndfile writes it after
   * decrypting and decoding, and finishes the file when the call ends). Its status line's `audio=<tx>/<rx>`
   * cannot tell: baresip works that bit rate out every 3 s from the stream's start (metric.c), so on a
   * 6-second call it often still reads 0 when the call ends.
   */
  const baresipHeard = async (since: number, before: number): Promise<Buffer> => {
    await agent!.waitFor('CALL_CLOSED', since, 20_000);
    return until(async () => agent!.decodedAudio()[before], 15_000);
  };

  it('baresip calls a number: we record its sine decrypted, it receives our SRTP', async () => {
    app.respond = (req) => {
      if (req.url === '/tone.wav') return { status: 200, body: toneWav(1000, 3), contentType: 'audio/wav' };
      return { status: 200, body: JSON.stringify([{ play: { url: `${app.url}/tone.wav` } }, { record: { maxLength: 3, timeout: 10, playBeep: false } }, { hangup: {} }]) };
    };
    const number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: `${app.url}/from-agent` } })).json();
    const since = agent!.events.length;
    const outputFrom = agent!.output.length;
    const dumps = agent!.decodedAudio().length;
    agent!.command('dial', number.number);
    await agent!.waitFor('CALL_ESTABLISHED', since, 20_000);
    await agent!.waitFor('CALL_RTPESTAB', since, 20_000);
    const call = await until(async () => {
      const [c] = (await api.call('GET', `/v1/calls?to=${encodeURIComponent(number.number)}`)).json();
      return c?.status === 'completed' ? c : undefined;
    }, 30_000);
    agent!.command('hangup');
    expect(call).toMatchObject({ direction: 'inbound', status: 'completed' });
    expect(agent!.output.slice(outputFrom)).toMatch(/SRTP is Enabled \(cryptosuite=AES_CM_128_HMAC_SHA1_80\)/);
    expect(strengthIn(await recordingOf(call.id), 440), 'the platform did not hear baresip').toBeGreaterThan(1000);
    expect(strengthIn(await baresipHeard(since, dumps), 1000), 'baresip did not hear our tone').toBeGreaterThan(1000);
    expect(agent!.output.slice(outputFrom)).not.toMatch(/srtp: failed to decrypt/);
  }, 90_000);

  it('a dial reaches baresip over TLS with RTP/SAVP; each side hears the other', async () => {
    app.respond = (req) => {
      if (req.url === '/tone.wav') return { status: 200, body: toneWav(1000, 6), contentType: 'audio/wav' };
      return { status: 200, body: JSON.stringify([{ dial: { sip: credential.aor, timeout: 10, timeLimit: 6, record: true } }]) };
    };
    const number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: `${app.url}/to-agent` } })).json();
    const since = agent!.events.length;
    const outputFrom = agent!.output.length;
    const dumps = agent!.decodedAudio().length;
    const placed = (await api.call('POST', '/v1/sandbox/calls', { body: {
      from: '+254711000099', to: number.number, script: [{ wait: 1 }, { play: `${app.url}/tone.wav` }, { wait: 10 }], max_duration: 30,
    } })).json();
    expect(placed.call_id, JSON.stringify(placed)).toBeDefined();
    await agent!.waitFor('CALL_ESTABLISHED', since, 20_000);
    await agent!.waitFor('CALL_RTPESTAB', since, 20_000);
    const leg = await until(async () => {
      const [child] = (await api.call('GET', `/v1/calls?parent_call_id=${placed.call_id}`)).json();
      return child && child.price !== null ? child : undefined;
    }, 30_000);
    expect(leg).toMatchObject({ to: credential.aor, status: 'completed' });
    agent!.command('hangup');
    // baresip was offered RTP/SAVP (it requires it), the bridge's recording has its sine decrypted, and it received ours.
    expect(agent!.output.slice(outputFrom)).toMatch(/SRTP is Enabled \(cryptosuite=AES_CM_128_HMAC_SHA1_80\)/);
    expect(strengthIn(await recordingOf(placed.call_id, leg.id), 440), 'the platform did not hear baresip').toBeGreaterThan(1000);
    expect(strengthIn(await baresipHeard(since, dumps), 1000), 'baresip did not hear our tone').toBeGreaterThan(1000);
    expect(agent!.output.slice(outputFrom)).not.toMatch(/srtp: failed to decrypt/);
  }, 90_000);
});

describe('SIPp offering an SRTP suite the platform does not support', () => {
  let api: TestApi;
  let app: HttpReceiver;
  const dir = mkdtempSync(join(tmpdir(), 'srtp-sipp-'));

  beforeAll(async () => {
    // SIPp here has no TLS: plain UDP, with the operator's knob that lets SDES keys travel over it.
    api = await startTestApi('sqlite', { flags: { 'sdes-over-insecure-transport': 'true' } });
    app = await HttpReceiver.start();
    app.respond = () => ({ status: 200, body: JSON.stringify([{ pause: { length: 5 } }]) });
    const trunk = await api.call('POST', '/v1/admin/trunks', { key: api.credentials.admin_key, body: { name: 'sipp', host: '127.0.0.1', port: 9, inbound_addresses: ['127.0.0.1'] } });
    expect(trunk.statusCode).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gets 488 Not Acceptable Here for RTP/SAVP with only AES_256_CM_HMAC_SHA1_80', async () => {
    const number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: `${app.url}/in` } })).json().number as string;
    const key = Buffer.alloc(46, 5).toString('base64');
    const scenario = join(dir, 'savp-aes256.xml');
    writeFileSync(scenario, `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="SAVP offer with an unsupported suite">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:+254711000123@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:sipp@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=sipp 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/SAVP 0
a=rtpmap:0 PCMU/8000
a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:${key}
]]></send>
  <recv response="100" optional="true"/>
  <recv response="488"/>
  <send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:+254711000123@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
</scenario>
`);
    const sipp = spawn('sipp', ['-sf', scenario, '-s', number.slice(1), '-i', '127.0.0.1', '-p', String(await freePort()), '-m', '1', '-nostdin',
      '-timeout', '20s', '-timeout_error', '-trace_msg', '-message_file', join(dir, 'messages.log'), `127.0.0.1:${api.platform.sipAddress.port}`], { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
    let output = '';
    sipp.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    sipp.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => sipp.on('exit', resolve));
    expect(code, output.slice(-3000)).toBe(0);
    expect(readFileSync(join(dir, 'messages.log'), 'utf8')).toMatch(/SIP\/2\.0 488 Not Acceptable Here[\s\S]*Warning: 399 sautikit "crypto suite AES_256_CM_HMAC_SHA1_80 is not supported/);
  }, 60_000);
});
