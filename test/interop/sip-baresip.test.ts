/**
 * Interop with baresip (Debian package baresip): it auto-answers our calls,
 * and dials us from the command line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SipUserAgent, type SipSession } from '../../src/sip/index.js';
import { freeSipListenPort } from '../helpers/cli-process.js';

const SDP = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', ''].join('\r\n');

const children: ChildProcess[] = [];
const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** Starts baresip with a throw-away config: G.711, a 48 kHz stereo sine source (all ausine supports), audio to a file, auto-answer. */
function baresip(port: number, commands: string[] = []): { child: ChildProcess; output: () => string } {
  const dir = mkdtempSync(join(tmpdir(), 'baresip-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'config'),
    [
      'module_path /usr/lib/baresip/modules',
      `sip_listen 127.0.0.1:${port}`,
      'audio_source ausine,440',
      'ausrc_srate 48000',
      'auplay_srate 48000',
      'ausrc_channels 2',
      `audio_player aufile,${join(dir, 'out.wav')}`,
      `audio_alert aufile,${join(dir, 'alert.wav')}`,
      'module g711.so',
      'module ausine.so',
      'module aufile.so',
      'module_app account.so',
      'module_app menu.so',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'accounts'), '<sip:baresip@127.0.0.1>;regint=0;answermode=auto\n');
  const child = spawn('baresip', [...(process.env.BARESIP_DEBUG ? ['-s', '-v'] : []), '-f', dir, '-t', '15', ...commands.flatMap((c) => ['-e', c])], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return { child, output: () => output.slice(-3000) };
}

async function agent(): Promise<SipUserAgent> {
  const ua = new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], timers: { t1: 100, t2: 800, t4: 1000 } });
  await ua.start();
  cleanups.push(() => ua.close());
  return ua;
}

describe('baresip interop', () => {
  it('calls baresip, which auto-answers, and hangs up', async () => {
    const ua = await agent();
    const port = await freeSipListenPort();
    const peer = baresip(port);
    // baresip needs a moment to bind; retry the call until it answers.
    let session: SipSession | undefined;
    const deadline = Date.now() + 8000;
    while (!session) {
      try {
        session = await ua.invite(`sip:baresip@127.0.0.1:${port}`, { sdp: SDP }).wait();
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`baresip did not answer: ${String(error)}\n${peer.output().slice(-6000)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    expect(session.remoteSdp).toMatch(/m=audio \d+ RTP\/AVP 0/);
    await session.bye();
    expect(session.state).toBe('ended');
  });

  it('answers a call dialled by baresip and sees its BYE', async () => {
    const ua = await agent();
    const answered = new Promise<SipSession>((resolve) => ua.on('invite', (call) => resolve(call.answer(SDP))));
    const port = await freeSipListenPort();
    const target = `sip:bob@127.0.0.1:${ua.localAddress().port}`;
    const peer = baresip(port, [`/dial ${target}`]);
    const session = await Promise.race([answered, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no INVITE from baresip\n${peer.output()}`)), 10_000))]);
    await new Promise<void>((resolve) => session.once('established', resolve));
    expect(session.remoteSdp).toContain('RTP/AVP');
    // Hang up from our side; baresip answers the BYE.
    await session.bye();
    expect(session.state).toBe('ended');
  });
});
