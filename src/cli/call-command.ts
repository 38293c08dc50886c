import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

/** Exit codes: 0 the call ran, 1 it could not be placed or did not end, 2 bad options. */
export async function runCall(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv, allowPositionals: false, strict: true,
      options: {
        to: { type: 'string' }, from: { type: 'string' }, press: { type: 'string' }, wait: { type: 'string' },
        'max-duration': { type: 'string' }, url: { type: 'string' }, 'api-key': { type: 'string' }, data: { type: 'string' }, json: { type: 'boolean' },
      },
    }));
  } catch (error) {
    err.write(`sautikit call: ${(error as Error).message.split('\n')[0]}\n`);
    return 2;
  }
  const to = values['to'];
  if (typeof to !== 'string') {
    err.write('sautikit call: --to NUMBER is required (one of your numbers, e.g. +254700000001)\n');
    return 2;
  }
  const wait = values['wait'] === undefined ? 2 : Number(values['wait']);
  if (!Number.isFinite(wait) || wait < 0 || wait > 600) {
    err.write(`sautikit call: invalid --wait: '${String(values['wait'])}' is not a number of seconds\n`);
    return 2;
  }
  const base = String(values['url'] ?? process.env['SAUTIKIT_URL'] ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  let key = (values['api-key'] as string | undefined) ?? process.env['SAUTIKIT_API_KEY'];
  if (!key) {
    const file = path.join(String(values['data'] ?? process.env['SAUTIKIT_DATA'] ?? '.sautikit'), 'credentials.json');
    try {
      key = (JSON.parse(readFileSync(file, 'utf8')) as { api_key: string }).api_key;
    } catch {
      err.write(`sautikit call: no API key: pass --api-key, set SAUTIKIT_API_KEY, or run where ${file} exists\n`);
      return 2;
    }
  }
  // The script: wait (the prompt plays), press the digits, then listen until the platform hangs up.
  const script: Array<Record<string, unknown>> = [{ wait }];
  if (typeof values['press'] === 'string') script.push({ press: values['press'] });
  const maxDuration = values['max-duration'] === undefined ? 60 : Number(values['max-duration']);
  const headers = { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' };
  let placed: { id: string; call_id: string | null };
  try {
    const res = await fetch(`${base}/v1/sandbox/calls`, {
      method: 'POST', headers, body: JSON.stringify({ to, ...(values['from'] ? { from: values['from'] } : {}), script, max_duration: maxDuration }),
    });
    const body = (await res.json()) as { id: string; call_id: string | null; error?: { code: string; message: string } };
    if (!res.ok) {
      err.write(`sautikit call: ${body.error?.code ?? res.status}: ${body.error?.message ?? ''}\n`);
      return 1;
    }
    placed = body;
  } catch (error) {
    err.write(`sautikit call: cannot reach ${base}: ${(error as Error).message}\n`);
    return 1;
  }
  out.write(`Calling ${to} from the sandbox (call ${placed.call_id ?? 'not answered'})…\n`);
  const deadline = Date.now() + (maxDuration + 15) * 1000;
  for (;;) {
    const report = (await (await fetch(`${base}/v1/sandbox/calls/${placed.id}`, { headers })).json()) as Record<string, unknown>;
    if (report['ended_at'] || Date.now() > deadline) {
      if (values['json']) {
        out.write(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        out.write([
          `status            ${String(report['status'])}`,
          `call id           ${String(report['call_id'])}`,
          `duration          ${report['duration_seconds'] ?? 0} s`,
          `audio heard       ${String(report['audio_seconds_heard'])} s`,
          `beeps heard       ${String(report['beeps_heard'])}`,
          `digits heard      ${String(report['digits_heard']) || '(none)'}`,
          `hung up by        ${String(report['hangup_by'] ?? '-')}`,
        ].join('\n') + '\n');
        if (placed.call_id) out.write(`details           ${base}/v1/calls/${placed.call_id}\n`);
      }
      return report['ended_at'] ? 0 : 1;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
