import { parseArgs } from 'node:util';
import { hangupCauses, isHangupCause } from '../shared/call-codes.js';
import { formatErrors, type CallView } from './call-format.js';
import { CliFailure, ServerClient, serverOptions, serverOptionsHelp } from './server-client.js';

export const callHelp = [
  'Usage: sautikit call --to NUMBER [--from NUMBER] [--press DIGITS] [--wait SECONDS] [--max-duration SECONDS] [--json] [server options]',
  '',
  'Places a sandbox call into a running server: a sandbox phone calls NUMBER (one of your numbers),',
  'waits, presses the digits, listens until the platform hangs up, and prints what happened; when the',
  'call failed, why (the call\'s hang-up cause and errors).',
  '',
  'Options:',
  '  --to NUMBER          the number to call (required)',
  '  --from NUMBER        the caller ID of the sandbox phone (default +254711000000)',
  '  --press DIGITS       keys to press once answered and --wait has passed',
  '  --wait SECONDS       seconds to wait before pressing (default 2)',
  '  --max-duration SEC   hang up after this long at the latest (default 60)',
  '  --json               print the sandbox report as JSON',
  ...serverOptionsHelp,
  '',
  'Exit codes: 0 the call ran, 1 it could not be placed or did not end, 2 bad options.',
].join('\n');

/** What the sandbox phone reports (`GET /v1/sandbox/calls/{id}`). */
interface SandboxReport {
  status: string;
  call_id: string | null;
  sip_status: number | null;
  ended_at: string | null;
  errors?: Array<{ code: string; message: string; step?: number }>;
  [field: string]: unknown;
}

/** Why the platform refused a sandbox phone's INVITE, by SIP status. */
const refusals: Record<number, string> = {
  402: 'the workspace\'s wallet cannot cover the call (SIP 402)',
  403: 'the platform refused the call (SIP 403)',
  404: 'no workspace has claimed this number (SIP 404): claim it with POST /v1/numbers',
  488: 'the platform found no codec in common with the phone (SIP 488)',
  503: 'the platform is shutting down (SIP 503)',
};

/** Exit codes: 0 the call ran, 1 it could not be placed or did not end, 2 bad options. */
export async function runCall(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv, allowPositionals: false, strict: true,
      options: {
        ...serverOptions, to: { type: 'string' }, from: { type: 'string' }, press: { type: 'string' }, wait: { type: 'string' },
        'max-duration': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' },
      },
    }));
  } catch (error) {
    err.write(`sautikit call: ${(error as Error).message.split('\n')[0]}\n(see sautikit call --help)\n`);
    return 2;
  }
  if (values['help']) {
    out.write(`${callHelp}\n`);
    return 0;
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
  try {
    const client = ServerClient.fromOptions(values);
    err.write(`Server: ${client.described}\n`);
    // The script: wait (the prompt plays), press the digits, then listen until the platform hangs up.
    const script: Array<Record<string, unknown>> = [{ wait }];
    if (typeof values['press'] === 'string') script.push({ press: values['press'] });
    const maxDuration = values['max-duration'] === undefined ? 60 : Number(values['max-duration']);
    const placed = await client.post<{ id: string; call_id: string | null }>('/v1/sandbox/calls', {
      to, ...(values['from'] ? { from: values['from'] } : {}), script, max_duration: maxDuration,
    });
    out.write(`Calling ${to} from the sandbox (call ${placed.call_id ?? 'not answered'})…\n`);
    const deadline = Date.now() + (maxDuration + 15) * 1000;
    let report = await client.get<SandboxReport>(`/v1/sandbox/calls/${placed.id}`);
    while (!report.ended_at && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      report = await client.get<SandboxReport>(`/v1/sandbox/calls/${placed.id}`);
    }
    const callId = report.call_id ?? placed.call_id;
    if (values['json']) {
      out.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      out.write([
        `status            ${String(report['status'])}`,
        `call id           ${String(callId)}`,
        `duration          ${String(report['duration_seconds'] ?? 0)} s`,
        `audio heard       ${String(report['audio_seconds_heard'])} s`,
        `beeps heard       ${String(report['beeps_heard'])}`,
        `digits heard      ${String(report['digits_heard']) || '(none)'}`,
        `hung up by        ${String(report['hangup_by'] ?? '-')}`,
      ].join('\n') + '\n');
      out.write(await whyText(client, report, callId));
      if (callId) out.write(`details           sautikit calls show ${callId}\n`);
    }
    return report.ended_at ? 0 : 1;
  } catch (error) {
    if (!(error instanceof CliFailure)) throw error;
    err.write(`sautikit call: ${error.message}\n`);
    return error.exitCode;
  }
}

/**
 * Why a call went as it did, when something went wrong: the platform
 * call's hang-up cause (what it means) and its errors, or why its INVITE
 * was refused. Empty for a call that completed without errors.
 */
async function whyText(client: ServerClient, report: SandboxReport, callId: string | null): Promise<string> {
  const lines: string[] = [];
  if (callId) {
    const call = await client.get<CallView>(`/v1/calls/${callId}`);
    const failed = call.status !== 'completed';
    if (failed && call.hangup_cause) {
      const meaning = isHangupCause(call.hangup_cause) ? ` (${hangupCauses[call.hangup_cause].summary})` : '';
      lines.push(`why               the call ended ${call.status}: ${call.hangup_cause}${meaning}`);
    }
    lines.push(...formatErrors(call.errors ?? []).map((line, i) => (i === 0 ? 'errors' : line)));
  } else if (report.status !== 'completed') {
    const refusal = report.sip_status ? refusals[report.sip_status] ?? `the platform answered SIP ${report.sip_status}` : 'the platform never answered the phone\'s INVITE';
    lines.push(`why               ${refusal}`);
  }
  for (const e of report.errors ?? []) lines.push(`  sandbox script ${e.code}: ${e.message}`);
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}
