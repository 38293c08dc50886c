import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseActions } from '../../src/actions/parse-actions.js';
import { signBody } from '../../src/webhooks/signer.js';
import { freePort } from '../helpers/cli-process.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';

/** The code blocks of a doc, by language. */
function blocks(doc: string, lang: string): string[] {
  const text = readFileSync(new URL(`../../docs/${doc}`, import.meta.url), 'utf8');
  return [...text.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
}

describe('the examples in docs/ work as written', () => {
  it('every JSON and XML answer in docs/actions.md parses into actions', () => {
    const json = blocks('actions.md', 'json').filter((b) => b.trim().startsWith('{"actions"') || b.trim().startsWith('['));
    const xml = blocks('actions.md', 'xml');
    expect(json.length + xml.length).toBeGreaterThanOrEqual(3);
    for (const b of json) expect(parseActions({ format: 'json', value: JSON.parse(b) }).length).toBeGreaterThan(0);
    for (const b of xml) expect(parseActions({ format: 'xml', text: b }).length).toBeGreaterThan(0);
  });

  it('every JSON example in the docs is valid JSON', () => {
    const docs = readdirSync(new URL('../../docs/', import.meta.url)).filter((f) => f.endsWith('.md'));
    let count = 0;
    for (const doc of docs) {
      for (const b of blocks(doc, 'json')) {
        expect(() => JSON.parse(b), `${doc}: ${b.slice(0, 80)}`).not.toThrow();
        count += 1;
      }
    }
    expect(count).toBeGreaterThan(20);
  });

  // The quick start promises `npm test` with nothing else installed: without python3 (outside CI) this one is skipped.
  const hasPython = (() => {
    try {
      execFileSync('python3', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      if (process.env['CI']) throw new Error('python3 is needed in CI to check the Python example of docs/webhooks.md');
      return false;
    }
  })();

  it.runIf(hasPython)('the Python signature check of docs/webhooks.md accepts our signature and refuses a tampered body', () => {
    const [python] = blocks('webhooks.md', 'python');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'verify-py-'));
    try {
      const body = '{"id":"evt_1","type":"call.hangup","data":{"call_id":"call_1"}}';
      const header = signBody(body, ['whsec_doc'], new Date());
      writeFileSync(path.join(dir, 'check.py'), `${python}\nimport sys\nprint(verify(sys.argv[1].encode(), sys.argv[2], 'whsec_doc'))\n`);
      expect(execFileSync('python3', [path.join(dir, 'check.py'), body, header]).toString().trim()).toBe('True');
      expect(execFileSync('python3', [path.join(dir, 'check.py'), body.replace('call_1', 'call_2'), header]).toString().trim()).toBe('False');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('docs/quick-start.md: the no-dependency app of "Your own app" answers a sandbox call', () => {
  let api: TestApi;
  let app: ReturnType<typeof spawn> | undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'quick-start-'));

  beforeAll(async () => {
    api = await startTestApi('sqlite');
  }, 60_000);
  afterAll(async () => {
    app?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    await api?.close();
  });

  it('runs the snippet as written (on a free port instead of 3000) and reaches the route with the digit pressed', async () => {
    // The whole walk-through, with the IVR example, is test/docs/quick-start.test.ts.
    const [snippet] = blocks('quick-start.md', 'js');
    const port = await freePort();
    writeFileSync(path.join(dir, 'ivr.mjs'), snippet!.replace(/(?<=[:(])3000\b/g, String(port)));
    app = spawn(process.execPath, [path.join(dir, 'ivr.mjs')], { stdio: 'ignore' });
    await until(async () => fetch(`http://127.0.0.1:${port}/ivr/welcome`, { method: 'POST', body: '{}' }).then(() => true, () => false), 10_000);
    const number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: `http://127.0.0.1:${port}/ivr/welcome` } })).json();
    const placed = (await api.call('POST', '/v1/sandbox/calls', { body: { to: number.number, script: [{ wait: 2 }, { press: '2' }], max_duration: 30 } })).json();
    const report = await until(async () => {
      const r = (await api.call('GET', `/v1/sandbox/calls/${placed.id}`)).json();
      return r.ended_at ? r : undefined;
    }, 40_000);
    expect(report).toMatchObject({ status: 'completed', hangup_by: 'platform' });
    const call = (await api.call('GET', `/v1/calls/${placed.call_id}`)).json();
    expect(call.errors).toEqual([]);
    expect(call.events.map((e: { status: string }) => e.status)).toContain('in-progress');
  }, 60_000);
});
