/**
 * An agent on baresip: registers to the platform with digest credentials
 * and is reached by a `dial: {sip: …}` from a caller's IVR.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeSipListenPort } from '../helpers/cli-process.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';


describe('baresip as a registered agent softphone', () => {
  let api: TestApi;
  let app: HttpReceiver;
  let baresip: ChildProcess | undefined;
  let output = '';
  const dir = mkdtempSync(join(tmpdir(), 'baresip-agent-'));

  beforeAll(async () => {
    api = await startTestApi('sqlite');
    app = await HttpReceiver.start();
  }, 60_000);
  afterAll(async () => {
    if (baresip && baresip.exitCode === null) baresip.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    await app?.close();
    await api?.close();
  });

  it('registers with digest credentials and answers a dial to its sip: address', async () => {
    const credential = (await api.call('POST', '/v1/sip/credentials', { body: { username: 'agent1', password: 'agent-pass-1' } })).json();
    const sip = api.platform.sipAddress;
    const port = await freeSipListenPort();
    writeFileSync(join(dir, 'config'), [
      'module_path /usr/lib/baresip/modules', `sip_listen 127.0.0.1:${port}`, 'audio_source ausine,440', 'ausrc_srate 48000', 'auplay_srate 48000',
      'ausrc_channels 2', `audio_player aufile,${join(dir, 'out.wav')}`, `audio_alert aufile,${join(dir, 'alert.wav')}`,
      'module g711.so', 'module ausine.so', 'module aufile.so', 'module_app account.so', 'module_app menu.so', '',
    ].join('\n'));
    writeFileSync(join(dir, 'accounts'), `<${credential.aor}>;auth_pass=agent-pass-1;outbound="sip:${sip.host}:${sip.port}";regint=300;answermode=auto\n`);
    baresip = spawn('baresip', ['-v', '-f', dir, '-t', '30'], { stdio: ['ignore', 'pipe', 'pipe'] });
    baresip.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    baresip.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    await until(async () => (await api.call('GET', '/v1/sip/credentials')).json()[0].registered === true, 15_000)
      .catch((error: unknown) => { throw new Error(`baresip did not register: ${String(error)}\n${output.slice(-3000)}`); });

    app.respond = () => ({ status: 200, body: JSON.stringify([{ say: { text: 'Connecting you to an agent.' } }, { dial: { sip: credential.aor, timeout: 10 } }]) });
    const number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: `${app.url}/inbound` } })).json();
    const placed = (await api.call('POST', '/v1/sandbox/calls', { body: { from: '+254711000099', to: number.number, script: [{ wait: 5 }, { hangup: true }], max_duration: 30 } })).json();
    const leg = await until(async () => {
      const [child] = (await api.call('GET', `/v1/calls?parent_call_id=${placed.call_id}`)).json();
      return child && child.price !== null ? child : undefined;
    }, 30_000).catch((error: unknown) => { throw new Error(`${String(error)}\n${output.slice(-3000)}`); });
    expect(leg).toMatchObject({ to: credential.aor, status: 'completed', rate_per_minute: '0.20' });
    expect(leg.duration_seconds).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
