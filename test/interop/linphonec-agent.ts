/**
 * linphonec (Debian `linphone-cli`, liblinphone 5.1) as an agent's softphone
 * for interop tests, driven as its users script it: commands written to its
 * stdin (`call`, `answer`, `terminate`), progress read from its stdout
 * ("Call 1 with sip:… connected.").
 *
 * What it takes to make linphonec 5.1.65 register headless (learnt the hard
 * way, see its `-d 6` log):
 * - `$HOME/.local/share/linphone` must exist. Without it the core logs
 *   "Unable to open linphone database … unable to open database file" and
 *   never gets to start its account: no REGISTER is ever sent, and
 *   `status register` answers `registered=-1` for as long as it runs (with
 *   piped stdin or a pty alike).
 * - `[sip] auto_net_state_mon` must stay at its default (1). Set to 0, the
 *   core waits for the application to call linphone_core_set_network_reachable(),
 *   which linphonec never does: it listens on its port and sends nothing.
 * Neither a sound card nor a pty is needed: stdin may be a pipe (kept open).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/cli-process.js';
import { until } from '../helpers/until.js';
import { killPeer } from './peers.js';

export class LinphonecAgent {
  output = '';
  #child: ChildProcess | undefined;
  readonly #home = mkdtempSync(join(tmpdir(), 'linphonec-'));

  /**
   * Starts linphonec with one account (`user`, its password, registered at
   * `proxy`); `autoAnswer` picks up every call (`-a`).
   */
  static async start(o: { user: string; domain: string; password: string; proxy: { host: string; port: number }; autoAnswer: boolean }): Promise<LinphonecAgent> {
    const agent = new LinphonecAgent();
    mkdirSync(join(agent.#home, '.local', 'share', 'linphone'), { recursive: true });
    const rc = join(agent.#home, 'linphonerc');
    const proxy = `sip:${o.proxy.host}:${o.proxy.port}`;
    writeFileSync(rc, [
      '[sip]', `sip_port=${await freePort()}`, 'sip_tcp_port=0', 'sip_tls_port=0', 'default_proxy=0',
      '[rtp]', `audio_rtp_port=${await freePort()}`,
      '[proxy_0]', `reg_proxy=<${proxy};transport=udp>`, `reg_route=<${proxy};lr>`, `reg_identity=sip:${o.user}@${o.domain}`,
      'reg_expires=300', 'reg_sendregister=1', 'publish=0', 'dial_escape_plus=0',
      '[auth_info_0]', `username=${o.user}`, `userid=${o.user}`, `passwd=${o.password}`, `realm=${o.domain}`, `domain=${o.domain}`, '',
    ].join('\n'));
    const child = spawn('linphonec', ['-c', rc, '-d', '6', '-l', join(agent.#home, 'linphonec.log'), ...(o.autoAnswer ? ['-a'] : [])], {
      stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, HOME: agent.#home, XDG_DATA_HOME: join(agent.#home, '.local', 'share') },
    });
    agent.#child = child;
    child.stdout?.on('data', (d: Buffer) => (agent.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (agent.output += d.toString()));
    // Calls are heard through no sound card here: files stand in for the speaker and microphone.
    agent.command('soundcard use files');
    return agent;
  }

  /** Types one command line (`call sip:…`, `answer`, `terminate`, `status register`). */
  command(line: string): void {
    this.#child?.stdin?.write(`${line}\n`);
  }

  /** Waits for stdout (from offset `since`) to match `pattern`; answers the match. */
  waitFor(pattern: RegExp, since = 0, timeoutMs = 15_000): Promise<RegExpExecArray> {
    return until(async () => pattern.exec(this.output.slice(since)) ?? undefined, timeoutMs)
      .catch((error: unknown) => {
        // The SIP it sent and received, and its warnings, say why more than its prompt does.
        const log = this.log().split('\n').filter((l) => /-(warning|error)-|Sending|Received|^(SIP\/2\.0|[A-Z]+ sip:)/.test(l)).slice(-60).join('\n');
        throw new Error(`linphonec: no ${String(pattern)} (${String(error)})\n${this.output.slice(-2000)}\n--- log ---\n${log}`);
      });
  }

  /** linphonec's own `-d 6` log (belle-sip's SIP messages among it). */
  log(): string {
    try {
      return readFileSync(join(this.#home, 'linphonec.log'), 'utf8');
    } catch {
      return '';
    }
  }

  async close(): Promise<void> {
    await killPeer(this.#child);
    rmSync(this.#home, { recursive: true, force: true });
  }
}
