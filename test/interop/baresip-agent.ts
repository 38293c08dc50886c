/**
 * A baresip softphone for interop tests, driven as its users' scripts drive
 * it: over the ctrl_tcp module (JSON in netstrings: commands such as
 * `dial`, `hangup`, `transfer`; events such as CALL_ESTABLISHED back).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, freeSipListenPort } from '../helpers/cli-process.js';
import { until } from '../helpers/until.js';
import { killPeer } from './peers.js';

export interface BaresipEvent {
  type: string;
  peeruri?: string;
  param?: string;
  accountaor?: string;
}

export class BaresipAgent {
  readonly events: BaresipEvent[] = [];
  output = '';
  #child: ChildProcess | undefined;
  #socket: Socket | undefined;
  #buffer = '';
  #dir = mkdtempSync(join(tmpdir(), 'baresip-'));

  /**
   * Starts baresip with one account (`aor`, password, the platform as outbound proxy); `answer: 'auto'` picks up every call.
   * `tls`: SIP over TLS to the proxy, trusting `cafile`; `mediaenc`: baresip's media encryption (`srtp-mand`: RTP/SAVP with SDES);
   * `dumpAudio`: its sndfile module writes each call's audio to WAV files (`decodedAudio`).
   */
  static async start(o: {
    aor: string; password: string; proxy: { host: string; port: number }; answer: 'auto' | 'manual'; tls?: { cafile: string }; mediaenc?: 'srtp' | 'srtp-mand';
    dumpAudio?: boolean;
  }): Promise<BaresipAgent> {
    const agent = new BaresipAgent();
    const [sipPort, ctrlPort] = [await freeSipListenPort(), await freePort()];
    writeFileSync(join(agent.#dir, 'config'), [
      'module_path /usr/lib/baresip/modules', `sip_listen 127.0.0.1:${sipPort}`, 'audio_source ausine,440', 'ausrc_srate 48000', 'auplay_srate 48000', 'ausrc_channels 2',
      `audio_player aufile,${join(agent.#dir, 'out.wav')}`, `audio_alert aufile,${join(agent.#dir, 'alert.wav')}`,
      'module g711.so', 'module ausine.so', 'module aufile.so', 'module_app account.so', 'module_app menu.so', 'module_app ctrl_tcp.so',
      ...(o.tls ? [`sip_cafile ${o.tls.cafile}`] : []), ...(o.mediaenc ? ['module srtp.so'] : []),
      ...(o.dumpAudio ? ['module sndfile.so', `snd_path ${agent.#dir}`] : []),
      `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`, '',
    ].join('\n'));
    const transport = o.tls ? ';transport=tls' : '';
    writeFileSync(join(agent.#dir, 'accounts'),
      `<${o.aor}${transport}>;auth_pass=${o.password};outbound="sip:${o.proxy.host}:${o.proxy.port}${transport}";regint=300;answermode=${o.answer}`
      + `${o.mediaenc ? `;mediaenc=${o.mediaenc}` : ''}\n`);
    const child = spawn('baresip', ['-s', '-f', agent.#dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    agent.#child = child;
    child.stdout?.on('data', (d: Buffer) => (agent.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (agent.output += d.toString()));
    agent.#socket = await until(() => new Promise<Socket | undefined>((resolve) => {
      const socket = connect(ctrlPort, '127.0.0.1');
      socket.once('connect', () => resolve(socket));
      socket.once('error', () => resolve(undefined));
    }), 10_000, 200);
    agent.#socket.on('data', (d: Buffer) => agent.#read(d.toString()));
    return agent;
  }

  #read(text: string): void {
    this.#buffer += text;
    for (;;) {
      const colon = this.#buffer.indexOf(':');
      if (colon < 0) return;
      const length = Number(this.#buffer.slice(0, colon));
      if (this.#buffer.length < colon + 1 + length + 1) return;
      const json = this.#buffer.slice(colon + 1, colon + 1 + length);
      this.#buffer = this.#buffer.slice(colon + 2 + length);
      try {
        const message = JSON.parse(json) as BaresipEvent & { event?: boolean };
        if (message.event) this.events.push(message);
      } catch {
        // not JSON: ignore
      }
    }
  }

  /**
   * With `dumpAudio`: the audio baresip decoded from its peers, one WAV per call, oldest first (sndfile's
   * `dump-<time>-dec.wav`, written after SRTP and the codec, so it holds only what baresip could decrypt).
   * The header's sizes are final once the call is over.
   */
  decodedAudio(): Buffer[] {
    return readdirSync(this.#dir).filter((name) => /^dump-.*-dec\.wav$/.test(name)).sort().map((name) => readFileSync(join(this.#dir, name)));
  }

  /** Sends a ctrl_tcp command (`dial`, `hangup`, `transfer`, `accept`…). */
  command(command: string, params = ''): void {
    const json = JSON.stringify({ command, params, token: String(Date.now()) });
    this.#socket?.write(`${Buffer.byteLength(json)}:${json},`);
  }

  /** Waits for an event of `type` (counting from `since`, an index into `events`). */
  waitFor(type: string, since = 0, timeoutMs = 15_000): Promise<BaresipEvent> {
    return until(async () => this.events.slice(since).find((e) => e.type === type), timeoutMs)
      .catch((error: unknown) => { throw new Error(`baresip: no ${type} (${String(error)}); events ${JSON.stringify(this.events.map((e) => e.type))}\n${this.output.slice(-4000)}`); });
  }

  async close(): Promise<void> {
    this.#socket?.destroy();
    await killPeer(this.#child);
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
