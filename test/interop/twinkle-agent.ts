/**
 * twinkle 1.10 (Debian `twinkle-console`, the build without Qt) as an
 * agent's softphone for interop tests: commands on
 * stdin (`call`, `dtmf`, `bye`), progress on stdout, every SIP message in
 * `~/.twinkle/twinkle.log`. The profile is `~/.twinkle/<user>.cfg`.
 *
 * What it takes to run headless here: `registrar` and `outbound_proxy` name
 * the platform's address (host:port, no `sip:`); without a `registrar`
 * twinkle sends the REGISTER to the workspace domain itself, fails to
 * resolve it and answers itself "404 Not Found". Sound devices may be
 * `alsa:null`. `twinkle-console` takes none of `twinkle`'s options: its one
 * argument is the profile file (`tw.cfg`; without it, `twinkle.cfg`), and
 * the ports come from `~/.twinkle/twinkle.sys`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/cli-process.js';
import { until } from '../helpers/until.js';
import { killPeer } from './peers.js';

export class TwinkleAgent {
  output = '';
  #child: ChildProcess | undefined;
  readonly #home = mkdtempSync(join(tmpdir(), 'twinkle-'));

  /** Starts twinkle with one profile: `user` at `domain`, registered at `proxy`, DTMF sent as SIP INFO. */
  static async start(o: { user: string; domain: string; password: string; proxy: { host: string; port: number } }): Promise<TwinkleAgent> {
    const agent = new TwinkleAgent();
    const dir = join(agent.#home, '.twinkle');
    mkdirSync(dir);
    const proxy = `${o.proxy.host}:${o.proxy.port}`;
    writeFileSync(join(dir, `${o.user}.cfg`), [
      `user_name=${o.user}`, `user_domain=${o.domain}`, `auth_realm=${o.domain}`, `auth_name=${o.user}`, `auth_pass=${o.password}`,
      `registrar=${proxy}`, `outbound_proxy=${proxy}`, 'all_requests_to_proxy=yes', 'register_at_startup=yes', 'registration_time=300',
      'dtmf_transport=info', '',
    ].join('\n'));
    const [sipPort, rtpPort] = [await freePort(), await freePort()];
    writeFileSync(join(dir, 'twinkle.sys'), [
      `sip_udp_port=${sipPort}`, `rtp_port=${rtpPort}`, 'dev_ringtone=alsa:null', 'dev_speaker=alsa:null', 'dev_mic=alsa:null', 'log_show_sip=yes', '',
    ].join('\n'));
    const child = spawn('twinkle-console', [`${o.user}.cfg`], {
      stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, HOME: agent.#home },
    });
    agent.#child = child;
    child.stdout?.on('data', (d: Buffer) => (agent.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (agent.output += d.toString()));
    return agent;
  }

  /** Types one command line (`call sip:…`, `dtmf 42#`, `bye`). */
  command(line: string): void {
    this.#child?.stdin?.write(`${line}\n`);
  }

  /** Every SIP message twinkle sent or received so far (its log). */
  sipLog(): string {
    try {
      return readFileSync(join(this.#home, '.twinkle', 'twinkle.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** Waits for stdout (from offset `since`) to match `pattern`. */
  waitFor(pattern: RegExp, since = 0, timeoutMs = 15_000): Promise<RegExpExecArray> {
    return until(async () => pattern.exec(this.output.slice(since)) ?? undefined, timeoutMs)
      .catch((error: unknown) => { throw new Error(`twinkle: no ${String(pattern)} (${String(error)})\n${this.output.slice(-2000)}\n--- log ---\n${this.sipLog().slice(-4000)}`); });
  }

  async close(): Promise<void> {
    await killPeer(this.#child);
    rmSync(this.#home, { recursive: true, force: true });
  }
}
