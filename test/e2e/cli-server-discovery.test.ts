import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runCli, startCli, type RunningServer } from '../helpers/cli-process.js';
import { until } from '../helpers/until.js';

/**
 * `sautikit call` and `calls` find the server started on their data folder
 * on whatever port it took (its server.json), say which server they talk
 * to, and, when pointed at the wrong one, say so and how to point elsewhere
 * (SAUTIKIT_URL). The real binary, on ports that are not 8080.
 */
describe('the CLI finds its server (the real binary on a non-default port)', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'sautikit-cli-find-'));
  const data = path.join(root, 'one');
  const otherData = path.join(root, 'two');
  let server: RunningServer;
  let other: RunningServer;
  /** No SAUTIKIT_URL or key in the environment: what a fresh terminal has. */
  const fresh = { SAUTIKIT_URL: '', SAUTIKIT_API_KEY: '', SAUTIKIT_DATA: '' };

  beforeAll(async () => {
    [server, other] = await Promise.all([startCli(['--data', data]), startCli(['--data', otherData])]);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await other?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('the start banner names SAUTIKIT_URL, and server.json holds the URL actually bound', () => {
    expect(server.output()).toContain(`export SAUTIKIT_URL=${server.baseUrl}`);
    expect(JSON.parse(readFileSync(path.join(data, 'server.json'), 'utf8'))).toMatchObject({ url: server.baseUrl, pid: server.child.pid });
  });

  it('sautikit call with only --data reaches the server on its port, and says which server it used', async () => {
    const key = JSON.parse(readFileSync(path.join(data, 'credentials.json'), 'utf8')).api_key as string;
    const claimed = await fetch(`${server.baseUrl}/v1/numbers`, {
      method: 'POST', headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ prefix: '+25470' }),
    });
    const number = ((await claimed.json()) as { number: string }).number;
    const result = await runCli(['call', '--to', number, '--wait', '0', '--max-duration', '5', '--data', data], fresh);
    expect(result.stderr).toContain(`Server: ${server.baseUrl} (from ${path.join(data, 'server.json')})`);
    expect(result.stdout).toMatch(new RegExp(`Calling \\${number} from the sandbox \\(call call_\\w+\\)`));
    expect(result.code, result.stderr).toBe(0);
  }, 60_000);

  it('the key of one server sent to another: the error names the server, where its URL and key came from, and SAUTIKIT_URL', async () => {
    const result = await runCli(['calls', 'list', '--data', data], { ...fresh, SAUTIKIT_URL: other.baseUrl });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`server ${other.baseUrl} (from SAUTIKIT_URL), API key from ${path.join(data, 'credentials.json')}`);
    expect(result.stderr).toContain('set SAUTIKIT_URL');
  });

  it('nothing listening: the error names the address and where it came from', async () => {
    const port = await freePort();
    const result = await runCli(['calls', 'list', '--data', data, '--url', `http://127.0.0.1:${port}`], fresh);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot reach the server at http://127.0.0.1:${port} (from --url): ECONNREFUSED`);
  });

  it('a stopped server removes its server.json; the CLI then falls back to the default and says so', async () => {
    await other.stop();
    await until(async () => !existsSync(path.join(otherData, 'server.json')), 10_000);
    const result = await runCli(['calls', 'list', '--data', otherData], fresh);
    expect(result.stderr).toMatch(/http:\/\/127\.0\.0\.1:8080 \(the default\)/);
  });
});
